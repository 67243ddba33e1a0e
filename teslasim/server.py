"""Run the simulated Tesla cloud under Hypercorn: every service on its own loopback port.

All eleven listeners are served by one asyncio event loop in a background thread. The
listening sockets are bound before the thread starts (free ports with ``port=0``), so
the URLs are known at once and clients may connect immediately::

    with running() as sim:
        requests.get(sim.urls["api_base_url"] + "status")   # 'ok'
        sim.world.clock.advance(3600)
        sim.faults.add(service="api", path="vehicle_data", status=503)

Under the 2026 rules (``running(rules="2026")``) the two SSO listeners and the Fleet
token host serve HTTPS with HTTP/2 by ALPN, with a certificate from a CA made at start
(``sim.ca_file``, removed at stop); see :mod:`teslasim.tls`. The other services stay
plain http/ws in both eras.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

from hypercorn.asyncio import serve
from hypercorn.config import Config

from teslasim.app import SERVICES, create_apps
from teslasim.faults import FaultPlan
from teslasim.fleet_model import DEMO_CLIENT_ID, DEMO_SCOPES
from teslasim.routes.fleet_auth import issue_fleet_refresh_token
from teslasim.routes.sso import issue_refresh_token
from teslasim.rules import Rules, as_rules
from teslasim.state import World
from teslasim.tls import LOOPBACK_NAMES, Certificates, ConnectionInfoMiddleware, TlsFront

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
ENV_KEYS = {
    "TESLAPY_SSO_BASE_URL": "sso_base_url",
    "TESLAPY_API_BASE_URL": "api_base_url",
    "TESLAPY_STREAMING_BASE_URL": "streaming_base_url",
    "TESLAPY_COMPOSITOR_URL": "compositor_url",
    "TESLAPY_SSO_CN_BASE_URL": "sso_cn_base_url",
    "TESLAPY_API_CN_BASE_URL": "api_cn_base_url",
    "TESLAPY_STREAMING_CN_BASE_URL": "streaming_cn_base_url",
    "TESLAPY_FLEET_NA_BASE_URL": "fleet_na_base_url",
    "TESLAPY_FLEET_EU_BASE_URL": "fleet_eu_base_url",
    "TESLAPY_FLEET_CN_BASE_URL": "fleet_cn_base_url",
    "TESLAPY_FLEET_AUTH_BASE_URL": "fleet_auth_base_url",
    "TESLAPY_FLEET_PAIRING_URL": "fleet_pairing_url",
}
#: The environment variable naming the CA file that signed the SSO's certificate (2026).
CA_BUNDLE_ENV = "TESLAPY_CA_BUNDLE"
#: Services served over TLS under the 2026 rules.
TLS_SERVICES = ("sso", "sso_cn", "fleet_auth")
INTERNAL_HOST = "127.0.0.1"


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=128)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Simulator:
    """The running simulator: its world, URLs, client environment and fault plan.

    ``port=0`` picks free ports; any other ``port`` P gives sso P, sso_cn P+1, api P+2,
    streaming P+3, compositor P+4, api_cn P+5, streaming_cn P+6, and the Fleet API's
    fleet_na P+7, fleet_eu P+8, fleet_cn P+9 and token host fleet_auth P+10. ``rules`` (a
    :class:`Rules` or ``"2021"``/``"2026"``) replaces the world's rules; by default the
    world keeps its own (a new demo world plays 2021). Under the 2026 rules the SSO
    URLs are ``https://`` and ``ca_file`` is the CA to trust (else None). Raises
    ``OSError`` when a port cannot be bound, ``ValueError`` for unknown rules.
    """

    def __init__(self, world: Optional[World] = None, host: str = "127.0.0.1",
                 port: int = 0, rules: Rules | str | None = None) -> None:
        rules = as_rules(rules)
        if world is None:
            world = World.demo(rules=rules)
        elif rules is not None:
            world.rules = rules
        self.world = world
        self.host = host
        self.faults = FaultPlan()
        self.tls = world.rules.today
        self.started_rules = world.rules
        self._sockets: dict[str, socket.socket] = {}
        self._internal: dict[str, socket.socket] = {}
        self._certificates: Optional[Certificates] = None
        try:
            for index, service in enumerate(SERVICES):
                self._sockets[service] = _listen(host, port + index if port else 0)
            if self.tls:
                for service in TLS_SERVICES:
                    self._internal[service] = _listen(INTERNAL_HOST, 0)
                self._certificates = Certificates(LOOPBACK_NAMES + (_url_host(host),))
        except BaseException:
            self._close_sockets()
            raise
        self.ca_file = self._certificates.ca_file if self._certificates else None
        ports = {name: sock.getsockname()[1] for name, sock in self._sockets.items()}
        self.ports = ports
        base = "http://" + _url_host(host)
        sso = ("https://" if self.tls else "http://") + _url_host(host)
        self.urls = {
            "sso_base_url": f"{sso}:{ports['sso']}/",
            "sso_cn_base_url": f"{sso}:{ports['sso_cn']}/",
            "api_base_url": f"{base}:{ports['api']}/",
            "streaming_base_url": f"ws://{_url_host(host)}:{ports['streaming']}/streaming/",
            "compositor_url": f"{base}:{ports['compositor']}/v1/compositor/",
            "api_cn_base_url": f"{base}:{ports['api_cn']}/",
            "streaming_cn_base_url": f"ws://{_url_host(host)}:{ports['streaming_cn']}/streaming/",
            "fleet_na_base_url": f"{base}:{ports['fleet_na']}/",
            "fleet_eu_base_url": f"{base}:{ports['fleet_eu']}/",
            "fleet_cn_base_url": f"{base}:{ports['fleet_cn']}/",
            "fleet_auth_base_url": f"{sso}:{ports['fleet_auth']}/",
            "fleet_pairing_url": f"{base}:{ports['fleet_na']}/_ak/",
        }
        self.env = {name: self.urls[key] for name, key in ENV_KEYS.items()}
        if self.ca_file:
            self.env[CA_BUNDLE_ENV] = self.ca_file
        self.apps = create_apps(self.world, self.urls, self.faults)
        self._fronts: dict[str, TlsFront] = {}
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._started = threading.Event()
        self.error: Optional[BaseException] = None

    @property
    def rules(self) -> Rules:
        """The rules the world in service follows."""
        return self.world.rules

    def reset(self, world: Optional[World] = None) -> World:
        """Serve a fresh demo world (or ``world``) on every service and clear all faults.

        The fresh demo world follows the rules the simulator was started with. Raises
        ``ValueError`` when ``world`` follows the rules of another era than the
        listeners serve (2026 needs TLS at the SSO, 2021 plain http).
        """
        if world is None:
            world = World.demo(rules=self.started_rules)
        elif world.rules.today != self.tls:
            raise ValueError(f"this simulator serves the {self.world.rules.era} rules; "
                             f"start another one for a world of {world.rules.era}")
        self.world = world
        for app in self.apps.values():
            app.state.world = world
        self.faults.clear()
        return world

    def fleet_refresh_token_for(self, email: str, client_id: str = DEMO_CLIENT_ID,
                                scope: str = " ".join(DEMO_SCOPES)) -> str:
        """A fresh refresh token of ``email`` for the Fleet API app ``client_id``.

        As if the person had signed in to the app; good for one refresh grant at the
        Fleet token host. Raises ``ValueError`` for an unknown account or app.
        """
        return issue_fleet_refresh_token(self.world, self.urls, email, client_id, scope)

    def refresh_token_for(self, email: str) -> str:
        """A fresh refresh token of the account ``email``, good for one refresh grant.

        It belongs to the SSO of the account's region. Raises ``ValueError`` for an
        unknown account.
        """
        return issue_refresh_token(self.world, email, self.urls)

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Start serving in a background thread; returns once the event loop runs."""
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        self._thread = threading.Thread(target=self._run, name="teslasim", daemon=True)
        self._thread.start()
        if not self._started.wait(STARTUP_TIMEOUT):
            raise RuntimeError("simulator did not start")
        if self.error is not None:
            raise RuntimeError("simulator failed to start") from self.error

    def stop(self) -> None:
        """Stop serving, close every listener and wait for the thread to end."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            self._close_sockets()
            return
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:        # loop already closed
                pass
        thread.join(SHUTDOWN_TIMEOUT)
        self._thread = None
        self._close_sockets()

    def __enter__(self) -> "Simulator":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _close_sockets(self) -> None:
        for sock in [*self._sockets.values(), *self._internal.values()]:
            if sock.fileno() != -1:
                sock.close()
        if self._certificates is not None:
            self._certificates.remove()

    def _config(self, service: str) -> Config:
        config = Config()
        # Hypercorn takes the listening socket over: it closes it when serving ends.
        listener = self._internal.get(service) or self._sockets[service]
        config.bind = [f"fd://{listener.detach()}"]
        config.accesslog = None
        config.errorlog = logging.getLogger("teslasim.hypercorn")
        config.graceful_timeout = 1.0
        return config

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve_all())
        except BaseException as error:      # reported to start()/the log, thread ends
            self.error = error
            logger.exception("simulator stopped with an error")
        finally:
            self._started.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _start_tls_fronts(self) -> dict:
        """Put a TLS front on each public SSO socket; the ASGI apps that see its facts."""
        apps: dict = dict(self.apps)
        if self._certificates is None:
            return apps
        context = self._certificates.server_context()
        for service, internal in self._internal.items():
            front = TlsFront(context, (INTERNAL_HOST, internal.getsockname()[1]))
            await front.start(self._sockets[service])
            self._fronts[service] = front
            apps[service] = ConnectionInfoMiddleware(self.apps[service], front)
        return apps

    async def _serve_all(self) -> None:
        self._stop = stop = asyncio.Event()
        apps = await self._start_tls_fronts()
        configs = {service: self._config(service) for service in SERVICES}

        async def serve_one(service: str) -> None:
            try:
                await serve(apps[service], configs[service], shutdown_trigger=stop.wait)
            except BaseException:
                stop.set()              # one service failing stops them all
                raise

        async def stop_fronts() -> None:
            await stop.wait()
            for front in self._fronts.values():
                await front.stop()

        tasks = [asyncio.ensure_future(serve_one(service)) for service in SERVICES]
        tasks.append(asyncio.ensure_future(stop_fronts()))
        asyncio.get_running_loop().call_soon(self._started.set)
        await asyncio.gather(*tasks)


@contextmanager
def running(world: Optional[World] = None, host: str = "127.0.0.1", port: int = 0,
            rules: Rules | str | None = None) -> Iterator[Simulator]:
    """Serve the simulator in a background thread for the ``with`` block, then stop it.

    The arguments are those of :class:`Simulator`.
    """
    simulator = Simulator(world, host, port, rules)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()
