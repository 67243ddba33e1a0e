"""Latency of a signed command (and of its session handshake) against a plain REST command.

Run: ``python benchmarks/bench_signed_command.py [rounds]``

One simulator (2026 rules) in this process, one ``TeslaFleet`` session with a command key
paired with the demo Model 3 and the older Model S. Each round times, over real
loopback sockets and through the whole library (request, token, JSON, signing, the
simulated car's checks, the encrypted answer):

* ``rest``: ``FLASH_LIGHTS`` to the Model S, a plain REST command (the baseline);
* ``handshake``: a fresh infotainment session's handshake with the Model 3 (ECDH on
  both sides, the session info's tag);
* ``signed``: ``FLASH_LIGHTS`` to the Model 3 over the established session (HMAC-signed,
  the answer AES-GCM decrypted);
* ``first``: ``FLASH_LIGHTS`` to the Model 3 with no session yet (handshake + command).

The medians are printed in milliseconds and as ratios to ``rest``, so the figures do not
depend on the machine's speed.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import teslapy  # noqa: E402
from teslapy.vcp import Domain, create_key_file, public_key_pem  # noqa: E402
from teslasim.server import running  # noqa: E402

CALLS_PER_ROUND = 40
MODEL_3, MODEL_S = "5YJ3E111111111111", "5YJSA1E2XHF123456"


def median_seconds(action: Callable[[], object], calls: int = CALLS_PER_ROUND) -> float:
    """The median of ``calls`` timings of ``action``."""
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main(rounds: int = 5) -> None:
    with running(rules="2026") as sim, tempfile.TemporaryDirectory() as folder:
        app = sim.world.fleet.app("teslapy-demo")
        key_path = os.path.join(folder, "key.pem")
        key = create_key_file(key_path)
        for region in ("na", "eu"):
            sim.world.fleet.register(app.client_id, region, "teslapy-demo.example.com",
                                     public_key_pem(key))
        for vin in (MODEL_3, MODEL_S):
            sim.world.fleet.approve("teslapy-demo.example.com", vin)
        sim.world.vehicles[1].data["state"] = "online"
        tesla = teslapy.TeslaFleet(
            "elon@tesla.com", app.client_id, app.client_secret, command_key=key_path,
            region="na", cache_file=os.path.join(folder, "cache.json"), verify=sim.ca_file,
            sso_base_url=sim.urls["sso_base_url"],
            fleet_base_urls={region: sim.urls[f"fleet_{region}_base_url"]
                             for region in ("na", "eu", "cn")},
            fleet_auth_base_url=sim.urls["fleet_auth_base_url"])
        with tesla:
            tesla.refresh_token(refresh_token=sim.fleet_refresh_token_for("elon@tesla.com"))
            cars = {car["vin"]: car for car in tesla.vehicle_list()}
            model_3, model_s = cars[MODEL_3], cars[MODEL_S]
            model_s.command("FLASH_LIGHTS")            # learns it takes REST (one 422)
            model_3.command("FLASH_LIGHTS")            # warm up both paths
            signer = tesla._command_signer()
            assert signer is not None

            def handshake() -> None:
                session = signer._sessions_of(MODEL_3)[Domain.INFOTAINMENT]
                session.handshake(signer._transport(MODEL_3))

            def first_command() -> None:
                signer._sessions.pop(MODEL_3, None)
                model_3.command("FLASH_LIGHTS")

            measures: Dict[str, List[float]] = {"rest": [], "handshake": [], "signed": [],
                                                "first": []}
            for _ in range(rounds):
                measures["rest"].append(median_seconds(lambda: model_s.command("FLASH_LIGHTS")))
                measures["handshake"].append(median_seconds(handshake))
                measures["signed"].append(median_seconds(lambda: model_3.command("FLASH_LIGHTS")))
                measures["first"].append(median_seconds(first_command))
                sim.world.fleet.signed_runs.clear()
    rest = statistics.median(measures["rest"])
    print(f"{rounds} rounds of {CALLS_PER_ROUND} calls, medians over loopback sockets:")
    for name, values in measures.items():
        value = statistics.median(values)
        print(f"  {name:9} {value * 1000:7.2f} ms   {value / rest:5.2f} x REST")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
