"""teslapy: monitor and control Tesla cars, Powerwalls and solar panels via the Owner API
or the Fleet API (:class:`TeslaFleet`, with signed commands).

Besides its own classes the package exports every exception class of
``requests.exceptions`` (``HTTPError``, ``ConnectionError``, ...) and of
``oauthlib.oauth2.rfc6749.errors`` (``CustomOAuth2Error``, ``InvalidGrantError``, ...),
so callers can catch them as ``teslapy.HTTPError`` and so on. The module names of
TeslaPy 1.5 (``BASE_URL``, ``SSO_BASE_URL``, ``STREAMING_BASE_URL``, ``CLIENT_ID``,
``SSO_CLIENT_ID``, ``HTMLForm``, ``PasswdFilter``) are kept; a script that sets
``teslapy.BASE_URL`` (or the SSO and streaming ones) changes the default host of the
``Tesla`` sessions it makes afterwards. The oauthlib errors, the streaming errors,
``HTMLForm`` and ``PasswdFilter`` are loaded when first used (the streaming package
with the first stream), so that ``import teslapy`` costs little more than ``import
requests``.
"""
from __future__ import annotations

__version__ = "1.6.0"

import importlib as _importlib
import logging as _logging
from typing import TYPE_CHECKING, Any, Dict, List

from requests.exceptions import (
    ChunkedEncodingError, ConnectionError, ConnectTimeout, ContentDecodingError,
    FileModeWarning, HTTPError, InvalidHeader, InvalidJSONError, InvalidProxyURL, InvalidSchema,
    InvalidURL, JSONDecodeError, MissingSchema, ProxyError, ReadTimeout, RequestException,
    RequestsDependencyWarning, RequestsWarning, RetryError, SSLError, StreamConsumedError,
    Timeout, TooManyRedirects, UnrewindableBodyError, URLRequired,
)

from urllib3.exceptions import HTTPError as BaseHTTPError  # requests.exceptions' name for it

from teslapy._types import JsonDict
from teslapy.auth import OWNER_API_CLIENT_ID as CLIENT_ID, SSO_CLIENT_ID
from teslapy.energy import Battery, Product, SolarPanel
from teslapy.errors import (
    CacheError, CommandProtocolRequiredError, FleetApiRequiredError, Http2UnavailableError,
    PartnerNotRegisteredError, ProductError, RateLimitError, RecaptchaRequiredError,
    ResponseError, TeslaError, TokenRejectedError, VehicleError, VehicleUnavailableError,
    WrongRegionError,
)
from teslapy.fleet import TeslaFleet
from teslapy.session import (
    DEFAULT_API_BASE_URL as BASE_URL,
    DEFAULT_SSO_BASE_URL as SSO_BASE_URL,
    DEFAULT_STREAMING_BASE_URL as STREAMING_BASE_URL,
    Tesla,
)
from teslapy.vehicle import Vehicle

if TYPE_CHECKING:  # loaded on first use at run time
    from teslapy.compat import HTMLForm, PasswdFilter
    from teslapy.streaming.errors import (
        StreamConnectionError, StreamConnectTimeout, StreamError, StreamFrameError,
        StreamInterruptedError, StreamRefusedError, StreamSSLError, StreamStalledError,
        StreamSubscriptionError,
    )
    from oauthlib.oauth2.rfc6749.errors import (
        AccessDeniedError, ConsentRequired, CustomOAuth2Error, FatalClientError,
        InsecureTransportError, InsufficientScopeError, InvalidClientError,
        InvalidClientIdError, InvalidGrantError, InvalidRedirectURIError, InvalidRequestError,
        InvalidRequestFatalError, InvalidScopeError, InvalidTokenError, LoginRequired,
        MismatchingRedirectURIError, MismatchingStateError, MissingClientIdError,
        MissingCodeChallengeError, MissingCodeError, MissingCodeVerifierError,
        MissingRedirectURIError, MissingResponseTypeError, MissingTokenError,
        MissingTokenTypeError, OAuth2Error, ServerError, TemporarilyUnavailableError,
        TokenExpiredError, UnauthorizedClientError, UnsupportedCodeChallengeMethodError,
        UnsupportedGrantTypeError, UnsupportedResponseTypeError, UnsupportedTokenTypeError,
    )

_STREAM_ERRORS = (
    "StreamError", "StreamRefusedError", "StreamConnectionError", "StreamSSLError",
    "StreamConnectTimeout", "StreamInterruptedError", "StreamStalledError", "StreamFrameError",
    "StreamSubscriptionError",
)

_OAUTH_ERRORS = (
    "AccessDeniedError", "ConsentRequired", "CustomOAuth2Error", "FatalClientError",
    "InsecureTransportError", "InsufficientScopeError", "InvalidClientError",
    "InvalidClientIdError", "InvalidGrantError", "InvalidRedirectURIError", "InvalidRequestError",
    "InvalidRequestFatalError", "InvalidScopeError", "InvalidTokenError", "LoginRequired",
    "MismatchingRedirectURIError", "MismatchingStateError", "MissingClientIdError",
    "MissingCodeChallengeError", "MissingCodeError", "MissingCodeVerifierError",
    "MissingRedirectURIError", "MissingResponseTypeError", "MissingTokenError",
    "MissingTokenTypeError", "OAuth2Error", "ServerError", "TemporarilyUnavailableError",
    "TokenExpiredError", "UnauthorizedClientError", "UnsupportedCodeChallengeMethodError",
    "UnsupportedGrantTypeError", "UnsupportedResponseTypeError", "UnsupportedTokenTypeError",
)

__all__ = [
    "Tesla", "TeslaFleet", "Vehicle", "Product", "Battery", "SolarPanel", "JsonDict", "__version__",
    # TeslaPy 1.5 module names
    "BASE_URL", "SSO_BASE_URL", "STREAMING_BASE_URL", "CLIENT_ID", "SSO_CLIENT_ID",
    "HTMLForm", "PasswdFilter",
    # teslapy's errors
    "TeslaError", "VehicleError", "ProductError", "CacheError", "ResponseError",
    "RecaptchaRequiredError", "Http2UnavailableError", "VehicleUnavailableError",
    "RateLimitError", "FleetApiRequiredError", "TokenRejectedError",
    "CommandProtocolRequiredError", "PartnerNotRegisteredError", "WrongRegionError",
    *_STREAM_ERRORS,
    # requests.exceptions
    "BaseHTTPError", "ChunkedEncodingError", "ConnectionError", "ConnectTimeout",
    "ContentDecodingError", "FileModeWarning", "HTTPError", "InvalidHeader", "InvalidJSONError",
    "InvalidProxyURL", "InvalidSchema", "InvalidURL", "JSONDecodeError", "MissingSchema",
    "ProxyError", "ReadTimeout", "RequestException", "RequestsDependencyWarning",
    "RequestsWarning", "RetryError", "SSLError", "StreamConsumedError", "Timeout",
    "TooManyRedirects", "UnrewindableBodyError", "URLRequired",
    # oauthlib.oauth2.rfc6749.errors
    *_OAUTH_ERRORS,
]


#: Names whose modules are imported when a name is first used: name -> module.
_ON_FIRST_USE: Dict[str, str] = {
    **dict.fromkeys(_OAUTH_ERRORS, "oauthlib.oauth2.rfc6749.errors"),   # oauthlib is slow to import
    **dict.fromkeys(_STREAM_ERRORS, "teslapy.streaming.errors"),      # so is the streaming package
    "HTMLForm": "teslapy.compat", "PasswdFilter": "teslapy.compat",
}


def __getattr__(name: str) -> Any:
    """Load a name of ``_ON_FIRST_USE`` from its module on first use."""
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_ON_FIRST_USE))


_logging.getLogger(__name__).addHandler(_logging.NullHandler())
