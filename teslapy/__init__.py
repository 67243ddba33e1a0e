"""teslapy: monitor and control Tesla cars, Powerwalls and solar panels via the Owner API
or the Fleet API (:class:`TeslaFleet`, with signed commands).

Besides its own classes the package exports every exception class of
``requests.exceptions`` (``HTTPError``, ``ConnectionError``, ...) and of
``oauthlib.oauth2.rfc6749.errors`` (``CustomOAuth2Error``, ``InvalidGrantError``, ...),
so callers can catch them as ``teslapy.HTTPError`` and so on.
"""
from __future__ import annotations

__version__ = "1.6.0"

import logging as _logging

import oauthlib.oauth2.rfc6749.errors as _oauth_errors
import requests.exceptions as _requests_exceptions

from teslapy._types import JsonDict
from teslapy.energy import Battery, Product, SolarPanel
from teslapy.errors import (
    CacheError, CommandProtocolRequiredError, FleetApiRequiredError, Http2UnavailableError,
    PartnerNotRegisteredError, ProductError, RateLimitError, RecaptchaRequiredError,
    ResponseError, TeslaError, TokenRejectedError, VehicleError, VehicleUnavailableError,
    WrongRegionError,
)
from teslapy.fleet import TeslaFleet
from teslapy.session import Tesla
from teslapy.vehicle import Vehicle


def _exception_classes(module) -> dict:
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and isinstance(value, type)
            and issubclass(value, BaseException)}


_REEXPORTED = {**_exception_classes(_requests_exceptions), **_exception_classes(_oauth_errors)}
globals().update(_REEXPORTED)

__all__ = [
    "Tesla", "TeslaFleet", "Vehicle", "Product", "Battery", "SolarPanel", "JsonDict",
    "TeslaError", "VehicleError", "ProductError", "CacheError", "ResponseError",
    "RecaptchaRequiredError", "Http2UnavailableError", "VehicleUnavailableError",
    "RateLimitError", "FleetApiRequiredError", "TokenRejectedError",
    "CommandProtocolRequiredError", "PartnerNotRegisteredError", "WrongRegionError",
    "__version__", *sorted(_REEXPORTED),
]

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
