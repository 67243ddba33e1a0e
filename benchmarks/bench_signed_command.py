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

Rounds time the four in rotating order (20 calls each); the figures are the medians of
the per-round ratios to ``rest``, with their spread, and the milliseconds per call.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from interleaved import interleave, ratio_line  # noqa: E402
import teslapy  # noqa: E402
from teslapy.vcp import Domain, create_key_file, public_key_pem  # noqa: E402
from teslasim.server import running  # noqa: E402

CALLS_PER_ROUND = 20
MODEL_3, MODEL_S = "5YJ3E111111111111", "5YJSA1E2XHF123456"
DOMAIN = "teslapy-demo.example.com"


def repeated(name: str, call: Callable[[], object]) -> Callable[[], None]:
    """``call`` done CALLS_PER_ROUND times, as one timed action called ``name``."""
    def action() -> None:
        for _ in range(CALLS_PER_ROUND):
            call()
    action.__name__ = name
    return action


def main(rounds: int = 11) -> None:
    with running(rules="2026") as sim, tempfile.TemporaryDirectory() as folder:
        app = sim.world.fleet.app("teslapy-demo")
        key_path = os.path.join(folder, "key.pem")
        key = create_key_file(key_path)
        sim.world.fleet.register(app.client_id, "na", DOMAIN, public_key_pem(key))
        for vin in (MODEL_3, MODEL_S):
            sim.world.fleet.approve(DOMAIN, vin)
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

            actions = [repeated("rest", lambda: model_s.command("FLASH_LIGHTS")),
                       repeated("handshake", handshake),
                       repeated("signed", lambda: model_3.command("FLASH_LIGHTS")),
                       repeated("first", first_command)]
            times = interleave(actions, rounds)
    print(f"{rounds} rounds of {CALLS_PER_ROUND} calls each, over loopback sockets:")
    for name in ("handshake", "signed", "first"):
        per_call = statistics.median(times[name]) / CALLS_PER_ROUND * 1000
        print(f"  {ratio_line(name, times[name], times['rest'], 'a REST command')}; "
              f"{per_call:.2f} ms a call")
    rest = statistics.median(times["rest"]) / CALLS_PER_ROUND * 1000
    print(f"  rest: {rest:.2f} ms a call")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
