"""Tesla Owner API command line: list, read, wake, command and stream your products.

Run as ``teslapy ...``, ``python cli.py ...`` from a clone, or ``python -m
teslapy_apps.cli ...``. Sign in once with ``--browser`` or ``-R TOKEN``; later runs
use the cached tokens. ``--demo`` runs everything against the built-in simulated Tesla
cloud, signed in to its demo account. In Python, :func:`main` takes the arguments, the
three streams and the browser opener and returns the exit code.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import json
import logging
import signal
import sys
import textwrap
import threading
import time
from typing import Any, Callable, List, Optional, Sequence, TextIO, Tuple

import teslapy
from teslapy import endpoints
from teslapy_apps import fleet_options
from teslapy_apps.common import (
    AppError, ExitCode, LoginQuestions, Terminal, add_debug_option, add_session_options,
    configure_logging, describe_error, error_detail, login, open_session, product_name,
    run_app, wake_up,
)
from teslapy_apps.signin import (
    BROWSER, CHROME, PASSWORD, REFRESH_TOKEN, chrome_available, open_in_browser,
)

logger = logging.getLogger(__name__)

SELECTION_HELP = """\
signing in:
  Tesla's sign-in page needs a browser, so sign in once with --browser (the address
  to open is printed on stderr and opened in your browser; paste back the address it
  ends on, tesla://auth/callback?code=...) or import a refresh token from another app
  with -R TOKEN (-R - reads it from stdin, so it stays out of the shell's history and
  of ps). Either signs in anew and caches the tokens; later runs use the cache. -p
  signs in with the password where the server still allows it, and only when nothing
  is cached. --logout forgets the email's tokens (other accounts keep theirs) and
  prints Tesla's sign-out address on stdout; with --browser it also opens it. With
  no action, -p, -R and --browser only sign in.

selection:
  The products are the account's vehicles, then its Powerwall batteries, then its
  solar panels. -f keeps those with any top-level field equal to FILTER (id, id_s,
  vehicle_id, vin, display_name, energy_site_id, site_name, ...); without -f all are
  selected. Each action is done on each selected product it applies to, product by
  product in that order, actions in the order -l -o -v --service -w -g -n -m -b -s -a
  -c -r. An error ends the actions on that product; the run goes on with the next
  product (a login, network or Ctrl-C failure ends the run).

  vehicles only:         -o -v --service -w -g -n -m -s -r
  batteries/solar only:  -b (batteries: battery data; solar panels: site data)
  all products:          -l
  -a/-c (parameters from -k): the products their endpoint is for (vehicle_id in its
                         path: vehicles; site_id or battery_id: energy products)

  With no action and no -p, -R, --browser or --logout, this help is printed (exit 2).

output:
  stdout holds one JSON array of results, each tagged with its product and action:
    {"product": "Tim's Tesla", "action": "get", "result": {...}}
    {"product": "Nikola", "action": "get", "error": {"code": 4, "message": "...",
     "detail": "..."}}
  (-a/-c results also name the "endpoint"). --json-lines prints one such object a
  line instead, as each result comes; -r streams that way, one object per update.
  Errors are also told on stderr, in one line each, as are questions and progress.

exit codes:
  0 ok, 1 other error, 2 usage, 3 login failed, 4 car asleep or offline (use -w),
  5 command refused, 6 other API error, 7 network, 8 nothing selected,
  9 the password sign-in met Tesla's reCAPTCHA (use --browser or -R),
  10 Tesla refused the refresh token or code (used, revoked or expired: sign in again),
  11 Tesla refused the token itself (not minted over HTTP/2 + TLS 1.3: sign in again),
  12 no HTTP/2 with TLS 1.3 to Tesla's sign-in server (nothing was minted),
  13 the car takes only signed commands (Vehicle Command Protocol, Fleet API),
  14 the request is served only on the Fleet API, 15 rate limited (wait), 130 Ctrl-C;
  when several products fail, the highest of their codes

example:
  teslapy -e elon@tesla.com --browser
  teslapy -e elon@tesla.com -w -a ACTUATE_TRUNK -k which_trunk=front
  teslapy --demo -f "Tim's Tesla" -g
"""

#: (dest, flag) of every action, in the order they are done on a product.
ACTIONS = (("list", "-l"), ("option", "-o"), ("vin", "-v"), ("service", "--service"),
           ("wake", "-w"), ("get", "-g"), ("nearby", "-n"), ("mobile", "-m"),
           ("battery", "-b"), ("start", "-s"), ("api", "-a"), ("command", "-c"),
           ("stream", "-r"))
VEHICLE_ONLY = ("option", "vin", "service", "wake", "get", "nearby", "mobile", "start",
                "stream")
ENERGY_ONLY = ("battery",)
#: Failures after which the other products would fail the same way.
ENDS_THE_RUN = (ExitCode.LOGIN_FAILED, ExitCode.NETWORK, ExitCode.LOGIN_EXPIRED,
                ExitCode.TOKEN_REJECTED, ExitCode.HTTP2_UNAVAILABLE, ExitCode.RATE_LIMITED)
WAKE_HINT = "wake it up with -w"
SIGN_IN_HINT = "sign in again with --browser or -R TOKEN"
#: --browser's values: the person's own browser (pasting back), or a Chrome window.
PASTE, SELENIUM = "paste", "selenium"

Action = Tuple[str, Callable[[], Any]]


def build_parser() -> argparse.ArgumentParser:
    """The command line parser, with the flags and meanings of the original cli."""
    parser = argparse.ArgumentParser(
        description="Tesla Owner API CLI", epilog=SELECTION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-e", dest="email", metavar="EMAIL",
                        help="login email (required unless --demo)")
    sign_in = parser.add_mutually_exclusive_group()
    sign_in.add_argument("-p", dest="password", metavar="PASSWORD", nargs="?", const="",
                         help="prompt/specify login password (servers that still allow it)")
    sign_in.add_argument("-R", dest="refresh_token", metavar="TOKEN",
                         help="sign in by importing a refresh token; - reads it from stdin")
    sign_in.add_argument("--browser", nargs="?", const=PASTE, choices=(PASTE, SELENIUM),
                         metavar="selenium",
                         help="sign in in your browser and paste back the address it ends "
                              "on; --browser=selenium signs in in a Chrome window that "
                              "catches it (needs teslapy[selenium])")
    parser.add_argument("--logout", action="store_true",
                        help="forget this email's tokens and print Tesla's sign-out address")
    parser.add_argument("-t", dest="passcode", metavar="PASSCODE", help="two factor passcode")
    parser.add_argument("-u", dest="factor", metavar="FACTOR",
                        help="use two factor device name")
    parser.add_argument("-f", dest="filter", metavar="FILTER", help="filter on id, vin, etc.")
    parser.add_argument("-a", dest="api", metavar="API", help="API call endpoint name")
    parser.add_argument("-k", dest="keyvalue", metavar="KEYVALUE", action="append",
                        default=[], type=parse_keyvalue,
                        help="API parameter (key=value), repeatable; the value is read as a "
                             "Python literal (True, 21.5, 'x') when it parses, else as text")
    parser.add_argument("-c", dest="command", metavar="COMMAND",
                        help="product command endpoint")
    parser.add_argument("-l", "--list", action="store_true",
                        help="list all selected vehicles/batteries")
    parser.add_argument("-o", "--option", action="store_true", help="list vehicle option codes")
    parser.add_argument("-v", "--vin", action="store_true",
                        help="vehicle identification number decode")
    parser.add_argument("-w", "--wake", action="store_true",
                        help="wake up selected vehicle(s)")
    parser.add_argument("-g", "--get", action="store_true",
                        help="get rollup of all vehicle data")
    parser.add_argument("-b", "--battery", action="store_true",
                        help="get detailed battery state and config")
    parser.add_argument("-n", "--nearby", action="store_true",
                        help="list nearby charging sites")
    parser.add_argument("-m", "--mobile", action="store_true", help="get mobile enabled state")
    parser.add_argument("-s", "--start", action="store_true", help="remote start drive")
    add_debug_option(parser)
    parser.add_argument("-r", "--stream", action="store_true",
                        help="receive streaming vehicle data on-change (as JSON lines)")
    parser.add_argument("--service", action="store_true",
                        help="get service self scheduling eligibility")
    parser.add_argument("--json-lines", action="store_true",
                        help="print one JSON object a line, as each result comes")
    add_session_options(parser)
    fleet_options.add_options(parser)
    return parser


def parse_keyvalue(text: str) -> Tuple[str, Any]:
    """Split ``key=value``; the value becomes a Python literal when it parses as one.

    Raises argparse.ArgumentTypeError when there is no ``=`` or no key.
    """
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected key=value, got %r" % text)
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return key, value


def check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse command lines that cannot work, before logging in (exits with 2)."""
    if not args.email and not args.demo:
        parser.error("the following arguments are required: -e (or use --demo)")
    if args.logout and (args.password is not None or args.refresh_token is not None
                        or has_action(args)):
        parser.error("--logout only forgets the tokens (with --browser it also opens "
                     "Tesla's sign-out page): give it no -p, -R or action")
    if args.browser == SELENIUM and not chrome_available():
        parser.error("--browser=selenium needs Selenium and teslapy's selenium extra: "
                     "pip install 'teslapy[selenium]'")
    if args.keyvalue and not (args.api or args.command):
        parser.error("-k gives parameters to -a or -c, and neither is given")
    for name in (args.api, args.command):
        if name is not None and name not in endpoints.all_endpoints():
            close = difflib.get_close_matches(name.upper(), endpoints.all_endpoints(), 3)
            parser.error("unknown endpoint name %s%s" % (
                name, " (did you mean %s?)" % ", ".join(close) if close else ""))


def has_action(args: argparse.Namespace) -> bool:
    """Whether the command line asks for anything to be done on a product."""
    return any(getattr(args, dest) for dest, _ in ACTIONS)


def sign_in_method(args: argparse.Namespace) -> Optional[str]:
    """The way to sign in the command line asks for (None: the cached token)."""
    if args.refresh_token is not None:
        return REFRESH_TOKEN
    if args.browser:
        return CHROME if args.browser == SELENIUM else BROWSER
    return PASSWORD if args.password is not None else None


def select(products: list, wanted: Optional[str]) -> list:
    """The products with any top-level field equal to ``wanted`` (all when None)."""
    if wanted is None:
        return list(products)
    return [product for product in products
            if any(str(value) == wanted for value in product.values()
                   if not isinstance(value, (dict, list)))]


def applies_to(args: argparse.Namespace, dest: str) -> Tuple[bool, bool]:
    """Whether an action applies to (vehicles, energy products): -a/-c by the path
    variables of their endpoint (``vehicle_id``; ``site_id`` or ``battery_id``)."""
    if dest in ("api", "command"):
        uri = endpoints.get_endpoint(getattr(args, dest)).uri
        for_vehicles = "{vehicle_id}" in uri
        for_energy = "{site_id}" in uri or "{battery_id}" in uri
        if for_vehicles or for_energy:
            return for_vehicles, for_energy
    return dest not in ENERGY_ONLY, dest not in VEHICLE_ONLY


def check_applicable(args: argparse.Namespace, vehicles: list, energy: list) -> None:
    """Refuse actions that apply to none of the selected products."""
    for dest, flag in ACTIONS:
        if not getattr(args, dest):
            continue
        for_vehicles, for_energy = applies_to(args, dest)
        if (for_vehicles and vehicles) or (for_energy and energy):
            continue
        if dest in ("api", "command"):
            flag = "%s %s" % (flag, getattr(args, dest))
        raise AppError("%s applies to %s, and none is selected" % (
            flag, "vehicles" if for_vehicles else "batteries and solar panels"),
            ExitCode.NOT_FOUND)


class Results:
    """The run's results on stdout: one JSON array, or one JSON object a line.

    The array is written as results come, and closed by :meth:`close` (also after an
    error or Ctrl-C), so stdout always holds one whole JSON document.
    """

    def __init__(self, stream: TextIO, lines: bool) -> None:
        self.stream = stream
        self.lines = lines
        self.count = 0

    def add(self, item: dict) -> None:
        if self.lines:
            text = json.dumps(item, default=str) + "\n"
        else:
            body = textwrap.indent(json.dumps(item, indent=2, default=str), "  ")
            text = ("[\n" if self.count == 0 else ",\n") + body
        self.count += 1
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if not self.lines:
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
            self.stream.flush()


class Spinner:
    """``<text> | 3 s`` turning on a terminal while the app waits; nothing elsewhere."""

    FRAMES = "|/-\\"

    def __init__(self, stream: TextIO, text: str, interval: float = 0.25) -> None:
        self.stream = stream
        self.text = text
        self.interval = interval
        self.stop = threading.Event()
        self.thread: Optional[threading.Thread] = None
        self.width = 0

    def draw(self, frame: int, started: float) -> None:
        line = "%s %s %d s" % (self.text, self.FRAMES[frame % len(self.FRAMES)],
                               time.monotonic() - started)
        self.width = max(self.width, len(line))
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()

    def spin(self, started: float) -> None:
        frame = 0
        while not self.stop.wait(self.interval):
            frame += 1
            self.draw(frame, started)

    def __enter__(self) -> "Spinner":
        if self.stream.isatty():
            started = time.monotonic()
            self.draw(0, started)
            self.thread = threading.Thread(target=self.spin, args=(started,), daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join()
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


class Run:
    """One run of the command line: its arguments, streams, results and worst code."""

    def __init__(self, args: argparse.Namespace, stdin: TextIO, stdout: TextIO,
                 stderr: TextIO, open_url: Callable[[str], Any] = open_in_browser) -> None:
        self.args = args
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.terminal = Terminal.over_streams(stdin, stderr, open_url)
        self.results = Results(stdout, lines=args.json_lines or args.stream)
        self.params = dict(args.keyvalue)
        self.code = ExitCode.OK

    def tell(self, message: str) -> None:
        print(message, file=self.stderr, flush=True)

    # -- signing in ---------------------------------------------------------------

    def secret(self, what: str, flag: str) -> str:
        """A secret asked without echo on a terminal, else read as one line from stdin
        (``echo ... | teslapy -p``).

        Raises AppError when stdin ends before it.
        """
        if self.stdin.isatty():
            return self.terminal.ask("%s: " % what, secret=True)
        line = self.stdin.readline().rstrip("\r\n")
        if not line:
            raise AppError("%s reads the %s from the terminal or stdin, and none came: "
                           "type it, or pipe it in" % (flag, what.lower()),
                           ExitCode.LOGIN_FAILED)
        return line

    def password(self) -> Optional[str]:
        """The password given with -p; for a bare -p asked or read from stdin; None
        without -p."""
        if self.args.password != "":
            return self.args.password
        return self.secret("Password", "-p without a value")

    def questions(self) -> LoginQuestions:
        """The sign-in questions on stderr (answers from stdin), in the way the command
        line asks for, with -R's token (read from stdin with -R -)."""
        args = self.args
        token = args.refresh_token
        if token == "-":
            token = self.secret("Refresh token", "-R -")
        return LoginQuestions(self.terminal, sign_in_method(args), refresh_token=token)

    def session_options(self, questions: LoginQuestions) -> dict:
        """The ``Tesla`` options: login questions on stderr, -t/-u answers, --verify/--proxy."""
        args = self.args
        options = questions.options()
        if args.passcode is not None:
            options["passcode_getter"] = lambda: args.passcode
        if args.factor is not None:
            options["factor_selector"] = lambda factors: args.factor
        options.update(verify=args.verify, proxy=args.proxy)
        return options

    # -- the run ------------------------------------------------------------------

    def __call__(self) -> int:
        """Sign in (or out), select the products and act on them; returns the worst
        exit code."""
        args = self.args
        questions = self.questions()
        sessions = fleet_options.Sessions(args)

        def on_simulator(simulator: Any) -> None:
            sessions.use_simulator(simulator)
            if not sessions.makes_demo_fleet():     # a demo TeslaFleet signs in itself
                questions.use_simulator(simulator)

        with open_session(args.email, self.password(), demo=args.demo,
                          on_simulator=on_simulator, session_factory=sessions,
                          **self.session_options(questions)) as tesla:
            if args.logout:
                return self.log_out(tesla)
            fleet = isinstance(tesla, teslapy.TeslaFleet)   # signs in in a browser when needed
            if not fleet and questions.method is None and not tesla.authorized:
                raise AppError("No cached token for %s: sign in with --browser or -R TOKEN "
                               "(or -p where the server still allows passwords)"
                               % tesla.email, ExitCode.LOGIN_FAILED)
            if not fleet:
                login(tesla, questions)
            if not has_action(args):
                self.tell("Logged in as %s." % tesla.email)
                return ExitCode.OK
            try:
                self.act(tesla)
            finally:
                self.results.close()
        return self.code

    def log_out(self, tesla: teslapy.Tesla) -> int:
        """--logout: forget the tokens, print Tesla's sign-out address (open it with
        --browser)."""
        url = tesla.logout()
        print(url, file=self.stdout, flush=True)
        opened = bool(self.args.browser) and self.terminal.open_url(url)
        self.tell("Logged out of %s: its tokens are forgotten here; other accounts keep "
                  "theirs. %s" % (tesla.email, "Tesla's sign-out page is open in the "
                                  "browser." if opened else "To end the browser's session "
                                  "at Tesla too, open the address printed above."))
        return ExitCode.OK

    def act(self, tesla: teslapy.Tesla) -> None:
        """Select the products and do the actions on each, product by product."""
        args = self.args
        vehicles = select(tesla.vehicle_list(), args.filter)
        energy = select(tesla.battery_list() + tesla.solar_list(), args.filter)
        logger.info("%d vehicle(s), %d energy product(s) selected", len(vehicles), len(energy))
        if not vehicles and not energy:
            raise AppError("No product matches %r" % args.filter if args.filter
                           else "No products on this account", ExitCode.NOT_FOUND)
        check_applicable(args, vehicles, energy)
        for vehicle in vehicles:
            if not self.do(vehicle, self.vehicle_actions(vehicle)):
                return
        for product in energy:
            if not self.do(product, self.product_actions(product)):
                return

    def do(self, product: dict, actions: List[Action]) -> bool:
        """Do the actions on one product and print their results; the first error ends
        them. Returns False when the error ends the whole run."""
        name = product_name(product)
        for action, call in actions:
            item = {"product": name, "action": action}
            if action in ("api", "command"):
                item["endpoint"] = getattr(self.args, action)
            try:
                result = call()
            except Exception as error:      # told, recorded, and the run goes on
                logger.debug("%s of %s failed", action, name, exc_info=True)
                code, message = describe_error(error, name, WAKE_HINT, SIGN_IN_HINT)
                self.results.add(dict(item, error={"code": int(code), "message": message,
                                                   "detail": error_detail(error)}))
                self.tell(message)
                self.code = max(self.code, code)
                return code not in ENDS_THE_RUN
            if action != "stream":
                self.results.add(dict(item, result=result))
        return True

    def vehicle_actions(self, vehicle: teslapy.Vehicle) -> List[Action]:
        """The requested actions on one car, in the documented order."""
        args, params = self.args, self.params
        table = {
            "list": lambda: vehicle, "option": vehicle.option_code_list,
            "vin": vehicle.decode_vin, "service": vehicle.get_service_scheduling_data,
            "wake": lambda: self.wake(vehicle), "get": vehicle.get_vehicle_data,
            "nearby": vehicle.get_nearby_charging_sites, "mobile": vehicle.mobile_enabled,
            "start": lambda: remote_start(vehicle),
            "api": lambda: vehicle.api(args.api, **params),
            "command": lambda: vehicle.command(args.command, **params),
            "stream": lambda: self.stream(vehicle),
        }
        return [(dest, table[dest]) for dest, _ in ACTIONS
                if getattr(args, dest) and applies_to(args, dest)[0]]

    def product_actions(self, product: teslapy.Product) -> List[Action]:
        """The requested actions on one Powerwall or solar site."""
        args, params = self.args, self.params
        table = {
            "list": lambda: product,
            "battery": lambda: site_data(product),
            "api": lambda: product.api(args.api, **params),
            "command": lambda: product.command(args.command, **params),
        }
        return [(dest, table[dest]) for dest, _ in ACTIONS
                if getattr(args, dest) and applies_to(args, dest)[1]]

    def wake(self, vehicle: teslapy.Vehicle) -> str:
        """Wake the car, turning a spinner on a terminal meanwhile; its state."""
        with Spinner(self.stderr, "Waking %s" % product_name(vehicle)):
            wake_up(vehicle)
        return vehicle["state"]

    def stream(self, vehicle: teslapy.Vehicle) -> None:
        """Print the car's streamed updates, one JSON line each, until the stream ends.

        Ctrl-C raises KeyboardInterrupt (the run exits with 130), also when the
        websocket loop swallows the interrupt itself.
        """
        name = product_name(vehicle)
        self.tell("Streaming %s (%s); Ctrl-C stops." % (name, vehicle["state"]))
        with interrupts_recorded() as interrupted:
            vehicle.stream(lambda update: self.results.add(
                {"product": name, "action": "stream", "result": update}))
        if interrupted:
            raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_recorded() -> Any:
    """Record Ctrl-C in the yielded list while still raising KeyboardInterrupt, so a
    library that swallows the interrupt cannot hide it (main thread only)."""
    interrupted: List[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def on_sigint(signum: int, frame: Any) -> None:
        interrupted.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield interrupted
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def site_data(product: teslapy.Product) -> dict:
    """-b: a battery's data, or a solar site's data."""
    if isinstance(product, teslapy.SolarPanel):
        return product.get_site_data()
    if isinstance(product, teslapy.Battery):
        return product.get_battery_data()
    raise AppError("-b knows batteries and solar panels, not %s" % product_name(product))


def remote_start(vehicle: teslapy.Vehicle) -> Any:
    """Enable keyless driving; AppError (login) when the session has no password."""
    try:
        return vehicle.remote_start_drive()
    except ValueError as error:         # the session has no password (cached token)
        raise AppError("-s needs the account password: add -p",
                       ExitCode.LOGIN_FAILED) from error


def main(argv: Optional[Sequence[str]] = None, stdin: Optional[TextIO] = None,
         stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None,
         open_url: Callable[[str], Any] = open_in_browser) -> int:
    """Entry point of ``teslapy`` and ``cli.py``; returns the exit code.

    argv: (optional) the arguments (``sys.argv[1:]`` by default)
    stdin, stdout, stderr: (optional) the streams to use (``sys``'s by default)
    open_url: (optional) opens an address in the person's browser (--browser)
    """
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
            early = fleet_options.early_command(args, stdout)
            if early is None:
                check_usage(parser, args)
    except SystemExit as exit:          # --help, or a usage error
        return exit.code if isinstance(exit.code, int) else ExitCode.USAGE
    if early is None and not has_action(args) and sign_in_method(args) is None \
            and not args.logout:
        parser.print_help(stderr)
        return ExitCode.USAGE
    undo_logging = configure_logging(args.debug, stderr)
    try:
        return run_app(early or Run(args, stdin, stdout, stderr, open_url), args.debug, stdout,
                       stderr, SIGN_IN_HINT)
    finally:
        undo_logging()


if __name__ == "__main__":
    sys.exit(main())
