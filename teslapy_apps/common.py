"""What the three apps share: demo startup, building the session, errors and exit codes.

Every app opens its session with :func:`open_session`. With ``demo=True`` it starts the
simulated Tesla cloud in this process (the ``teslasim`` package, imported only then),
points the :class:`teslapy.Tesla` at it and logs in to the demo account with a
temporary token cache; otherwise the library talks to Tesla's hosts, or to the hosts
in the ``TESLAPY_*`` environment variables, which the library reads itself.

Errors a user can cause or meet are turned into one line and an :class:`ExitCode` by
:func:`describe_error`; :func:`run_app` applies that to a whole app run.
"""
from __future__ import annotations

import argparse
import contextlib
import enum
import logging
import os
import re
import sys
import tempfile
import traceback
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

import teslapy

logger = logging.getLogger(__name__)

DEMO_EMAIL = "elon@tesla.com"
DEMO_PASSWORD = "starship"
Geocoder = Callable[[float, float], Optional[str]]
URL_SETTINGS = ("sso_base_url", "api_base_url", "streaming_base_url", "compositor_url")


class ExitCode(enum.IntEnum):
    """Exit status of the apps; each kind of failure has its own code."""

    OK = 0
    ERROR = 1                  # anything not listed below
    USAGE = 2                  # bad command line (argparse uses 2 as well)
    LOGIN_FAILED = 3           # wrong password or passcode, cancelled login, no cached token
    VEHICLE_UNAVAILABLE = 4    # the car is asleep or offline (HTTP 408)
    REFUSED = 5                # a vehicle or energy product refused the command
    API_ERROR = 6              # any other error reply from the API
    NETWORK = 7                # the host could not be reached or timed out
    NOT_FOUND = 8              # no product matches the selection
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


def configure_logging(debug: bool) -> None:
    """Log at DEBUG to stderr with ``debug``, else only warnings.

    Without ``debug`` the HTTP library's own retry warnings stay quiet: the app
    reports the failure itself, in one line.
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if debug else "%(message)s",
    )
    if not debug:
        logging.getLogger("urllib3").setLevel(logging.ERROR)


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


def describe_error(error: BaseException) -> tuple[ExitCode, str]:
    """Turn an exception a user can meet into an exit code and a one-line message."""
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "Interrupted."
    if isinstance(error, EOFError):
        return ExitCode.LOGIN_FAILED, (
            "Input ended before a login question was answered: run it on a terminal")
    if isinstance(error, AppError):
        return error.code, one_line(error)
    if isinstance(error, LoginCancelled):
        return ExitCode.LOGIN_FAILED, "Login cancelled."
    if isinstance(error, LoginFailed):
        return ExitCode.LOGIN_FAILED, "Login failed: " + one_line(error)
    if isinstance(error, OAuth2Error):
        return ExitCode.LOGIN_FAILED, "Login failed: " + one_line(error)
    if isinstance(error, requests.HTTPError):
        status = getattr(error.response, "status_code", None)
        message = http_message(error)
        if status == 408:
            return ExitCode.VEHICLE_UNAVAILABLE, (
                message + " (the car is asleep or offline: wake it up first)")
        if status == 401:
            return ExitCode.LOGIN_FAILED, message + " (log in again with the password)"
        return ExitCode.API_ERROR, message
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return ExitCode.NETWORK, network_message(error)
    if isinstance(error, teslapy.VehicleError):
        return ExitCode.REFUSED, "Vehicle error: " + one_line(error)
    if isinstance(error, teslapy.ProductError):
        return ExitCode.REFUSED, "Product error: " + one_line(error)
    if isinstance(error, teslapy.CacheError):
        return ExitCode.ERROR, "Token cache: " + one_line(error)
    if isinstance(error, teslapy.TeslaError):      # e.g. a malformed reply
        return ExitCode.API_ERROR, "%s: %s" % (type(error).__name__, one_line(error))
    if isinstance(error, ValueError):
        return ExitCode.USAGE, one_line(error)
    return ExitCode.ERROR, "%s: %s" % (type(error).__name__, one_line(error))


def report_error(error: BaseException, debug: bool = False,
                 stream=None) -> ExitCode:
    """Print the one-line message (and with ``debug`` the traceback) to stderr."""
    stream = stream or sys.stderr
    code, message = describe_error(error)
    if debug and not isinstance(error, KeyboardInterrupt):
        traceback.print_exception(type(error), error, error.__traceback__, file=stream)
    if isinstance(error, EOFError) or (isinstance(error, KeyboardInterrupt)
                                       and stream.isatty()):
        print(file=stream)              # end the unanswered prompt's line
    print(message, file=stream)
    return code


def run_app(body: Callable[[], int], debug: bool = False) -> int:
    """Run an app's body; errors become a message on stderr and an exit code."""
    try:
        return int(body())
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except (Exception, KeyboardInterrupt) as error:
        return int(report_error(error, debug))


def login(tesla: teslapy.Tesla) -> None:
    """Log in (or reuse the cached token).

    Raises LoginCancelled when the user cancelled at the factor or passcode question,
    LoginFailed when the login was rejected.
    """
    try:
        tesla.fetch_token()
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
    """Start the simulated Tesla cloud in this process and yield the ``Simulator``.

    Raises AppError when the simulator package is not installed.
    """
    try:
        from teslasim.server import running
    except ImportError as error:
        raise AppError("--demo needs the simulator: pip install 'teslapy[simulator]' (%s)"
                       % error, ExitCode.USAGE) from error
    with running() as simulator:
        yield simulator


@contextlib.contextmanager
def open_session(email: Optional[str] = None, password: Optional[str] = None,
                 demo: bool = False,
                 on_simulator: Optional[Callable[[Any], None]] = None,
                 **options) -> Iterator[teslapy.Tesla]:
    """Yield a :class:`teslapy.Tesla`, aimed at the in-process simulator with ``demo``.

    email: (optional) the account; the demo account when ``demo`` and not given
    password: (optional) the password; the demo password when ``demo`` and not given
    demo: (optional) start the simulator and log in to it with a temporary token cache
    on_simulator: (optional) called with the demo's ``Simulator`` once it runs
    options: other ``Tesla`` keyword arguments (passcode_getter, verify, proxy, ...)
    Raises AppError when the simulator is needed but not installed.
    """
    with contextlib.ExitStack() as stack:
        if demo:
            simulator = stack.enter_context(demo_cloud())
            if on_simulator is not None:
                on_simulator(simulator)
            options.update({name: simulator.urls[name] for name in URL_SETTINGS})
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="teslapy-demo-"))
            options.setdefault("cache_file", os.path.join(folder, "cache.json"))
            email = email or DEMO_EMAIL
            password = password or DEMO_PASSWORD
        tesla = stack.enter_context(teslapy.Tesla(email, password, **options))
        yield tesla


# -- a car's refusal reasons in words ---------------------------------------------------

REFUSAL_REASONS = {
    "already_set": "It is already set to that value.",
    "out_of_range": "The car does not accept that value: it is outside the car's range.",
    "already_max_range": "The car is already set to charge to maximum range.",
    "already_standard": "The car is already set to charge to the standard limit.",
    "is_charging": "The car is already charging.",
    "not_charging": "The car is not charging.",
    "disconnected": "No charging cable is plugged in.",
    "complete": "Charging is already complete.",
    "no_sunroof": "This car has no sunroof.",
    "too_far_from_car": "The position sent is too far from the car: refresh the car's "
                        "data and try again.",
    "incorrect_password": "The account password is wrong.",
    "remote_start_disabled": "Keyless driving is turned off in the car's settings.",
    "user_not_present": "The car must be unlocked and someone must be present.",
    "invalid_pin": "The PIN must be four digits.",
    "incorrect_pin": "The PIN is wrong.",
    "pin_not_set": "No PIN is set in the car.",
    "valet_mode_active": "Valet mode is on: turn it off first.",
    "no_update_scheduled": "No software update is scheduled.",
    "update_in_progress": "A software update is already installing.",
    "sentry_mode_unavailable": "Sentry mode cannot be turned on right now.",
    "invalid_heater": "The car has no such seat heater.",
    "invalid_level": "The car has no such heater level.",
    "invalid_state": "The car does not know that setting.",
    "invalid_command": "The car does not know that command option.",
    "invalid_trunk": "The car has no such trunk.",
    "invalid_mode": "The car does not know that mode.",
    "invalid_name": "The car does not know that name.",
    "could_not_wake_buses": "The car could not wake its systems: try again in a moment.",
    "not_supported": "This car does not support that command.",
}


def explain_refusal(reason: object) -> str:
    """A car's refusal reason (the text of a ``VehicleError``) in words.

    Known reasons come from :data:`REFUSAL_REASONS`; any other is spelled out after
    "The car refused: ".
    """
    text = one_line(reason)
    if text in REFUSAL_REASONS:
        return REFUSAL_REASONS[text]
    return "The car refused: %s." % (text.replace("_", " ").rstrip(".") or "no reason given")
