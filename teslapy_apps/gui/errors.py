"""Failures in words for the window: what happened and what to do, with the code apart.

:func:`explain` gives a sentence for the dialog's message and the technical detail
(the HTTP status and Tesla's text, the car's reason code) for its detail line.
"""
from __future__ import annotations

from typing import Optional, Tuple

import requests

import teslapy
from teslapy_apps.common import describe_error, explain_refusal, http_message, one_line

SIGN_IN_HINT = "log in again (App > Log in...) in a browser or with a refresh token"
#: Refusals with a known meaning, said as :func:`describe_error` says them.
KNOWN_REFUSALS = (teslapy.TokenRejectedError, teslapy.CommandProtocolRequiredError,
                  teslapy.FleetApiRequiredError, teslapy.RateLimitError)
HTTP_WORDS = {
    401: "Tesla no longer accepts this login: log in again (App > Log in...).",
    403: "Tesla refused this request for this account or car.",
    404: "Tesla does not know this car or service: log in again to list your cars.",
}


def explain(error: BaseException, car: Optional[str] = None) -> Tuple[str, str]:
    """``(words, detail)`` for an error met while acting on ``car`` (its name)."""
    if isinstance(error, teslapy.VehicleError):
        reason = one_line(error)
        return explain_refusal(reason), "The car answered: %s" % reason
    if isinstance(error, requests.HTTPError) and error.response is not None:
        status = error.response.status_code
        detail = _shorten(http_message(error))
        if status == 408:
            return ("%s is asleep or offline: wake it up (Vehicle > Wake up) and try "
                    "again." % (car or "The car")), detail
        if isinstance(error, KNOWN_REFUSALS):
            return describe_error(error, car, sign_in_hint=SIGN_IN_HINT)[1] + ".", detail
        if status in HTTP_WORDS:
            return HTTP_WORDS[status], detail
        if status >= 500:
            return "Tesla's service failed to answer: try again later.", detail
        return "Tesla did not accept the request.", detail
    message = describe_error(error, sign_in_hint=SIGN_IN_HINT)[1]
    cause = error.__cause__ or error.__context__
    detail = "%s: %s" % (type(cause).__name__, one_line(cause)) if cause else \
        type(error).__name__
    return message, _shorten(detail)


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
