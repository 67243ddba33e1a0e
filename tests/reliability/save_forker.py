"""A fork server for the kill -9 test: children that save the token cache until killed.

Run as ``python -m reliability.save_forker CACHE_FILE``; it reads one command a line:

* ``seed``: save an entry for each of ``ACCOUNTS`` once; answers ``seeded``.
* ``fork N``: fork a child that saves one of ``ACCOUNTS`` after the other, its tokens
  numbered from ``N`` up, until it is killed; answers the child's pid once the child
  is about to start its first save.
* ``kill PID``: kill the child with SIGKILL and wait until it is gone; answers ``killed``.

At the end of its input it kills the children still running.

Forking from this process, which has imported teslapy already and runs no threads,
starts a saving child in a millisecond. Each save is the one every renewal makes
(reload the file under its lock, replace one entry, write a temporary file, rename).
"""
from __future__ import annotations

import itertools
import os
import signal
import sys
import time

import teslapy

ACCOUNTS = [f"driver{index}@example.com" for index in range(5)]
#: Makes each entry large, so that writing the file takes a while.
PADDING = "x" * 20000


def save(tesla: teslapy.Tesla, number: int) -> None:
    """Store tokens numbered ``number`` for the session's account."""
    tesla.sso_token = {"access_token": f"sso-{number}", "refresh_token": f"refresh-{number}",
                       "expires_in": 28800}
    tesla.token = {"access_token": f"owner-{number}", "expires_in": 28800,
                   "created_at": int(time.time()), "padding": PADDING}
    tesla._save_cache()             # what every refresh does with new tokens


def save_until_killed(cache_file: str, first: int, saving: int) -> None:
    """Save until killed; one byte written to the pipe ``saving`` tells the first save starts."""
    sessions = [teslapy.Tesla(email, cache_file=cache_file) for email in ACCOUNTS]
    os.write(saving, b".")
    os.close(saving)
    for number in itertools.count(first):
        save(sessions[number % len(sessions)], number)


def main(cache_file: str) -> None:
    children = set()
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "seed":
            for number, email in enumerate(ACCOUNTS):
                with teslapy.Tesla(email, cache_file=cache_file) as tesla:
                    save(tesla, number)
            print("seeded", flush=True)
        elif command == "fork":
            started, saving = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(started)
                    save_until_killed(cache_file, int(argument), saving)
                finally:
                    os._exit(1)
            children.add(pid)
            os.close(saving)
            os.read(started, 1)         # the child saves from now on
            os.close(started)
            print(pid, flush=True)
        elif command == "kill":
            kill(int(argument))
            children.discard(int(argument))
            print("killed", flush=True)
    for pid in children:                # the test ended early: no child outlives it
        kill(pid)


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main(sys.argv[1])
