"""One client of the strict-rotation runs: calls the Owner API until a given moment.

Run as a process (``python -m reliability.rotation CONFIG``) it builds its session from
the JSON ``CONFIG``, prints ``ready``, waits for a line ``go <epoch seconds>`` on stdin,
calls until that moment or until the next line (``stop``) and prints its tally as one
JSON line. Threads call :func:`call_until` directly.

``CONFIG``: ``{"email", "hosts": {sso_base_url, api_base_url}, "verify": bool or CA
path, "cache_file": path or null, "store": directory of a SharedStore or null}``.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Dict, Optional

import teslapy

from .stores import SharedStore

#: Seconds between two calls of one client.
PAUSE = 0.02


def session(config: Dict[str, Any]) -> teslapy.Tesla:
    """A ``Tesla`` without a password, on the cache file or the shared store of ``config``."""
    options: Dict[str, Any] = dict(config["hosts"], verify=config.get("verify", True))
    if config.get("store"):
        options.update(SharedStore(config["store"]).hooks())
    else:
        options["cache_file"] = config["cache_file"]
    return teslapy.Tesla(config["email"], **options)


def call_until(tesla: teslapy.Tesla, until: float,
               stop: Optional[threading.Event] = None) -> Dict[str, Any]:
    """Call ``PRODUCT_LIST`` until ``until`` or ``stop`` is set; the tally: calls,
    failures, tokens sent."""
    calls, failures, tokens = 0, [], set()
    while time.time() < until and not (stop is not None and stop.is_set()):
        calls += 1
        try:
            tesla.api("PRODUCT_LIST")
            tokens.add(tesla.token["access_token"][-12:])
        except Exception as error:  # noqa: BLE001 - every failure is counted
            failures.append(f"{type(error).__name__}: {error}"[:300])
        time.sleep(PAUSE)
    return {"calls": calls, "failures": failures, "tokens": sorted(tokens)}


def main(argv: list) -> int:
    config = json.loads(argv[1])
    with session(config) as tesla:
        print("ready", flush=True)
        command, until = sys.stdin.readline().split()
        assert command == "go"
        stop = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
        tally = call_until(tesla, float(until), stop)
    print(json.dumps(tally), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
