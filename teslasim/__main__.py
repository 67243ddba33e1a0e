"""Serve the simulated Tesla cloud: ``python -m teslasim [--rules 2021|2026] [--host H] ...``.

Prints the client's environment as lines a shell can evaluate
(``export NAME=value``, values shell-quoted): the service URLs, under the 2026 rules
``TESLAPY_CA_BUNDLE`` (the CA that signed the SSO's certificate), and
``TESLAPY_DEMO_REFRESH_TOKEN`` (a single-use refresh token of the demo account
elon@tesla.com, when the fleet has it) and ``TESLAPY_DEMO_FLEET_REFRESH_TOKEN`` (one of
the same account for the Fleet API demo app ``teslapy-demo``); then ``ready``. Serves until SIGINT or
SIGTERM. ``--port P`` listens on P (SSO), P+1 (China SSO), P+2 (Owner API), P+3
(streaming), P+4 (compositor), P+5 (China Owner API), P+6 (China streaming), P+7 to P+9
(the Fleet API's NA, EU and China regions) and P+10 (the Fleet token host); the default
0 picks free ports. ``--mint-requires`` says what a token request needs under
the 2026 rules for its token to pass the Owner API's gate (default ``h2,tls1.3``).
"""
from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from typing import Optional, Sequence

from teslasim.fleet_model import DEMO_CLIENT_ID
from teslasim.rules import ERAS, MINT_REQUIREMENTS, Rules, parse_mint_requires
from teslasim.server import Simulator
from teslasim.state import World

logger = logging.getLogger(__name__)

DEMO_EMAIL = "elon@tesla.com"
DEMO_REFRESH_ENV = "TESLAPY_DEMO_REFRESH_TOKEN"
DEMO_FLEET_REFRESH_ENV = "TESLAPY_DEMO_FLEET_REFRESH_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m teslasim",
        description="Serve a simulated Tesla cloud (SSO, Owner API, streaming, compositor).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0,
                        help="first of eleven ports: SSO, China SSO, Owner API, streaming, "
                             "compositor, China Owner API, China streaming, Fleet API NA, EU "
                             "and China, Fleet token host (default 0: free ports)")
    parser.add_argument("--fleet", metavar="FILE",
                        help="JSON fleet to serve instead of the built-in demo fleet")
    parser.add_argument("--rules", choices=ERAS, default="2021",
                        help="play Tesla's cloud as of 2021 (password sign-in, plain http) "
                             "or of late 2026 (browser sign-in, TLS and HTTP/2 at the SSO, "
                             "the minting gate); default 2021")
    parser.add_argument("--mint-requires", metavar="LIST", type=_mint_requires,
                        default=",".join(MINT_REQUIREMENTS),
                        help="under the 2026 rules, what a token request needs for its token "
                             "to work: a comma-separated subset of h2,tls1.3, or none "
                             "(default h2,tls1.3)")
    return parser


def _mint_requires(text: str) -> frozenset:
    try:
        return parse_mint_requires(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def export_lines(env: dict) -> list[str]:
    """``export NAME=value`` lines for ``env``, values quoted for a POSIX shell."""
    return [f"export {name}={shlex.quote(value)}" for name, value in env.items()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    rules = Rules.named(args.rules, args.mint_requires)
    if not 0 <= args.port <= 65535 - 10:
        print("teslasim: --port must be between 0 and 65525", file=sys.stderr)
        return 2
    try:
        world = World.from_file(args.fleet, rules=rules) if args.fleet \
            else World.demo(rules=rules)
    except (OSError, ValueError, TypeError, KeyError) as error:
        print(f"teslasim: cannot load fleet {args.fleet}: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        simulator = Simulator(world, args.host, args.port)
    except OSError as error:
        print(f"teslasim: cannot listen on {args.host}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    with simulator:
        env = dict(simulator.env)
        if world.account(DEMO_EMAIL) is not None:
            env[DEMO_REFRESH_ENV] = simulator.refresh_token_for(DEMO_EMAIL)
            if world.fleet.app(DEMO_CLIENT_ID) is not None:
                env[DEMO_FLEET_REFRESH_ENV] = simulator.fleet_refresh_token_for(DEMO_EMAIL)
        for line in export_lines(env):
            print(line)
        print("ready", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
