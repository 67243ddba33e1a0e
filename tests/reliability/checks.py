"""What a reliability test checks a call against: bounded time and documented error types."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple, Type

import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

import teslapy

#: The errors the README's "Errors" section and ``teslapy.errors`` document for a call
#: that fails for reasons outside the caller's code: Tesla's refusals, unusable replies,
#: the cache, the SSO (oauthlib) and the transport (every ``requests`` exception).
DOCUMENTED: Tuple[Type[BaseException], ...] = (teslapy.TeslaError, requests.RequestException,
                                               OAuth2Error)
#: Far beyond any timeout or deadline the tests set: a call still running then hangs.
HANG_AFTER = 15.0


@dataclass
class Outcome:
    """How one call ended: its result, the error it raised, or still running (``hung``)."""

    result: Any = None
    error: Optional[BaseException] = None
    hung: bool = False

    @property
    def undocumented(self) -> bool:
        """Whether the call raised something the documentation does not promise."""
        return self.error is not None and not isinstance(self.error, DOCUMENTED)

    def describe(self) -> str:
        if self.hung:
            return "hung"
        if self.error is not None:
            return f"{type(self.error).__name__}: {str(self.error)[:160]}"
        return "ok"


def bounded(call: Callable[[], Any], hang_after: float = HANG_AFTER) -> Outcome:
    """Run ``call`` in a thread of its own; an outcome with ``hung`` if it outlives ``hang_after``."""
    outcome = Outcome()
    done = threading.Event()

    def run() -> None:
        try:
            outcome.result = call()
        except BaseException as error:  # noqa: BLE001 - every error is the outcome
            outcome.error = error
        finally:
            done.set()

    threading.Thread(target=run, name="bounded-call", daemon=True).start()
    if not done.wait(hang_after):
        return Outcome(hung=True)
    return outcome
