"""Explicit, deterministic faults for the simulated services, applied by an ASGI middleware.

Tests add faults to the running simulator's plan and every service consults it first::

    fault = sim.faults.add(service="api", path=r"/vehicle_data$", status=503, times=2)
    ...                       # the next two matching calls answer 503
    assert fault.hits == 2

A fault matches a request when its ``service`` (``sso``, ``sso_cn``, ``api``,
``streaming``, ``compositor``; None = any), ``method`` (None = any) and ``path``
(a regular expression searched in the URL path, e.g. ``/api/1/vehicles``) all match.
The first matching fault with uses left wins and uses one of its ``times`` (None =
unlimited). What it does, in order:

- ``delay`` seconds of real waiting (the event loop keeps serving other requests);
- ``drop=True``: the connection is closed without any response (the client sees a
  connection error, e.g. ``requests.ConnectionError``); a websocket is closed;
- ``status`` (an int): that status with ``body`` — a dict/list is sent as JSON, a
  str as text/plain, None as Tesla's error envelope naming the status
  (``{"response": null, "error": "Service Unavailable", "error_description": ""}``);
  ``headers`` adds response headers (e.g. ``{"Retry-After": "3"}``);
- ``status=None`` and no drop: the request goes on to the service after the delay.

Two opt-ins let a test wait on events instead of sleeping: ``fault.release()`` ends the
delay of the requests held in it now (and skips it for later ones), and
``fault.wait_served(timeout)`` returns once the service has finished every request the
fault let through, or a given number of them (``fault.served`` counts them).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Optional

logger = logging.getLogger(__name__)


@dataclass
class Fault:
    """One planned fault; ``hits`` counts the requests it has answered.

    ``served`` counts the requests it let through (``status=None``, no drop) that the
    service has finished with.
    """

    service: Optional[str]
    path: str
    method: Optional[str]
    status: Optional[int]
    body: Any
    delay: float
    times: Optional[int]
    drop: bool
    headers: dict = field(default_factory=dict)
    hits: int = 0
    served: int = 0

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        self._changed = threading.Condition()
        self._released = False
        self._held: list = []           # (loop, asyncio.Event) of each request in its delay

    def release(self) -> None:
        """End the delay of every request held in it now; later requests are not delayed."""
        with self._changed:
            self._released = True
            held, self._held = self._held, []
        for loop, event in held:
            loop.call_soon_threadsafe(event.set)

    def wait_served(self, timeout: float, count: Optional[int] = None) -> bool:
        """For a fault that lets requests through: wait until the service has finished
        ``count`` of them (default: every request it took, ``served == hits``); False
        after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self.served >= (self.hits if count is None else count), timeout)

    async def hold(self) -> None:
        """Wait out ``delay`` seconds, or less if :meth:`release` is called meanwhile."""
        released = asyncio.Event()
        entry = (asyncio.get_running_loop(), released)
        with self._changed:
            if self._released:
                return
            self._held.append(entry)
        try:
            await asyncio.wait_for(released.wait(), self.delay)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._changed:
                if entry in self._held:
                    self._held.remove(entry)

    def finished_one(self) -> None:
        """Count a request let through as served by the service."""
        with self._changed:
            self.served += 1
            self._changed.notify_all()

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, service: str, method: str, path: str) -> bool:
        return (not self.exhausted
                and (self.service is None or self.service == service)
                and (self.method is None or self.method.upper() == method.upper())
                and self._pattern.search(path) is not None)


class FaultPlan:
    """The ordered list of faults shared by all services of one simulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = []

    def add(self, service: Optional[str] = None, path: str = "", method: Optional[str] = None,
            status: Optional[int] = 503, body: Any = None, delay: float = 0.0,
            times: Optional[int] = 1, drop: bool = False,
            headers: Optional[dict] = None) -> Fault:
        """Plan a fault (see the module docstring) and return it; raises ``ValueError``."""
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError(f"status must be an HTTP status code, not {status!r}")
        if delay < 0:
            raise ValueError("delay must not be negative")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for unlimited)")
        try:
            re.compile(path)
        except re.error as error:
            raise ValueError(f"path is not a regular expression: {error}") from None
        fault = Fault(service, path, method, status, body, float(delay), times, drop,
                      dict(headers or {}))
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every planned fault."""
        with self._lock:
            self.faults.clear()

    @property
    def hits(self) -> int:
        """Requests answered by faults since the last ``clear()``."""
        with self._lock:
            return sum(fault.hits for fault in self.faults)

    def take(self, service: str, method: str, path: str) -> Optional[Fault]:
        """The first fault matching this request, with one use counted, or None."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(service, method, path):
                    fault.hits += 1
                    return fault
        return None


def _error_body(status: int) -> bytes:
    try:
        text = HTTPStatus(status).phrase
    except ValueError:
        text = f"error {status}"
    return json.dumps({"response": None, "error": text, "error_description": ""}).encode()


class FaultMiddleware:
    """ASGI middleware applying the app's ``state.faults`` plan before the service runs."""

    def __init__(self, app, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        plan: Optional[FaultPlan] = getattr(scope["app"].state, "faults", None)
        method = scope.get("method", "GET")
        fault = plan.take(self.service, method, scope["path"]) if plan else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        logger.info("fault on %s %s %s: status=%s drop=%s delay=%s", self.service, method,
                    scope["path"], fault.status, fault.drop, fault.delay)
        if fault.delay:
            await fault.hold()
        if scope["type"] == "websocket":
            if fault.drop or fault.status is not None:
                await send({"type": "websocket.close", "code": 1011})
                return
        elif fault.drop:
            # A 100 Continue head followed by a close: the client reads no final response.
            await send({"type": "http.response.start", "status": 100, "headers": []})
            return
        elif fault.status is not None:
            await _send_fault_response(fault, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            fault.finished_one()


async def _send_fault_response(fault: Fault, send) -> None:
    if fault.body is None:
        body, content_type = _error_body(fault.status), "application/json; charset=utf-8"
    elif isinstance(fault.body, (bytes, str)):
        body = fault.body.encode() if isinstance(fault.body, str) else fault.body
        content_type = "text/plain; charset=utf-8"
    else:
        body, content_type = json.dumps(fault.body).encode(), "application/json; charset=utf-8"
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), str(v).encode("latin-1"))
                for k, v in fault.headers.items()]
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
