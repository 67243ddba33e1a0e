"""The signed-in account: its session, its cars and what was fetched for them.

Everything the window shows belongs to one :class:`Account` (and its selected car);
signing in again builds a new one from nothing. :class:`SignIn` is what the login
dialog returns: the email and the way to sign in (:mod:`teslapy_apps.signin`) with
its answer, and :func:`open_account` signs in that way through
:func:`~teslapy_apps.common.login`, asking the rest with :class:`WindowQuestions`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional

import teslapy
from teslapy_apps.common import (
    LoginCancelled, demo_cloud, login, open_session, simulator_options,
)
from teslapy_apps.signin import BROWSER, PASSWORD, SignInQuestions

#: Pasted addresses asked in a row before the browser sign-in gives up.
BROWSER_ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class SignIn:
    """How the user chose to sign in (the login dialog's answer).

    method: one of :mod:`teslapy_apps.signin`'s ways
    password: (optional) the password (PASSWORD); empty: the cached token, else asked
    refresh_token: (optional) the token to import (REFRESH_TOKEN); empty in the demo:
        the one the simulator hands out
    """

    email: str
    password: str = dataclasses.field(default="", repr=False)
    method: str = PASSWORD
    refresh_token: str = dataclasses.field(default="", repr=False)


class WindowQuestions(SignInQuestions):
    """The sign-in's questions answered in the window: first from the :class:`SignIn`,
    then in dialogs shown on the Tk thread.

    ask: runs a function on the Tk thread and returns its result (the worker's
        ``ask_main``)
    dialogs: the app's :class:`~teslapy_apps.gui.dialogs.Dialogs`
    """

    def __init__(self, sign_in: SignIn, ask: Callable[[Callable[[], Any]], Any],
                 dialogs: Any, token_source: Optional[Callable[[str], str]] = None,
                 ca_file: Optional[str] = None) -> None:
        super().__init__(sign_in.method, sign_in.refresh_token or None, token_source,
                         ca_file)
        self.ask = ask
        self.dialogs = dialogs
        self.problem = ""               # why the last pasted address did not work

    def password(self) -> str:
        """The password, asked in a dialog (empty: cancel)."""
        password = self.ask(self.dialogs.password)
        if not password:
            raise LoginCancelled("no password was given")
        return password

    def ask_refresh_token(self) -> str:
        """The login dialog is where a token is given: none there cancels."""
        raise LoginCancelled("no refresh token was given")

    def pasted_callback(self, url: str) -> str:
        """The address pasted into the browser dialog (empty: cancel), which says what
        was wrong with the last one."""
        problem, self.problem = self.problem, ""
        return self.ask(lambda: self.dialogs.browser_sign_in(url, problem)) or ""

    def tell(self, message: str) -> None:
        """Keep the reason for the browser dialog, which asks again."""
        self.problem = message


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

    def log_out(self) -> str:
        """Forget the account's tokens (in the cache too); Tesla's sign-out address."""
        return self.tesla.logout()

    def close(self) -> None:
        """Close the session (its HTTP connections)."""
        self._session.close()


def open_account(sign_in: SignIn, questions: Optional[SignInQuestions] = None,
                 **options: Any) -> Account:
    """Open a session, sign in and list the account's cars (on the worker thread).

    questions: (optional) asks what the sign-in needs beyond ``sign_in`` (a
        :class:`WindowQuestions`); without it, only the password way works
    options: ``Tesla`` keyword arguments (hosts, cache_file, MFA callbacks, ...)
    Raises whatever signing in raises (LoginFailed, LoginCancelled, HTTPError,
    RecaptchaRequiredError, network errors).
    """
    session = contextlib.ExitStack()
    try:
        tesla = session.enter_context(open_session(sign_in.email, sign_in.password or None,
                                                   **options))
        if questions is None:
            login(tesla)
        else:
            login(tesla, questions, BROWSER_ATTEMPTS if sign_in.method == BROWSER else 1)
        vehicles = tesla.vehicle_list()
    except BaseException:
        session.close()
        raise
    return Account(tesla, session, vehicles)


class DemoCloud:
    """The simulated Tesla cloud of ``--demo``, kept running across logins.

    It starts on first use; :meth:`options` gives the hosts and a private token cache,
    :meth:`refresh_token_for` a refresh token of any of its accounts. ``on_start`` is
    called with the running ``Simulator``.
    """

    def __init__(self, on_start: Optional[Callable[[Any], None]] = None) -> None:
        self.on_start = on_start
        self.simulator: Any = None
        self.cache_file = ""
        self._stack = contextlib.ExitStack()

    def options(self, email: Optional[str] = None) -> Dict[str, Any]:
        """``Tesla`` keyword arguments aiming at the simulator (its China hosts for an
        account ``email`` of that region) and trusting its CA (starts it)."""
        if self.simulator is None:
            self.simulator = self._stack.enter_context(demo_cloud())
            folder = self._stack.enter_context(
                tempfile.TemporaryDirectory(prefix="teslapy-demo-"))
            self.cache_file = os.path.join(folder, "cache.json")
            if self.on_start is not None:
                self.on_start(self.simulator)
        return dict(simulator_options(self.simulator, email=email),
                    cache_file=self.cache_file)

    def refresh_token_for(self, email: str) -> str:
        """A fresh refresh token of the demo account ``email`` (starts the cloud).

        Raises ValueError for an account the demo fleet does not have.
        """
        self.options()
        return str(self.simulator.refresh_token_for(email))

    def close(self) -> None:
        self._stack.close()
