"""The simulator in a process of its own, and what the API benchmarks share.

Served from another process so that its work does not share the benchmark's
interpreter (and lock) with the clients being timed, as Tesla's cloud would not.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import HTTPResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import teslapy  # noqa: E402
from interleaved import interleave  # noqa: E402

EMAIL, PASSWORD = "elon@tesla.com", "starship"


@contextlib.contextmanager
def serving(fleet: Optional[Dict[str, Any]] = None) -> Iterator[Dict[str, str]]:
    """Run ``python -m teslasim`` (with ``fleet``, else the demo fleet); yields its URLs
    as the ``TESLAPY_*`` variables it prints."""
    with tempfile.TemporaryDirectory(prefix="teslasim-bench-") as folder:
        command = [sys.executable, "-m", "teslasim", "--port", "0"]
        if fleet is not None:
            path = os.path.join(folder, "fleet.json")
            Path(path).write_text(json.dumps(fleet), "utf-8")
            command += ["--fleet", path]
        server = subprocess.Popen(command, cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
        try:
            env: Dict[str, str] = {}
            assert server.stdout is not None
            for line in server.stdout:
                if line.strip() == "ready":
                    break
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value.strip("'")
            else:
                raise RuntimeError("the simulator stopped before it was ready")
            yield env
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(10)


def best_of(actions: List[Callable[[], None]], rounds: int,
            tries: int = 3) -> Dict[str, List[float]]:
    """:func:`interleaved.interleave` ``tries`` times; each round's time is the best of
    its tries (other work on the machine only ever adds time)."""
    runs = [interleave(actions, rounds) for _ in range(tries)]
    return {name: [min(run[name][index] for run in runs) for index in range(rounds)]
            for name in runs[0]}


def demo_fleet() -> Dict[str, Any]:
    """The simulator's built-in fleet document."""
    return json.loads((ROOT / "teslasim" / "fleet.json").read_text("utf-8"))


def signed_in(env: Dict[str, str], cache_file: str) -> teslapy.Tesla:
    """A ``Tesla`` signed in to the demo account at the simulator of ``env``."""
    tesla = teslapy.Tesla(
        EMAIL, PASSWORD, cache_file=cache_file,
        sso_base_url=env["TESLAPY_SSO_BASE_URL"], api_base_url=env["TESLAPY_API_BASE_URL"],
        streaming_base_url=env["TESLAPY_STREAMING_BASE_URL"],
        compositor_url=env["TESLAPY_COMPOSITOR_URL"])
    tesla.fetch_token()
    return tesla


def bare_session(token: str) -> requests.Session:
    """A plain ``requests.Session`` that sends ``token`` as the bearer (the floor)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def bare_json(session: requests.Session, url: str) -> Any:
    """GET ``url`` the way a bare requests script would: check the status, parse JSON."""
    reply = session.get(url)
    reply.raise_for_status()
    return reply.json()["response"]


def vehicle_urls(api_base_url: str, cars: List[Dict[str, Any]]) -> List[str]:
    """The ``vehicle_data`` URL of each car."""
    return [f"{api_base_url}api/1/vehicles/{car['id_s']}/vehicle_data" for car in cars]


class CannedAdapter(HTTPAdapter):
    """Answers each URL of ``replies`` with its bytes (200, JSON), opening no connection."""

    def __init__(self, replies: Dict[str, bytes]) -> None:
        super().__init__()
        self.replies = replies

    def send(self, request: requests.PreparedRequest,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        body = self.replies[str(request.url)]
        raw = HTTPResponse(body=io.BytesIO(body), status=200, preload_content=False,
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(len(body))})
        return self.build_response(request, raw)
