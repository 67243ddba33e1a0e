"""Tesla Owner API command line: list, read, wake, command and stream your products.

Run as ``teslapy ...``, ``python cli.py ...`` from a clone, or ``python -m
teslapy_apps.cli ...``. ``--demo`` runs everything against the built-in simulated
Tesla cloud, logged in to its demo account.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import getpass
import json
import logging
import signal
import sys
from typing import Any, Callable, Optional, Sequence

import teslapy
from teslapy_apps.common import (
    AppError, ExitCode, add_debug_option, add_session_options, captcha_in_terminal,
    configure_logging, login, open_session, run_app,
)

logger = logging.getLogger(__name__)

SELECTION_HELP = """\
selection:
  The products are the account's vehicles, then its Powerwall batteries, then its
  solar panels. -f keeps those with any top-level field equal to FILTER (id, id_s,
  vehicle_id, vin, display_name, energy_site_id, site_name, ...); without -f all are
  selected. Each action is done on each selected product it applies to, product by
  product in that order, actions in the order -l -o -v --service -w -g -n -m -b -s -a
  -c -r.

  vehicles only:         -o -v --service -w -g -n -m -s -r
  batteries/solar only:  -b (batteries: battery data; solar panels: site data)
  all products:          -l -a -c (-a/-c take their parameters from -k)

  Every result is printed to stdout as a JSON document (several results follow one
  another); -r prints one JSON line per streamed update until the stream ends or
  Ctrl-C. Messages go to stderr.

exit codes:
  0 ok, 1 other error, 2 usage, 3 login failed, 4 car asleep or offline (use -w),
  5 command refused, 6 other API error, 7 network, 8 nothing selected, 130 Ctrl-C

example:
  teslapy -e elon@tesla.com -w -a ACTUATE_TRUNK -k which_trunk=front
  teslapy --demo -f "Tim's Tesla" -g
"""

VEHICLE_FLAGS = (("option", "-o"), ("vin", "-v"), ("service", "--service"), ("wake", "-w"),
                 ("get", "-g"), ("nearby", "-n"), ("mobile", "-m"), ("start", "-s"),
                 ("stream", "-r"))
ENERGY_FLAGS = (("battery", "-b"),)


def build_parser() -> argparse.ArgumentParser:
    """The command line parser, with the flags and meanings of the original cli."""
    parser = argparse.ArgumentParser(
        description="Tesla Owner API CLI", epilog=SELECTION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-e", dest="email", metavar="EMAIL",
                        help="login email (required unless --demo)")
    parser.add_argument("-p", dest="password", metavar="PASSWORD", nargs="?", const="",
                        help="prompt/specify login password")
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
                        help="receive streaming vehicle data on-change")
    parser.add_argument("--service", action="store_true",
                        help="get service self scheduling eligibility")
    add_session_options(parser)
    return parser


def parse_keyvalue(text: str) -> tuple[str, Any]:
    """Split ``key=value``; the value becomes a Python literal when it parses as one."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected key=value, got %r" % text)
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return key, value


def emit(result: Any) -> None:
    """Print one result as a JSON document."""
    if isinstance(result, teslapy.JsonDict):
        print(result)
    else:
        print(json.dumps(result, indent=4, default=str))
    sys.stdout.flush()


def emit_line(update: dict) -> None:
    """Print one streamed update as a line of JSON."""
    print(json.dumps(update, default=str), flush=True)


def select(products: list, wanted: Optional[str]) -> list:
    """The products with any top-level field equal to ``wanted`` (all when None)."""
    if wanted is None:
        return list(products)
    return [product for product in products
            if any(str(value) == wanted for value in product.values()
                   if not isinstance(value, (dict, list)))]


def check_applicable(args: argparse.Namespace, vehicles: list, energy: list) -> None:
    """Refuse flags that apply to none of the selected products."""
    for dest, flag in VEHICLE_FLAGS:
        if getattr(args, dest) and not vehicles:
            raise AppError("%s applies to vehicles, and no vehicle is selected" % flag,
                           ExitCode.NOT_FOUND)
    for dest, flag in ENERGY_FLAGS:
        if getattr(args, dest) and not energy:
            raise AppError("%s applies to batteries and solar panels, and none is selected"
                           % flag, ExitCode.NOT_FOUND)


class StreamStopped(Exception):
    """Ctrl-C ended streaming: the run stops here, successfully."""


def stream_vehicle(vehicle: teslapy.Vehicle) -> None:
    """Print the car's streamed updates until the stream ends.

    Ctrl-C ends streaming and the run with :class:`StreamStopped`, also when the
    websocket loop swallows the interrupt itself.
    """
    interrupted = []

    def on_sigint(signum: int, frame: Any) -> None:
        interrupted.append(signum)
        raise KeyboardInterrupt

    print("Streaming %s (%s); Ctrl-C stops." % (vehicle["display_name"], vehicle["state"]),
          file=sys.stderr, flush=True)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        vehicle.stream(emit_line)
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise StreamStopped


def act_on_vehicle(vehicle: teslapy.Vehicle, args: argparse.Namespace, params: dict) -> None:
    """Do the requested actions on one car, in the documented order."""
    if args.list:
        emit(vehicle)
    if args.option:
        emit(vehicle.option_code_list())
    if args.vin:
        emit(vehicle.decode_vin())
    if args.service:
        emit(vehicle.get_service_scheduling_data())
    if args.wake:
        vehicle.sync_wake_up()
    if args.get:
        emit(vehicle.get_vehicle_data())
    if args.nearby:
        emit(vehicle.get_nearby_charging_sites())
    if args.mobile:
        emit(vehicle.mobile_enabled())
    if args.start:
        try:
            emit(vehicle.remote_start_drive())
        except ValueError as error:         # the session has no password (cached token)
            raise AppError("-s needs the account password: add -p",
                           ExitCode.LOGIN_FAILED) from error
    if args.api:
        emit(vehicle.api(args.api, **params))
    if args.command:
        emit(vehicle.command(args.command, **params))
    if args.stream:
        stream_vehicle(vehicle)


def act_on_product(product: teslapy.Product, args: argparse.Namespace, params: dict) -> None:
    """Do the requested actions on one Powerwall or solar site."""
    if args.list:
        emit(product)
    if args.battery:
        if isinstance(product, teslapy.Battery):
            emit(product.get_battery_data())
        else:
            emit(product.get_site_data())
    if args.api:
        emit(product.api(args.api, **params))
    if args.command:
        emit(product.command(args.command, **params))


def password_for(args: argparse.Namespace,
                 ask: Callable[[str], str] = getpass.getpass) -> Optional[str]:
    """The password given with -p; for a bare -p asked without echo on a terminal,
    else read as one line from stdin (``echo ... | teslapy -p``); None without -p.

    Raises AppError when stdin ends before a password.
    """
    if args.password != "":
        return args.password
    if sys.stdin.isatty():
        return ask("Password: ")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise AppError("-p without a value reads the password from the terminal or stdin, "
                       "and none came: type it, or pipe it in", ExitCode.LOGIN_FAILED)
    return password


def ask_captcha(svg: bytes) -> str:
    """The captcha question on the terminal, telling where the image was saved."""
    return captcha_in_terminal(svg, input, lambda text: print(text, file=sys.stderr))


def run(args: argparse.Namespace) -> int:
    """Log in, select the products and act on them."""
    options: dict = {"verify": args.verify, "proxy": args.proxy, "captcha_solver": ask_captcha}
    if args.passcode is not None:
        options["passcode_getter"] = lambda: args.passcode
    if args.factor is not None:
        options["factor_selector"] = lambda factors: args.factor
    password = password_for(args)
    with open_session(args.email, password, demo=args.demo, **options) as tesla:
        if not tesla.authorized and not tesla.password:
            raise AppError("No cached token for %s: give the password with -p"
                           % tesla.email, ExitCode.LOGIN_FAILED)
        with contextlib.redirect_stdout(sys.stderr):    # questions stay out of the JSON
            login(tesla)
        vehicles = select(tesla.vehicle_list(), args.filter)
        energy = select(tesla.battery_list() + tesla.solar_list(), args.filter)
        logger.info("%d vehicle(s), %d energy product(s) selected", len(vehicles), len(energy))
        if not vehicles and not energy:
            raise AppError("No product matches %r" % args.filter if args.filter
                           else "No products on this account", ExitCode.NOT_FOUND)
        check_applicable(args, vehicles, energy)
        params = dict(args.keyvalue)
        try:
            for vehicle in vehicles:
                act_on_vehicle(vehicle, args, params)
            for product in energy:
                act_on_product(product, args, params)
        except StreamStopped:
            print("Streaming stopped.", file=sys.stderr)
    return ExitCode.OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``teslapy`` and ``cli.py``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.email and not args.demo:
        parser.error("the following arguments are required: -e (or use --demo)")
    configure_logging(args.debug)
    return run_app(lambda: run(args), args.debug)


if __name__ == "__main__":
    sys.exit(main())
