"""A fleet of cars: ``vehicle_list()`` and ``get_vehicle_data()`` of each, against bare requests.

Run: ``python benchmarks/bench_fleet.py [rounds] [sizes]`` (default 11 rounds, fleets of
25 and 100 cars, e.g. ``25,50,100``)

For each size a simulator (``python -m teslasim`` in a process of its own) serves the
demo account with that many online cars. Each round times, in rotating order and as the best of three tries, teslapy
(``vehicle_list()``, then ``get_vehicle_data()`` of every car) and a bare
``requests.Session`` holding the same token (``GET api/1/vehicles``, then each car's
``vehicle_data``, checking the status and parsing the JSON). The figures are the median
of the per-round ratios with their spread, and the time per car at each size: equal
times per car mean the cost is linear in the fleet's size. The fleets are served at once
and timed in the same rounds. A second pass replays the same replies from a canned
transport (no network, no server), which times the clients' own work alone.
"""
from __future__ import annotations

import contextlib
import copy
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import (  # noqa: E402 (first: it puts this checkout's teslapy on the path)
    EMAIL, CannedAdapter, bare_json, bare_session, best_of, demo_fleet, serving, signed_in,
    vehicle_urls,
)

import requests  # noqa: E402

import teslapy  # noqa: E402
from interleaved import ratio_line  # noqa: E402

GOAL = 1.0
MODEL = "Tim's Tesla"       # an online car of the demo account, cloned


def fleet_of(size: int) -> Dict[str, Any]:
    """The demo fleet with the demo account's cars replaced by ``size`` online cars."""
    fleet = demo_fleet()
    model = next(v for v in fleet["vehicles"] if v["data"]["display_name"] == MODEL)
    cars = [v for v in fleet["vehicles"] if v["owner"] != EMAIL]
    for number in range(size):
        car = copy.deepcopy(model)
        data = car["data"]
        data["id"] = data["id_s"] = f"{90000000000000000 + number}"
        data["id"] = int(data["id"])
        data["vehicle_id"] = 9000000000 + number
        data["vin"] = f"5YJ3E1EA0KF{number:06d}"
        data["display_name"] = data["vehicle_state"]["vehicle_name"] = f"Car {number}"
        cars.append(car)
    fleet["vehicles"] = cars
    return fleet


def _actions(size: int, tesla: teslapy.Tesla,
             bare: requests.Session) -> List[Callable[[], None]]:
    """teslapy's and the bare loop over a fleet of ``size`` cars, named by size."""
    list_url = tesla.api_base_url + "api/1/vehicles"

    def with_teslapy() -> None:
        for car in tesla.vehicle_list():
            car.get_vehicle_data()

    def with_requests() -> None:
        for url in vehicle_urls(tesla.api_base_url, bare_json(bare, list_url)):
            bare_json(bare, url)

    assert len(tesla.vehicle_list()) == len(bare_json(bare, list_url)) == size
    with_teslapy.__name__, with_requests.__name__ = f"teslapy {size}", f"bare {size}"
    return [with_teslapy, with_requests]


def _canned(tesla: teslapy.Tesla, bare: requests.Session) -> None:
    """Mount on both sessions a transport that answers the fleet's URLs with what the
    simulator answered, so that only the clients' own work is timed."""
    list_url = tesla.api_base_url + "api/1/vehicles"
    urls = [list_url] + vehicle_urls(tesla.api_base_url, bare_json(bare, list_url))
    adapter = CannedAdapter({url: bare.get(url).content for url in urls})
    for session in (tesla, bare):
        session.mount(tesla.api_base_url, adapter)


def _report(times: Dict[str, List[float]], sizes: List[int], where: str) -> None:
    for size in sizes:
        print(ratio_line(f"{size} cars, list + get_vehicle_data() each, {where}",
                         times[f"teslapy {size}"], times[f"bare {size}"],
                         "a bare requests loop", GOAL))
    per_car = {(name, size): statistics.median(times[f"{name} {size}"]) / size
               for name in ("teslapy", "bare") for size in sizes}
    for size in sizes:
        print(f"  {size} cars: {per_car['teslapy', size] * 1000:.2f} ms per car with teslapy, "
              f"{per_car['bare', size] * 1000:.2f} ms bare")
    smallest, largest = min(sizes), max(sizes)
    print(f"  time per car at {largest} against {smallest} cars: "
          + ", ".join(f"{name} {per_car[name, largest] / per_car[name, smallest]:.2f}x"
                      for name in ("teslapy", "bare")) + " (1.00x is linear)")


def main(argv: List[str]) -> int:
    rounds = int(argv[1]) if len(argv) > 1 else 11
    sizes = [int(size) for size in argv[2].split(",")] if len(argv) > 2 else [25, 100]
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        sessions = []
        for size in sizes:
            env = stack.enter_context(serving(fleet_of(size)))
            tesla = signed_in(env, os.path.join(folder, f"cache-{size}.json"))
            stack.callback(tesla.close)
            sessions.append((size, tesla, bare_session(tesla.token["access_token"])))
        actions = [action for size, tesla, bare in sessions
                   for action in _actions(size, tesla, bare)]
        _report(best_of(actions, rounds), sizes, "over the network")
        for _, tesla, bare in sessions:
            _canned(tesla, bare)
        _report(best_of(actions, rounds), sizes, "on a canned transport")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
