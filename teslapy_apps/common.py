"""What the three apps share: demo startup, the session, login, errors and exit codes.

Every app opens its session with :func:`open_session`. With ``demo=True`` it starts the
simulated Tesla cloud in this process under Tesla's rules of today (the ``teslasim``
package, imported only then), points the :class:`teslapy.Tesla` at it, trusts the CA
of its TLS sign-in server and keeps the tokens in a temporary cache; the demo then
signs in by importing the refresh token the simulator hands out for the account.
Otherwise the library talks to Tesla's hosts, or to the hosts in the ``TESLAPY_*``
environment variables, which the library reads itself.

Signing in goes through :func:`login`, the one place that picks the way to sign in
(:mod:`teslapy_apps.signin`: a browser, a refresh token, a password); the terminal apps
ask its questions with :class:`LoginQuestions` over a :class:`Terminal`. Errors a user
can cause or meet are turned into one line in words and an :class:`ExitCode` by
:func:`describe_error`; :func:`run_app` applies that to a whole app run.
"""
from __future__ import annotations

import argparse
import builtins
import contextlib
import enum
import getpass
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import traceback
from typing import Any, Callable, Iterator, List, Optional, Sequence, TextIO, Tuple
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2.rfc6749.errors import (
    InvalidGrantError, LoginRequired, MismatchingStateError, OAuth2Error,
)

import teslapy
from teslapy import codes, prompts
from teslapy_apps.signin import (
    BROWSER, CHROME, PASSWORD, REFRESH_TOKEN, SignInQuestions, offered_methods, open_in_browser,
)

logger = logging.getLogger(__name__)

DEMO_EMAIL = "elon@tesla.com"
DEMO_PASSWORD = "starship"
DEMO_RULES = "2026"             # the demo shows Tesla as it is today
Geocoder = Callable[[float, float], Optional[str]]
URL_SETTINGS = ("sso_base_url", "api_base_url", "streaming_base_url", "compositor_url")


class ExitCode(enum.IntEnum):
    """Exit status of the apps; each kind of failure has its own code.

    When several things fail in one run, the run exits with the highest code.
    """

    OK = 0
    ERROR = 1                  # anything not listed below
    USAGE = 2                  # bad command line (argparse uses 2 as well)
    LOGIN_FAILED = 3           # wrong password or passcode, cancelled login, no cached token
    VEHICLE_UNAVAILABLE = 4    # the car is asleep or offline (HTTP 408), or did not wake
    REFUSED = 5                # a vehicle or energy product refused the command
    API_ERROR = 6              # any other error reply from the API
    NETWORK = 7                # the host could not be reached or timed out
    NOT_FOUND = 8              # no product matches the selection
    RECAPTCHA_REQUIRED = 9     # the password sign-in met Tesla's reCAPTCHA: use a browser
    LOGIN_EXPIRED = 10         # Tesla refused the refresh token (or code): used, revoked, expired
    TOKEN_REJECTED = 11        # Tesla refused the token itself: not minted over HTTP/2 + TLS 1.3
    HTTP2_UNAVAILABLE = 12     # no HTTP/2 with TLS 1.3 to the SSO, so no token was minted
    COMMAND_PROTOCOL_REQUIRED = 13  # the car takes only signed commands (Fleet API)
    FLEET_API_REQUIRED = 14    # the request is served only on the Fleet API (HTTP 412)
    RATE_LIMITED = 15          # too many requests (HTTP 429)
    INTERRUPTED = 130          # Ctrl-C


class LoginFailed(Exception):
    """Logging in did not succeed; the message says why and what to try."""


class LoginCancelled(LoginFailed):
    """The user cancelled the login (an empty factor choice or passcode)."""


class AppError(Exception):
    """A failure the app itself detects, carrying its exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code


# -- logging and running an app ---------------------------------------------------------

def configure_logging(debug: bool, stream: Optional[TextIO] = None) -> Callable[[], None]:
    """Log at DEBUG to ``stream`` (stderr) with ``debug``, else only warnings.

    Without ``debug`` the HTTP library's own retry warnings stay quiet: the app
    reports the failure itself, in one line. Returns a function that undoes this
    (for apps run in-process, as the tests do).
    """
    root, urllib3 = logging.getLogger(), logging.getLogger("urllib3")
    saved = (root.level, urllib3.level)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s" if debug else "%(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    if not debug:
        urllib3.setLevel(logging.ERROR)

    def undo() -> None:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        urllib3.setLevel(saved[1])

    return undo


def report_error(error: BaseException, debug: bool = False,
                 stream: Optional[TextIO] = None,
                 sign_in_hint: Optional[str] = None) -> ExitCode:
    """Print the one-line message (and with ``debug`` the traceback) to stderr."""
    stream = stream or sys.stderr
    code, message = describe_error(error, sign_in_hint=sign_in_hint or SIGN_IN_AGAIN)
    if debug and not isinstance(error, KeyboardInterrupt):
        traceback.print_exception(type(error), error, error.__traceback__, file=stream)
    if isinstance(error, EOFError) or (isinstance(error, KeyboardInterrupt)
                                       and stream.isatty()):
        print(file=stream)              # end the unanswered prompt's line
    print(message, file=stream)
    return code


def run_app(body: Callable[[], int], debug: bool = False,
            stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None,
            sign_in_hint: Optional[str] = None) -> int:
    """Run an app's body; errors become a message on ``stderr`` and an exit code.

    When the reader of ``stdout`` goes away (``| head``) the app stops quietly.
    sign_in_hint: (optional) how to sign in anew, in the app's terms
    """
    stdout = stdout or sys.stdout
    try:
        return int(body())
    except BrokenPipeError:
        if stdout is sys.__stdout__ and stdout is not None:  # no flush into the closed pipe
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return int(ExitCode.OK)
    except (Exception, KeyboardInterrupt) as error:
        return int(report_error(error, debug, stderr, sign_in_hint))


# -- errors in words --------------------------------------------------------------------

def one_line(text: object) -> str:
    """Collapse a message to one line."""
    return " ".join(str(text).split())


def http_message(error: requests.HTTPError) -> str:
    """An HTTP error as ``'<status> <reason>: <Tesla's message>'``, without the URL."""
    return one_line(error).split(" for url: ", 1)[0]


def network_message(error: requests.RequestException) -> str:
    """A connection failure as ``'Cannot reach <host> (<reason>): <what to check>'``."""
    url = getattr(error.request, "url", None) or ""
    host = urlsplit(url).netloc or "the Tesla service"
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
    if reason:
        why = reason.group(1).strip()
    elif isinstance(error, requests.Timeout):
        why = "timed out"
    else:
        why = type(error).__name__
    if isinstance(error, requests.exceptions.ProxyError):
        why = "through the proxy: " + why
    return "Cannot reach %s (%s): check the network, proxy and host settings" % (host, why)


def error_detail(error: BaseException) -> str:
    """The error's own text in one line (an HTTP error without its URL), for details."""
    if isinstance(error, requests.HTTPError):
        return http_message(error)
    return one_line(error) or type(error).__name__


#: How to sign in again, in words any app can use (each app may name its own way).
SIGN_IN_AGAIN = "sign in again, in a browser or with a refresh token"
#: The SSO refused a grant: the refresh token (or code) is unknown, spent or revoked.
REFUSED_GRANTS = (LoginRequired, InvalidGrantError)


def describe_error(error: BaseException, product: Optional[str] = None,
                   wake_hint: str = "wake it up first",
                   sign_in_hint: str = SIGN_IN_AGAIN) -> Tuple[ExitCode, str]:
    """Turn an exception a user can meet into an exit code and a one-line message.

    product: (optional) the name of the car or site the failed call was for; the
        message names it
    wake_hint: (optional) what to do about an asleep car, in the app's own terms
    sign_in_hint: (optional) how to sign in anew, in the app's own terms
    """
    subject = product or "The car"
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "Interrupted."
    if isinstance(error, EOFError):
        return ExitCode.LOGIN_FAILED, (
            "Input ended before a login question was answered: run it on a terminal")
    if isinstance(error, AppError):
        return error.code, one_line(error)
    if isinstance(error, LoginCancelled):
        return ExitCode.LOGIN_FAILED, "Login cancelled."
    if isinstance(error, LoginFailed) and isinstance(error.__cause__, REFUSED_GRANTS):
        error = error.__cause__
    if isinstance(error, REFUSED_GRANTS):
        return ExitCode.LOGIN_EXPIRED, (
            "Tesla no longer accepts this sign-in (its refresh token or code is unknown, "
            "used already, revoked or expired): " + sign_in_hint)
    if isinstance(error, teslapy.RecaptchaRequiredError):
        return ExitCode.RECAPTCHA_REQUIRED, (
            "Tesla's sign-in page asks for a reCAPTCHA, which only a browser can solve, so "
            "the password sign-in cannot go on: " + sign_in_hint)
    if isinstance(error, (LoginFailed, OAuth2Error)):
        return ExitCode.LOGIN_FAILED, "Login failed: " + one_line(error)
    if isinstance(error, requests.HTTPError):
        return http_error_words(error, subject, wake_hint, sign_in_hint)
    if isinstance(error, teslapy.Http2UnavailableError):       # says what to do itself
        return ExitCode.HTTP2_UNAVAILABLE, one_line(error)
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return ExitCode.NETWORK, network_message(error)
    if isinstance(error, teslapy.VehicleError):
        return ExitCode.REFUSED, "%s refused: %s" % (subject, refusal_words(str(error)))
    if isinstance(error, teslapy.ProductError):
        return ExitCode.REFUSED, "%s did not accept it: %s" % (product or "The product",
                                                                one_line(error))
    if isinstance(error, teslapy.CacheError):
        return ExitCode.ERROR, "Token cache: " + one_line(error)
    if isinstance(error, teslapy.TeslaError):      # e.g. a malformed reply
        return ExitCode.API_ERROR, "%s: %s" % (type(error).__name__, one_line(error))
    if isinstance(error, ValueError):
        return ExitCode.USAGE, one_line(error)
    return ExitCode.ERROR, "%s: %s" % (type(error).__name__, one_line(error))


def http_error_words(error: requests.HTTPError, subject: str, wake_hint: str,
                     sign_in_hint: str = SIGN_IN_AGAIN) -> Tuple[ExitCode, str]:
    """An error reply of the API in words, each refusal with a known meaning with its
    own code; the status and Tesla's text are left for the detail."""
    status = getattr(error.response, "status_code", None)
    if isinstance(error, teslapy.VehicleUnavailableError) or status == 408:
        return ExitCode.VEHICLE_UNAVAILABLE, "%s is asleep or offline: %s" % (subject,
                                                                             wake_hint)
    if isinstance(error, teslapy.RateLimitError):
        wait = (" (about %d s)" % math.ceil(error.retry_after)
                if error.retry_after is not None else "")
        return ExitCode.RATE_LIMITED, ("Tesla is rate limiting this account: wait before "
                                       "calling again%s" % wait)
    if isinstance(error, teslapy.TokenRejectedError):
        return ExitCode.TOKEN_REJECTED, (
            "Tesla refused the token: it was not minted the way Tesla's app mints it "
            "(over HTTP/2 with TLS 1.3): " + sign_in_hint)
    if status == 401:
        return ExitCode.LOGIN_FAILED, ("Tesla no longer accepts the login (401): "
                                       + sign_in_hint)
    if isinstance(error, teslapy.CommandProtocolRequiredError):
        return ExitCode.COMMAND_PROTOCOL_REQUIRED, (
            "%s accepts only commands signed with Tesla's Vehicle Command Protocol, through "
            "the Fleet API with a paired command key (cli.py --fleet --command-key KEY)"
            % subject)
    if isinstance(error, teslapy.FleetApiRequiredError):
        return ExitCode.FLEET_API_REQUIRED, (
            "Tesla answers this request only on its Fleet API now, which this app does not use")
    if status is not None and status >= 500:
        return ExitCode.API_ERROR, ("Tesla's service failed (%s): try again later"
                                    % http_message(error))
    return ExitCode.API_ERROR, http_message(error)


# -- asking on a terminal ---------------------------------------------------------------

class Terminal:
    """An app's terminal: line input, hidden input, output, size and the person's browser;
    replaceable in tests.

    read: (optional) ``prompt -> line``; raises EOFError at the end of input
    read_secret: (optional) the same without echo
    write: (optional) prints one line
    size: (optional) ``() -> os.terminal_size`` (columns, lines)
    open_url: (optional) opens an address in the person's browser; False when it cannot
    """

    def __init__(self, read: Callable[[str], str] = builtins.input,
                 read_secret: Callable[[str], str] = getpass.getpass,
                 write: Callable[..., None] = builtins.print,
                 size: Callable[[], os.terminal_size] = shutil.get_terminal_size,
                 open_url: Callable[[str], Any] = open_in_browser) -> None:
        self.read = read
        self.read_secret = read_secret
        self.write = write
        self.size = size
        self.open_url = open_url

    @classmethod
    def over_streams(cls, stdin: TextIO, stderr: TextIO,
                     open_url: Callable[[str], Any] = open_in_browser) -> "Terminal":
        """Questions on ``stderr``, answers from ``stdin`` (hidden when it is a terminal)."""
        def read(prompt: str) -> str:
            stderr.write(prompt)
            stderr.flush()
            line = stdin.readline()
            if not line:
                raise EOFError
            return line.rstrip("\r\n")

        def read_secret(prompt: str) -> str:
            if stdin.isatty():
                return getpass.getpass(prompt, stream=stderr)
            return read(prompt)

        return cls(read, read_secret, lambda *parts: print(*parts, file=stderr),
                   open_url=open_url)

    def ask(self, prompt: str, secret: bool = False) -> str:
        """One line of input, stripped."""
        return (self.read_secret if secret else self.read)(prompt).strip()

    def ask_number(self, prompt: str, low: float, high: float, kind: type = int,
                   allow_empty: bool = True) -> Optional[Any]:
        """A number in [low, high]; asks again on bad input; empty input gives None."""
        while True:
            text = self.ask(prompt)
            if not text:
                if allow_empty:
                    return None
                continue
            try:
                value = kind(text)
            except ValueError:
                self.write("Please enter a number.")
                continue
            if low <= value <= high:
                return value
            self.write("Please enter a number from %s to %s." % (low, high))

    def choose(self, title: str, options: Sequence[str]) -> Optional[int]:
        """Numbered options, chosen by number or by name; the 0-based index, or None
        on empty input. Anything else asks again."""
        self.write(title)
        for number, option in enumerate(options, 1):
            self.write("  %d) %s" % (number, option))
        while True:
            text = self.ask("Choice [1-%d, empty to cancel]: " % len(options))
            if not text:
                return None
            if text.isdecimal() and 1 <= int(text) <= len(options):
                return int(text) - 1
            if text in options:
                return list(options).index(text)
            self.write("Please enter a number from 1 to %d." % len(options))


class LoginQuestions(SignInQuestions):
    """The sign-in questions on a terminal: the way to sign in, the address the browser
    ended on, a refresh token, the password, factor, passcode and captcha.

    terminal: where to ask
    method, refresh_token, token_source, ca_file: see
        :class:`~teslapy_apps.signin.SignInQuestions`
    """

    def __init__(self, terminal: Terminal, method: Optional[str] = None,
                 **options: Any) -> None:
        super().__init__(method, **options)
        self.terminal = terminal
        self.shown_url: Optional[str] = None

    def choose_method(self) -> str:
        """Which way to sign in; empty input cancels the login."""
        methods = offered_methods()
        index = self.terminal.choose("How do you want to sign in?",
                                     [label for _, label in methods])
        if index is None:
            raise LoginCancelled("no way to sign in was chosen")
        return methods[index][0]

    def password(self) -> str:
        """The account password; empty input asks again."""
        while True:
            password = self.terminal.ask("Password: ", secret=True)
            if password:
                return password

    def ask_refresh_token(self) -> str:
        """The refresh token, asked without echo; empty input cancels the login."""
        token = self.terminal.ask("Refresh token (not shown): ", secret=True)
        if not token:
            raise LoginCancelled("no refresh token was given")
        return token

    def pasted_callback(self, url: str) -> str:
        """Show ``url`` and open it in the browser (once per sign-in), then read the
        address the browser ended on."""
        if url != self.shown_url:
            if self.shown_url is not None:
                self.terminal.write()           # a new sign-in, apart from the last
            self.terminal.write(prompts.BROWSER_STEPS.format(url=url))
            if not self.terminal.open_url(url):
                self.terminal.write("(No browser could be opened here: open the address "
                                    "above in one.)")
            self.shown_url = url
        return self.terminal.ask("URL after signing in (empty to cancel): ")

    def tell(self, message: str) -> None:
        self.terminal.write(message)

    def factor(self, factors: List[dict]) -> Any:
        """One of the account's MFA devices; a mistyped choice asks again, empty
        input cancels the login."""
        self.password_accepted = True
        index = self.terminal.choose("Two-factor devices:",
                                     [str(f.get("name", "?")) for f in factors])
        return "" if index is None else factors[index]

    def passcode(self) -> str:
        """The device's passcode (not echoed); empty input cancels the login."""
        self.password_accepted = True
        return self.terminal.ask("Passcode: ", secret=True)

    def captcha(self, svg: bytes) -> str:
        """The captcha's characters; the image is saved to a file the user can open."""
        return captcha_in_terminal(svg, self._captcha_answer, self.terminal.write)

    def _captcha_answer(self, prompt: str) -> str:
        while True:
            answer = self.terminal.ask(prompt)
            if answer:
                return answer

    def options(self) -> dict:
        """The ``Tesla`` keyword arguments that ask these questions."""
        return {"passcode_getter": self.passcode, "factor_selector": self.factor,
                "captcha_solver": self.captcha}


def login(tesla: teslapy.Tesla, questions: Optional[SignInQuestions] = None,
          attempts: int = 1) -> None:
    """Sign in, or use the cached token: the one place the apps choose how to sign in.

    questions: (optional) how to sign in and what that asks (``questions.method``):
        None: the cached token; without one, the way ``questions.choose_method()`` gives.
        PASSWORD: the cached token; without one, the password sign-in (the password is
        asked when the session has none).
        BROWSER, CHROME, REFRESH_TOKEN: a new sign-in that way, whatever is cached.
        Without questions: the cached token, else the session's own way.
    attempts: (optional) how many times to try; after a failure the reason is told and
        only what was wrong is asked again: the password when it was the password (not
        the passcode or captcha), the pasted address (a new sign-in when the address
        belonged to another one), the refresh token
    Raises LoginCancelled when the person cancelled (an empty answer), LoginFailed when
    the sign-in was refused (the last attempt's reason; its cause is the library's
    error), RecaptchaRequiredError when the password sign-in cannot go on at all.
    """
    if questions is None:
        _signing_in(tesla.fetch_token)
        return
    method = questions.method
    if method in (None, PASSWORD) and tesla.authorized:
        return
    if method is None:
        method = questions.choose_method()
    started: Optional[str] = None           # the authorize URL of the browser sign-in
    for attempt in range(1, attempts + 1):
        questions.password_accepted = False
        try:
            if method in (BROWSER, CHROME):
                started = started or tesla.authorization_url()
                _sign_in_in_browser(tesla, questions, method, started)
            elif method == REFRESH_TOKEN:
                token = questions.refresh_token(tesla.email)
                _signing_in(lambda: tesla.refresh_token(refresh_token=token))
            else:
                if not tesla.password:
                    tesla.password = questions.password()
                _signing_in(tesla.fetch_token)
            return
        except LoginCancelled:
            raise
        except LoginFailed as error:
            if attempt == attempts or method == CHROME:
                raise
            questions.tell(describe_error(error)[1])
            if not isinstance(error.__cause__, ValueError):
                started = None              # the code was spent or not this sign-in's
            # A mistyped captcha has no error class of its own: the message names it.
            if (method == PASSWORD and not questions.password_accepted
                    and "captcha" not in str(error).lower()):
                tesla.password = None


def _sign_in_in_browser(tesla: teslapy.Tesla, questions: SignInQuestions, method: str,
                        url: str) -> None:
    """Finish the browser sign-in at ``url`` with the address the browser ended on."""
    try:
        answer = questions.callback(url, method).strip()
    except (ImportError, teslapy.TeslaError) as error:     # the Chrome window's failures
        raise LoginFailed(one_line(error)) from error
    if not answer:
        raise LoginCancelled("no address was pasted")
    _signing_in(lambda: tesla.fetch_token(authorization_response=answer))


def _signing_in(call: Callable[[], Any]) -> None:
    """Run one sign-in call; its refusals become LoginFailed (or LoginCancelled)."""
    try:
        call()
    except teslapy.RecaptchaRequiredError:
        raise                               # no answer makes the password sign-in work
    except MismatchingStateError as error:
        raise LoginFailed("That address belongs to another sign-in (an older tab or "
                          "window), or is not the one the browser ended on: sign in "
                          "again") from error
    except OAuth2Error as error:
        if error.error == "login_cancelled":
            raise LoginCancelled(one_line(error)) from error
        raise LoginFailed(one_line(error)) from error
    except ValueError as error:
        raise LoginFailed(one_line(error)) from error


def captcha_in_terminal(svg: bytes, ask: Callable[[str], str],
                        tell: Callable[[str], None]) -> str:
    """Save the captcha image to a private temporary file, say where, ask its characters.

    The file is removed once the question is answered (or interrupted).
    """
    handle, path = tempfile.mkstemp(prefix="teslapy-captcha-", suffix=".svg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(svg if isinstance(svg, bytes) else svg.encode())
        tell("The login form asks for a captcha: open %s to see it." % path)
        return ask("Captcha: ")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


# -- cars -----------------------------------------------------------------------------

def product_name(product: dict) -> str:
    """A car's or energy site's name as its owner knows it; else ``'solar site <id>'``
    for an unnamed energy site, or the VIN or id."""
    for key in ("display_name", "site_name"):
        if product.get(key):
            return str(product[key])
    if product.get("energy_site_id") is not None:
        return "%s site %s" % (product.get("resource_type") or "energy",
                               product["energy_site_id"])
    return str(product.get("vin") or product.get("id") or "?")


def wake_up(vehicle: teslapy.Vehicle, timeout: float = 60) -> None:
    """Wake the car up and wait until it is online.

    Raises AppError (VEHICLE_UNAVAILABLE) when it is not online within ``timeout``
    seconds, and what the library raises otherwise.
    """
    try:
        vehicle.sync_wake_up(timeout=timeout)
    except teslapy.VehicleError as error:
        raise AppError("%s did not wake up within %g seconds: it may be out of network "
                       "reach; try again later" % (product_name(vehicle), timeout),
                       ExitCode.VEHICLE_UNAVAILABLE) from error


def uses_fahrenheit(vehicle: teslapy.Vehicle) -> bool:
    """Whether the car shows temperatures in °F (its GUI settings; °C when unknown)."""
    return codes.uses_fahrenheit(vehicle.get("gui_settings") or {})


def temperature_in_car_units(celsius: float, fahrenheit: bool) -> float:
    """A temperature in °C converted to the car's unit."""
    return celsius * 9 / 5 + 32 if fahrenheit else celsius


def temperature_in_celsius(value: float, fahrenheit: bool) -> float:
    """A temperature in the car's unit converted to °C (what the API takes)."""
    return round((value - 32) * 5 / 9, 2) if fahrenheit else value


def charging_site_rows(vehicle: teslapy.Vehicle, sites: dict) -> list:
    """Nearby charging sites as (kind, name, distance in the car's units, free/total
    stalls) rows: superchargers first, then destination chargers."""
    rows = []
    for site in sites.get("superchargers") or []:
        rows.append(("Supercharger", site.get("name"),
                     str(vehicle.dist_units(site.get("distance_miles"))),
                     "%s/%s" % (site.get("available_stalls"), site.get("total_stalls"))))
    for site in sites.get("destination_charging") or []:
        rows.append(("Destination", site.get("name"),
                     str(vehicle.dist_units(site.get("distance_miles"))), ""))
    return rows


def nominatim_geocoder(timeout: float = 2.0) -> Optional[Geocoder]:
    """Reverse geocoding through geopy's Nominatim, or None when geopy is missing."""
    try:
        from geopy.geocoders import Nominatim
    except ImportError:
        return None
    locator = Nominatim(user_agent="teslapy-apps", timeout=timeout)

    def address(latitude: float, longitude: float) -> Optional[str]:
        location = locator.reverse((latitude, longitude))
        return location.address if location else None

    return address


class Places:
    """Names positions: the address when a geocoder answers, else the coordinates.

    After the geocoder's first failure (no network, no geopy service) it is not
    asked again, so a missing address service costs one timeout at most.
    """

    def __init__(self, geocoder: Optional[Geocoder] = None) -> None:
        self.geocoder = geocoder

    def describe(self, latitude: Optional[float], longitude: Optional[float]) -> str:
        """The address of a position, or ``'lat, lon'``; ``'-'`` without a position."""
        if latitude is None or longitude is None:
            return "-"
        if self.geocoder is not None:
            try:
                address = self.geocoder(latitude, longitude)
                if address:
                    return address
            except Exception as error:      # any geocoder failure: coordinates from now on
                logger.warning("Address lookup is not available (%s), showing coordinates",
                               type(error).__name__)
                logger.debug("Address lookup failed", exc_info=True)
                self.geocoder = None
        return "%.6f, %.6f" % (latitude, longitude)


def default_geocoder(args: argparse.Namespace) -> Optional[Geocoder]:
    """Nominatim unless the app runs ``--demo`` (no network) or ``--no-geocode``."""
    if args.demo or args.no_geocode:
        return None
    return nominatim_geocoder()


# -- options and the session ------------------------------------------------------------

def add_debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--debug", action="store_true",
                        help="set logging level to debug (and show tracebacks)")


def add_session_options(parser: argparse.ArgumentParser, geocoding: bool = False) -> None:
    """The options every app has: --verify, --proxy, --demo (and --no-geocode)."""
    if geocoding:
        parser.add_argument("--no-geocode", action="store_true",
                            help="show coordinates instead of looking up addresses")
    parser.add_argument("--verify", action="store_false", help="disable verify SSL certificate")
    parser.add_argument("--proxy", metavar="PROXY", help="proxy server URL")
    parser.add_argument("--demo", action="store_true",
                        help="use the built-in simulated Tesla cloud and its demo account")


@contextlib.contextmanager
def demo_cloud() -> Iterator[Any]:
    """Start the simulated Tesla cloud in this process, with Tesla's rules of today, and
    yield the ``Simulator``.

    Raises AppError when the simulator package is not installed.
    """
    try:
        from teslasim.server import running
    except ImportError as error:
        raise AppError("--demo needs the simulator: pip install 'teslapy[simulator]' (%s)"
                       % error, ExitCode.USAGE) from error
    with running(rules=DEMO_RULES) as simulator:
        yield simulator


#: The simulator's hosts of a China account, by ``Tesla`` keyword.
CHINA_URL_SETTINGS = {"sso_base_url": "sso_cn_base_url", "api_base_url": "api_cn_base_url",
                      "streaming_base_url": "streaming_cn_base_url"}


def simulator_options(simulator: Any, verify: Any = True,
                      email: Optional[str] = None) -> dict:
    """``Tesla`` keyword arguments aiming at ``simulator``: its hosts (its China hosts
    for an account ``email`` of the China region) and, unless ``verify`` is off or
    another CA, the CA that signed its SSOs' certificate."""
    options = {name: simulator.urls[name] for name in URL_SETTINGS}
    account = simulator.world.account(email) if email else None
    if account is not None and account.region == "cn":
        options.update({name: simulator.urls[key] for name, key in CHINA_URL_SETTINGS.items()})
    if verify is True and simulator.ca_file:
        options["verify"] = simulator.ca_file
    return options


@contextlib.contextmanager
def open_session(email: Optional[str] = None, password: Optional[str] = None,
                 demo: bool = False,
                 on_simulator: Optional[Callable[[Any], None]] = None,
                 session_factory: Callable[..., teslapy.Tesla] = teslapy.Tesla,
                 **options) -> Iterator[teslapy.Tesla]:
    """Yield a :class:`teslapy.Tesla`, aimed at the in-process simulator with ``demo``.

    email: (optional) the account; the demo account when ``demo`` and not given
    password: (optional) the password; the demo password when ``demo`` and not given
        (the demo signs in with a refresh token; the password serves remote start)
    demo: (optional) start the simulator, trust its CA and keep the tokens in a
        temporary cache
    on_simulator: (optional) called with the demo's ``Simulator`` once it runs (e.g.
        :meth:`~teslapy_apps.signin.SignInQuestions.use_simulator`)
    session_factory: (optional) makes the session from (email, password, options);
        ``teslapy.Tesla`` by default (the CLI's Fleet API options give a TeslaFleet)
    options: other ``Tesla`` keyword arguments (passcode_getter, verify, proxy, ...)
    Raises AppError when the simulator is needed but not installed.
    """
    with contextlib.ExitStack() as stack:
        if demo:
            simulator = stack.enter_context(demo_cloud())
            if on_simulator is not None:
                on_simulator(simulator)
            email = email or DEMO_EMAIL
            options.update(simulator_options(simulator, options.get("verify", True), email))
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="teslapy-demo-"))
            options.setdefault("cache_file", os.path.join(folder, "cache.json"))
            password = password or DEMO_PASSWORD
        tesla = stack.enter_context(session_factory(email, password, **options))
        yield tesla


# -- refusal reasons in words -----------------------------------------------------------

#: What a car's refusal reason (``VehicleError``) means, in words.
REFUSAL_REASONS = {
    "already_set": "it is already set to that",
    "out_of_range": "the value is outside what the car allows",
    "already_max_range": "it already charges in max range mode",
    "already_standard": "it already charges in standard mode",
    "is_charging": "it is charging",
    "not_charging": "it is not charging",
    "disconnected": "no charge cable is plugged in",
    "complete": "charging is already complete",
    "no_sunroof": "it has no sunroof",
    "too_far_from_car": "the position given is too far from the car",
    "incorrect_password": "the account password is wrong",
    "remote_start_disabled": "keyless driving is switched off in the car",
    "user_not_present": "nobody is in the car",
    "invalid_pin": "a PIN has four digits",
    "incorrect_pin": "the PIN is wrong",
    "pin_not_set": "no PIN is set",
    "valet_mode_active": "valet mode is on",
    "no_update_scheduled": "no software update is scheduled",
    "update_in_progress": "a software update is in progress",
    "sentry_mode_unavailable": "sentry mode is not available",
    "invalid_heater": "it has no such seat heater",
    "invalid_level": "the heater has no such level",
    "could_not_wake_buses": "it could not wake its systems; try again",
    "invalid_state": "it does not know that setting",
    "invalid_command": "it does not know that command option",
    "invalid_trunk": "it has no such trunk",
    "invalid_mode": "it does not know that mode",
    "invalid_name": "it does not know that name",
    "not_supported": "it does not support that command",
}


def refusal_words(reason: str) -> str:
    """A refusal reason in words, the reason itself as detail: ``'nobody is in the car
    (user_not_present)'``; a reason not in the table is shown as it is."""
    words = REFUSAL_REASONS.get(reason.strip())
    return "%s (%s)" % (words, reason.strip()) if words else one_line(reason)


def explain_refusal(reason: object) -> str:
    """A car's refusal reason as a sentence: ``'The car refused: it is charging.'``.

    A reason not in :data:`REFUSAL_REASONS` is spelled out with spaces for underscores.
    """
    text = one_line(reason)
    words = REFUSAL_REASONS.get(text) or text.replace("_", " ").rstrip(".") or "no reason given"
    return "The car refused: %s." % words
