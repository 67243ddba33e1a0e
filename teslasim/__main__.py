"""Serve the simulated Tesla cloud: ``python -m teslasim [--host H] [--port P] [--fleet FILE]``.

Prints the client's environment, one assignment a line, then ``ready``, and serves
until SIGINT or SIGTERM. ``--port P`` listens on P (SSO), P+1 (China SSO), P+2
(Owner API), P+3 (streaming), P+4 (compositor), P+5 (China Owner API) and P+6
(China streaming); the default 0 picks free ports.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Optional, Sequence

from teslasim.server import Simulator
from teslasim.state import World

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m teslasim",
        description="Serve a simulated Tesla cloud (SSO, Owner API, streaming, compositor).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0,
                        help="first of seven ports: SSO, China SSO, Owner API, streaming, "
                             "compositor, China Owner API, China streaming (default 0: free ports)")
    parser.add_argument("--fleet", metavar="FILE",
                        help="JSON fleet to serve instead of the built-in demo fleet")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535 - 6:
        print("teslasim: --port must be between 0 and 65529", file=sys.stderr)
        return 2
    try:
        world = World.from_file(args.fleet) if args.fleet else World.demo()
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
        for name, value in simulator.env.items():
            print(f"{name}={value}")
        print("ready", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
