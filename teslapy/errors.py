"""Exceptions raised by teslapy, and the one place that turns an error reply into one.

The tree::

    TeslaError                  base of the errors teslapy defines itself
    ├── VehicleError            a car refused a command or did not wake in time
    ├── ProductError            a Powerwall or solar command was not accepted
    ├── CacheError              the token cache could not be read or written
    ├── ResponseError           a Tesla service answered 2xx with a body teslapy cannot use
    │                           (not JSON, or a field it needs is missing), or with a
    │                           body larger than ``limits.MAX_REPLY_BYTES``
    ├── RecaptchaRequiredError  (also a ValueError) the password sign-in met a reCAPTCHA
    └── Http2UnavailableError   (also a requests.ConnectionError) a token could not be
                                minted over HTTP/2 with TLS 1.3, so none was minted

API failures are :class:`requests.exceptions.HTTPError` whose message carries Tesla's
error text (``408 Client Error: vehicle unavailable ...``). Refusals with a known
meaning are subclasses of it whose message ends with what to do:

    HTTPError
    ├── VehicleUnavailableError       408: the car is asleep or offline
    ├── RateLimitError                429: too many requests (``retry_after`` seconds)
    ├── FleetApiRequiredError         412: the Owner API no longer serves this endpoint
    ├── TokenRejectedError            403: the token was minted the way Tesla refuses
    ├── CommandProtocolRequiredError  403: the car takes only signed commands
    ├── PartnerNotRegisteredError     412: the Fleet API app is not registered in this region
    └── WrongRegionError              421: the account lives in another Fleet API region

The live stream's errors are ``StreamError`` and its subclasses, in
:mod:`teslapy.streaming.errors` (each also a ``requests`` error of the matching kind).

OAuth failures are the ``oauthlib.oauth2.rfc6749.errors`` classes
(``CustomOAuth2Error``, ``InvalidGrantError``, ``LoginRequired``). Misuse raises
``ValueError``. Transport errors (``ConnectionError``, ``Timeout``) pass through
untouched.
"""
from __future__ import annotations

import email.utils
import json
import logging
import math
import time
from http import HTTPStatus
from typing import Optional, Type

import requests

from teslapy._types import JsonDict

logger = logging.getLogger(__name__)


class TeslaError(Exception):
    """Base class of the errors teslapy defines."""


class VehicleError(TeslaError):
    """A vehicle command returned ``result: false`` or the car did not come online."""


class ProductError(TeslaError):
    """An energy product command did not answer with code 201."""


class CacheError(TeslaError):
    """The token cache could not be read or written; the message names the file."""


class ResponseError(TeslaError):
    """A Tesla service answered with a body teslapy cannot use.

    ``response`` holds the :class:`requests.Response` when there was one.
    """

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class RecaptchaRequiredError(TeslaError, ValueError):
    """The SSO wants a reCAPTCHA, which only a browser can solve: the password sign-in cannot go on."""

    def __init__(self, message: Optional[str] = None) -> None:
        super().__init__(message or (
            "Credentials rejected. Recaptcha is required: Tesla's sign-in page now needs a "
            "browser. Sign in in a browser instead (Tesla(email) with no password, or "
            "authorization_url() then fetch_token(authorization_response=...); cli.py --browser), "
            "or import a refresh token (tesla.refresh_token(refresh_token=...); cli.py -R)"))


class Http2UnavailableError(TeslaError, requests.ConnectionError):
    """HTTP/2 with TLS 1.3 could not be had with the SSO, so no token was minted.

    Tesla refuses tokens minted over other connections; teslapy never falls back.
    """


SIGN_IN_AGAIN = ("sign in again with teslapy (in a browser, or by importing a refresh token "
                 "from an app that mints tokens over HTTP/2)")


class VehicleUnavailableError(requests.HTTPError):
    """408: the car is asleep or offline; wake it with ``sync_wake_up()`` and try again."""

    hint = "The car is asleep or offline: wake it (sync_wake_up(), cli.py -w) and try again."


class RateLimitError(requests.HTTPError):
    """429: Tesla limits how often an account may call; ``retry_after`` says when to retry."""

    hint = "Tesla is rate limiting this account: wait before calling again."

    def __init__(self, *args: object, retry_after: Optional[float] = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class FleetApiRequiredError(requests.HTTPError):
    """412: the Owner API no longer serves this endpoint; it is only on the Fleet API."""

    hint = "Tesla serves this endpoint only on the Fleet API now."


class TokenRejectedError(requests.HTTPError):
    """403: Tesla refuses the token itself (minted by a client that does not look like its app)."""

    hint = ("Tesla refused this token because it was not minted the way Tesla's app mints it "
            "(HTTP/2 with TLS 1.3): " + SIGN_IN_AGAIN + ".")


class CommandProtocolRequiredError(requests.HTTPError):
    """403: the car takes only commands signed with the Vehicle Command Protocol."""

    hint = ("This car accepts only signed commands (the Vehicle Command Protocol): send them "
            "through the Fleet API with a command key the car has paired (TeslaFleet(..., "
            "command_key=...); cli.py --command-key).")


class PartnerNotRegisteredError(requests.HTTPError):
    """412: the Fleet API app has not registered its domain in this region."""

    hint = ("Register the app's domain in this region once, with a partner token: "
            "TeslaFleet.register_partner(domain) (POST api/1/partner_accounts), then try again.")


class WrongRegionError(requests.HTTPError):
    """421: the account is served by another Fleet API region (its URL is in the message)."""

    hint = "Use the Fleet API base URL of the account's region (TeslaFleet follows it once)."


def retry_after(response: requests.Response, now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), else None.

    A number that is not finite (``inf``, ``nan``, ``1e999``) is no answer: None.
    """
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


def refusal_class(status: int, reason: str) -> Optional[Type[requests.HTTPError]]:
    """The :class:`requests.HTTPError` subclass for a refusal with a known meaning, or None."""
    if status == 408:
        return VehicleUnavailableError
    if status == 429:
        return RateLimitError
    if status == 412:
        if "must be registered" in reason.lower():
            return PartnerNotRegisteredError
        return FleetApiRequiredError
    if status == 421:
        return WrongRegionError
    if status == 403:
        text = reason.lower()
        if text.startswith("forbidden, see") and "fleet-api" in text:
            return TokenRejectedError
        if "vehicle command protocol required" in text:
            return CommandProtocolRequiredError
    return None


def error_reason(response: requests.Response) -> str | None:
    """Tesla's error text from a JSON error body, or None when the body is not an object.

    The non-empty values of the object, in order, each stripped of leading and trailing
    ``.``, joined with ``. `` (non-string values are written as JSON).
    """
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    parts = []
    for value in body.values():
        if value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        text = text.strip(".")
        if text:
            parts.append(text)
    return ". ".join(parts) if parts else None


def raise_for_status(response: requests.Response) -> None:
    """Raise ``HTTPError`` for a 4xx/5xx reply, with Tesla's error text as the reason.

    The message reads ``<status> Client Error: <reason> for url: <url>`` (``Server
    Error`` for 5xx), where the reason is :func:`error_reason` of a JSON object body and
    the server's reason phrase otherwise (the standard phrase when the server sent none).

    Refusals with a known meaning raise the matching subclass (see the module
    docstring), whose message ends with what to do.

    Raises:
        requests.HTTPError: the status is 400-599 (``.response`` is set).
    """
    if not 400 <= response.status_code < 600:
        return
    reason = error_reason(response)
    if reason is not None:
        response.reason = reason
    elif not response.reason:
        try:
            response.reason = HTTPStatus(response.status_code).phrase
        except ValueError:
            pass
    refusal = refusal_class(response.status_code, response.reason or "")
    if refusal is None:
        response.raise_for_status()
        return
    kind = "Client" if response.status_code < 500 else "Server"
    message = (f"{response.status_code} {kind} Error: {response.reason} for url: {response.url}. "
               f"{getattr(refusal, 'hint', '')}").rstrip()
    if refusal is RateLimitError:
        raise RateLimitError(message, response=response, retry_after=retry_after(response))
    raise refusal(message, response=response)


def json_body(response: requests.Response, what: str) -> object:
    """The reply's JSON, objects as :class:`~teslapy.JsonDict`.

    Raises:
        ResponseError: the body is empty, not JSON, or nested too deeply to read
            (``what`` names the reply in the message).
    """
    if not response.content.strip():
        raise ResponseError(f"{what}: the reply ({response.status_code}) is empty", response)
    try:
        return response.json(object_pairs_hook=JsonDict)
    except (ValueError, RecursionError):
        kind = response.headers.get("Content-Type") or "unknown type"
        raise ResponseError(f"{what}: the reply ({response.status_code}, {kind}) is not JSON",
                            response) from None
