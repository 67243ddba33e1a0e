"""The Fleet API: Tesla's API for third-party apps, with commands signed by teslapy itself.

:class:`TeslaFleet` is the session (an app's own sign-in, regions, partner
registration, signed commands); :mod:`~teslapy.fleet.oauth` holds the app's
credentials and forms, :mod:`~teslapy.fleet.regions` the hosts, and
:mod:`~teslapy.fleet.signing` carries commands as Vehicle Command Protocol messages
(imported only when a command key is configured, so ``import teslapy`` stays light).
"""
from __future__ import annotations

from teslapy.fleet.oauth import DEFAULT_SCOPES, FleetApp
from teslapy.fleet.regions import REGIONS
from teslapy.fleet.session import TeslaFleet

__all__ = ["DEFAULT_SCOPES", "REGIONS", "FleetApp", "TeslaFleet"]
