"""The ways the apps sign in, and what signing in asks of the person.

:func:`teslapy_apps.common.login` signs in one of these ways:

``BROWSER``        the person signs in in their own browser and pastes back the address
                   it ends on (``tesla://auth/callback?code=...``)
``CHROME``         a Chrome/Chromium window driven by Selenium catches that address
                   itself (only offered when :func:`chrome_available`)
``REFRESH_TOKEN``  a refresh token from another app (or the demo's simulator) is imported
``PASSWORD``       the password sign-in, for servers that still allow it

What it needs to know on the way it asks a :class:`SignInQuestions`; the terminal apps
answer on a terminal, the GUI in dialogs.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import webbrowser
from typing import Any, Callable, Optional, Tuple

BROWSER = "browser"
CHROME = "chrome"
REFRESH_TOKEN = "refresh token"
PASSWORD = "password"
#: The choices, as offered: the order stays, so a typed number always means the same.
METHODS: Tuple[Tuple[str, str], ...] = (
    (BROWSER, "In your browser (you paste back the address it ends on)"),
    (REFRESH_TOKEN, "With a refresh token (from another app)"),
    (PASSWORD, "With a password (servers that still allow it)"),
    (CHROME, "In a Chrome window (teslapy catches the address itself)"),
)
#: Where the Selenium authenticator lives (the library's ``selenium`` extra).
SELENIUM_AUTHENTICATOR_MODULE = "teslapy.selenium_auth"


def open_in_browser(url: str) -> bool:
    """Open ``url`` in the person's graphical browser; False when there is none to open.

    On a Unix desktop-less session (no ``DISPLAY``/``WAYLAND_DISPLAY`` and no
    ``BROWSER`` set) nothing is opened, so that a text browser never takes over the
    terminal the question is asked on.
    """
    unix_desktop = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
    if unix_desktop and not any(os.environ.get(name) for name in
                                ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")):
        return False
    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False


def chrome_available() -> bool:
    """Whether the Selenium authenticator and Selenium itself can be imported."""
    try:
        return (importlib.util.find_spec("selenium") is not None
                and importlib.util.find_spec(SELENIUM_AUTHENTICATOR_MODULE) is not None)
    except (ImportError, ValueError):
        return False


def chrome_authenticator(ca_file: Optional[str] = None) -> Callable[[str], str]:
    """The ``authenticator(url) -> url`` that signs in in a Chrome/Chromium window.

    ca_file: (optional) a CA to trust besides the system's (the demo's simulator)
    Raises ImportError when it is not installed (``pip install 'teslapy[selenium]'``).
    """
    if not chrome_available():
        raise ImportError("Signing in in a Chrome window needs Selenium and teslapy's "
                          "selenium extra: pip install 'teslapy[selenium]'")
    module: Any = importlib.import_module(SELENIUM_AUTHENTICATOR_MODULE)
    return module.SeleniumAuthenticator(ca_file=ca_file)


def offered_methods() -> Tuple[Tuple[str, str], ...]:
    """The ways to sign in that this installation offers, as ``(method, label)``."""
    return tuple((method, label) for method, label in METHODS
                 if method != CHROME or chrome_available())


class SignInQuestions:
    """What :func:`~teslapy_apps.common.login` asks while signing in; apps subclass it.

    method: how to sign in (one of the module's ways), or None: the cached token, else
        the way :meth:`choose_method` answers
    refresh_token: (optional) the refresh token to import, when it was given up front
    token_source: (optional) ``email -> refresh token`` used instead of asking for one
        (the demo's simulator hands out tokens of its accounts)
    ca_file: (optional) a CA the Chrome window should trust (the demo's simulator)
    ``password_accepted`` tells :func:`login` that the password got past the sign-in
    form in the last attempt (a factor or passcode was asked).
    """

    def __init__(self, method: Optional[str] = None, refresh_token: Optional[str] = None,
                 token_source: Optional[Callable[[str], str]] = None,
                 ca_file: Optional[str] = None) -> None:
        self.method = method
        self.given_token = refresh_token
        self.token_source = token_source
        self.ca_file = ca_file
        self.password_accepted = False

    def use_simulator(self, simulator: Any) -> None:
        """Sign in to the demo's simulator: unless a way was chosen, by importing the
        refresh token it hands out for the account."""
        self.token_source = simulator.refresh_token_for
        self.ca_file = simulator.ca_file
        if self.method is None:
            self.method = REFRESH_TOKEN

    def choose_method(self) -> str:
        """How to sign in when nothing is cached and no way was given."""
        raise NotImplementedError

    def password(self) -> str:
        """The account password."""
        raise NotImplementedError

    def refresh_token(self, email: str) -> str:
        """The refresh token to import for ``email``: the one given, else the token
        source's, else :meth:`ask_refresh_token`'s."""
        if self.given_token is not None:
            return self.given_token
        if self.token_source is not None:
            return self.token_source(email)
        return self.ask_refresh_token()

    def ask_refresh_token(self) -> str:
        """Ask for the refresh token to import."""
        raise NotImplementedError

    def callback(self, url: str, method: str) -> str:
        """The address the browser ended on after signing in at ``url`` (empty: cancel)."""
        if method == CHROME:
            return chrome_authenticator(self.ca_file)(url)
        return self.pasted_callback(url)

    def pasted_callback(self, url: str) -> str:
        """Show ``url``, let the person sign in in a browser, and read the pasted address."""
        raise NotImplementedError

    def tell(self, message: str) -> None:
        """Say why the last attempt failed, before the next one."""
        raise NotImplementedError
