"""Exceptions raised by teslapy, and the one place that turns an error reply into one.

The tree::

    TeslaError                 base of the errors teslapy defines itself
    ├── VehicleError           a car refused a command or did not wake in time
    ├── ProductError           a Powerwall or solar command was not accepted
    ├── CacheError             the token cache could not be read or written
    └── ResponseError          a Tesla service answered 2xx with a body teslapy cannot use
                               (not JSON, or a field it needs is missing)

API failures are :class:`requests.exceptions.HTTPError` whose message carries Tesla's
error text (``408 Client Error: vehicle unavailable ...``); OAuth failures are the
``oauthlib.oauth2.rfc6749.errors`` classes (``CustomOAuth2Error``, ``InvalidGrantError``).
Misuse raises ``ValueError``. Transport errors (``ConnectionError``, ``Timeout``) pass
through untouched.
"""
from __future__ import annotations

import json
import logging
from http import HTTPStatus

import requests

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


def error_reason(response: requests.Response) -> str | None:
    """Tesla's error text from a JSON error body, or None when the body is not an object.

    The non-empty values of the object, in order, each stripped of leading and trailing
    ``.``, joined with ``. `` (non-string values are written as JSON).
    """
    try:
        body = response.json()
    except ValueError:
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

    Raises:
        requests.HTTPError: the status is 400-599 (``.response`` is set).
    """
    if 400 <= response.status_code < 600:
        reason = error_reason(response)
        if reason is not None:
            response.reason = reason
        elif not response.reason:
            try:
                response.reason = HTTPStatus(response.status_code).phrase
            except ValueError:
                pass
    response.raise_for_status()
