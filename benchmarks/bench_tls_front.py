"""Latency of the 2026 SSO's TLS front against Hypercorn serving TLS itself.

Run: ``python benchmarks/bench_tls_front.py [rounds]``

The same SSO app answers ``GET oauth2/v3/logout`` twice in one process: through the
simulator's :class:`teslasim.tls.TlsFront` (TLS ends in teslasim, the bytes are relayed
to Hypercorn on loopback) and through Hypercorn with its own TLS (the baseline), with
the same certificate. Two clients: HTTP/2 requests on one kept connection (httpx), and
HTTP/1.1 requests each on a new TLS connection (requests, handshake included). Rounds
alternate between the two servers; the medians are printed with the ratio
front/baseline, so the figures do not depend on the machine's speed.
"""
from __future__ import annotations

import asyncio
import os
import socket
import ssl
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import requests  # noqa: E402
from hypercorn.asyncio import serve  # noqa: E402
from hypercorn.config import Config  # noqa: E402

from teslasim.server import running  # noqa: E402
from teslasim.tls import Certificates  # noqa: E402

PATH = "oauth2/v3/logout"
REQUESTS_PER_ROUND = 200
HANDSHAKES_PER_ROUND = 40


def serve_natively(app, certificates: Certificates) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` with Hypercorn's own TLS on a free port: (base URL, stop)."""
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.certfile, config.keyfile = certificates.chain_file, certificates.key_file
    config.accesslog = config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, daemon=True,
                              args=(serve(app, config, shutdown_trigger=stop.wait),))
    thread.start()

    def shutdown() -> None:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)

    return f"https://127.0.0.1:{port}/", shutdown


def h2_seconds(base: str, context: ssl.SSLContext) -> float:
    """Seconds per HTTP/2 request on one kept connection."""
    with httpx.Client(http2=True, verify=context, trust_env=False) as client:
        client.get(base + PATH)
        started = time.perf_counter()
        for _ in range(REQUESTS_PER_ROUND):
            client.get(base + PATH)
        return (time.perf_counter() - started) / REQUESTS_PER_ROUND


def handshake_seconds(base: str, ca_file: str) -> float:
    """Seconds per HTTP/1.1 request on a new TLS connection."""
    started = time.perf_counter()
    for _ in range(HANDSHAKES_PER_ROUND):
        with requests.Session() as session:
            session.trust_env = False
            session.get(base + PATH, verify=ca_file)
    return (time.perf_counter() - started) / HANDSHAKES_PER_ROUND


def main(rounds: int) -> None:
    os.environ.pop("REQUESTS_CA_BUNDLE", None)
    with running(rules="2026") as sim:
        certificates = Certificates()
        native, stop_native = serve_natively(sim.apps["sso"], certificates)
        front = sim.urls["sso_base_url"]
        try:
            results = {"h2": {"front": [], "native": []}, "new": {"front": [], "native": []}}
            for _ in range(rounds):
                for name, base, ca_file in (("front", front, sim.ca_file),
                                            ("native", native, certificates.ca_file)):
                    context = ssl.create_default_context(cafile=ca_file)
                    results["h2"][name].append(h2_seconds(base, context))
                    results["new"][name].append(handshake_seconds(base, ca_file))
        finally:
            stop_native()
            certificates.remove()
    for kind, label in (("h2", "HTTP/2, kept connection"),
                        ("new", "HTTP/1.1, new TLS connection each")):
        front_ms = statistics.median(results[kind]["front"]) * 1000
        native_ms = statistics.median(results[kind]["native"]) * 1000
        print(f"{label:36s} front {front_ms:6.3f} ms  Hypercorn TLS {native_ms:6.3f} ms  "
              f"ratio {front_ms / native_ms:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
