"""The library's browser sign-in as the tests run it: a Chromium that reaches this
machine's loopback address only."""
from __future__ import annotations

from teslapy.selenium_auth import SeleniumAuthenticator

#: Chromium looks up no host name: the simulator is on 127.0.0.1, and the start page
#: some builds open (a search engine's) fails at once instead of waiting for a resolver
#: that may never answer (5 s on a machine without DNS, before the first page opens).
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


class LoopbackAuthenticator(SeleniumAuthenticator):
    """A :class:`SeleniumAuthenticator` whose browser goes nowhere but 127.0.0.1."""

    def options(self, profile: str):
        options = super().options(profile)
        options.add_argument(LOOPBACK_ONLY)
        return options
