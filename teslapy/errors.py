"""Exceptions raised by teslapy.

The tree::

    TeslaError                 base of the errors teslapy defines itself
    ├── VehicleError           a car refused a command or did not wake in time
    ├── ProductError           a Powerwall or solar command was not accepted
    └── CacheError             the token cache could not be read or written

API failures are :class:`requests.exceptions.HTTPError` whose message carries Tesla's
error text (``408 Client Error: vehicle unavailable ...``); OAuth failures are the
``oauthlib.oauth2.rfc6749.errors`` classes (``CustomOAuth2Error``, ``InvalidGrantError``).
Misuse raises ``ValueError``.
"""
from __future__ import annotations


class TeslaError(Exception):
    """Base class of the errors teslapy defines."""


class VehicleError(TeslaError):
    """A vehicle command returned ``result: false`` or the car did not come online."""


class ProductError(TeslaError):
    """An energy product command did not answer with code 201."""


class CacheError(TeslaError):
    """The token cache could not be read or written; the message names the file."""
