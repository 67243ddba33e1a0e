"""The signed-in account: its session, its cars and what was fetched for them.

Everything the window shows belongs to one :class:`Account` (and its selected car);
signing in again builds a new one from nothing. :class:`SignIn` is what the login
dialog returns. Today it carries an email and a password; other ways of signing in
(a browser, a refresh token) become further ``method`` values, each handled in
:func:`open_account`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional

import teslapy
from teslapy_apps.common import URL_SETTINGS, demo_cloud, login, open_session

PASSWORD = "password"


@dataclasses.dataclass(frozen=True)
class SignIn:
    """How the user chose to sign in (the login dialog's answer)."""

    email: str
    password: str = dataclasses.field(default="", repr=False)
    method: str = PASSWORD


class Account:
    """One signed-in account: its ``Tesla`` session, its cars and their images."""

    def __init__(self, tesla: teslapy.Tesla, session: contextlib.ExitStack,
                 vehicles: List[teslapy.Vehicle]) -> None:
        self.tesla = tesla
        self.vehicles = vehicles
        self.images: Dict[str, bytes] = {}      # composed pictures by VIN
        self._session = session

    @property
    def email(self) -> str:
        return self.tesla.email

    def close(self) -> None:
        """Close the session (its HTTP connections)."""
        self._session.close()


def open_account(sign_in: SignIn, **options: Any) -> Account:
    """Open a session, sign in and list the account's cars (on the worker thread).

    options: ``Tesla`` keyword arguments (hosts, cache_file, MFA callbacks, ...)
    Raises ValueError for an unknown method, and whatever signing in raises
    (LoginFailed, LoginCancelled, HTTPError, network errors).
    """
    if sign_in.method != PASSWORD:
        raise ValueError("Unknown sign-in method: %r" % sign_in.method)
    session = contextlib.ExitStack()
    try:
        tesla = session.enter_context(open_session(sign_in.email, sign_in.password or None,
                                                   **options))
        login(tesla)
        vehicles = tesla.vehicle_list()
    except BaseException:
        session.close()
        raise
    return Account(tesla, session, vehicles)


class DemoCloud:
    """The simulated Tesla cloud of ``--demo``, kept running across logins.

    It starts on first use; :meth:`options` gives the hosts and a private token cache.
    ``on_start`` is called with the running ``Simulator``.
    """

    def __init__(self, on_start: Optional[Callable[[Any], None]] = None) -> None:
        self.on_start = on_start
        self._stack = contextlib.ExitStack()
        self._options: Optional[Dict[str, str]] = None

    def options(self) -> Dict[str, str]:
        """``Tesla`` keyword arguments aiming at the simulator (starts it)."""
        if self._options is None:
            simulator = self._stack.enter_context(demo_cloud())
            folder = self._stack.enter_context(
                tempfile.TemporaryDirectory(prefix="teslapy-demo-"))
            self._options = {name: simulator.urls[name] for name in URL_SETTINGS}
            self._options["cache_file"] = os.path.join(folder, "cache.json")
            if self.on_start is not None:
                self.on_start(simulator)
        return dict(self._options)

    def close(self) -> None:
        self._stack.close()
