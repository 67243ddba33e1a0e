"""One ``get_vehicle_data()`` against a bare ``requests.Session`` GET with the same token.

Run: ``python benchmarks/bench_vehicle_data.py [rounds] [calls]`` (default 15 rounds of
100 calls; ``--profile`` profiles teslapy's calls over the network instead)

Two floors, each timed in the same run, rounds interleaved and the order rotating, each
round's time the best of three tries:

* the simulator (``python -m teslasim`` in a process of its own): ``get_vehicle_data()``
  against a plain ``requests.Session`` that holds the same bearer token and does
  ``get``, ``raise_for_status`` and ``json()`` on the same URL;
* a canned-reply transport: both sessions mount an adapter that answers every request
  with the same ``vehicle_data`` bytes without a network, so only the clients' own
  work is timed.

The figures are the medians of the per-round ratios, with their spread.
"""
from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
from pathlib import Path
from typing import Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleaved import ratio_line  # noqa: E402
from served import (  # noqa: E402
    CannedAdapter, bare_json, bare_session, best_of, serving, signed_in, vehicle_urls,
)

GOAL = 1.0
CAR = "Tim's Tesla"


def repeated(name: str, call: Callable[[], object], times: int) -> Callable[[], None]:
    """An action named ``name`` that makes ``call`` ``times`` times."""
    def action() -> None:
        for _ in range(times):
            call()
    action.__name__ = name
    return action


def main(argv: List[str]) -> int:
    profile = "--profile" in argv
    args = [arg for arg in argv[1:] if arg != "--profile"]
    rounds = int(args[0]) if args else 15
    calls = int(args[1]) if len(args) > 1 else 100
    with serving() as env, tempfile.TemporaryDirectory() as folder:
        tesla = signed_in(env, os.path.join(folder, "cache.json"))
        car = next(v for v in tesla.vehicle_list() if v["display_name"] == CAR)
        url = vehicle_urls(tesla.api_base_url, [car])[0]
        bare = bare_session(tesla.token["access_token"])
        assert bare_json(bare, url)["vin"] == car.get_vehicle_data()["vin"]
        if profile:
            cProfile.runctx("for _ in range(calls): car.get_vehicle_data()", globals(),
                            {"car": car, "calls": calls * 5}, "vehicle_data.prof")
            pstats.Stats("vehicle_data.prof").sort_stats("cumulative").print_stats(40)
            return 0
        times = best_of([repeated("teslapy", car.get_vehicle_data, calls),
                            repeated("bare", lambda: bare_json(bare, url), calls)], rounds)
        print(ratio_line("get_vehicle_data() over the network", times["teslapy"],
                         times["bare"], "a bare requests.Session", GOAL))
        body = bare.get(url).content
        for session in (tesla, bare):
            session.mount(tesla.api_base_url, CannedAdapter({url: body}))
        times = best_of([repeated("teslapy", car.get_vehicle_data, calls),
                            repeated("bare", lambda: bare_json(bare, url), calls)], rounds)
        print(ratio_line("get_vehicle_data() on a canned transport", times["teslapy"],
                         times["bare"], "a bare requests.Session on it"))
        per_call = sorted(times["teslapy"])[len(times["teslapy"]) // 2] / calls
        print(f"  teslapy's own work per call: {per_call * 1e6:.0f} us")
        tesla.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
