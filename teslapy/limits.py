"""How long a reply may take in all, and how large it may be.

``timeout`` bounds each wait for data, so a server (or a middlebox) that sends a byte
now and then never trips it and a call could last for hours. A session's ``deadline``
bounds the whole reply instead, counted from the moment the request is sent:

* the status line and headers: :class:`DeadlineAdapter` mounts urllib3 connections
  whose wait for them ends at the deadline (the socket is shut down then, by one
  watchdog thread that serves every connection);
* the body: :func:`read_within` reads it in pieces and stops at the deadline;
* a token minted over HTTP/2 (``httpx``): :func:`within` stops waiting at the deadline.

Either way the caller gets ``requests.ReadTimeout`` (``requests.ConnectionError`` when
retries of a GET ran out) and the connection is closed. SOCKS proxies use urllib3's own
connections, whose headers are bounded by ``timeout`` only.

A body longer than ``MAX_REPLY_BYTES`` is not read on (a server streaming without end
would otherwise fill the memory until the deadline): that is a
:class:`~teslapy.errors.ResponseError`.
"""
from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from teslapy.errors import ResponseError

T = TypeVar("T")

#: Seconds one reply may take in all, however slowly it trickles in (``deadline``).
DEFAULT_DEADLINE = 60.0
#: The largest body read (Tesla's largest replies, car images, are a few megabytes).
MAX_REPLY_BYTES = 32 * 2**20
_READ_SIZE = 65536


class Deadline(NamedTuple):
    """The deadline of one reply: its length in seconds and its end on ``time.monotonic()``."""

    seconds: float
    end: float

    @classmethod
    def starting_now(cls, seconds: float) -> "Deadline":
        return cls(seconds, time.monotonic() + seconds)

    def message(self, host: str) -> str:
        return f"The reply from {host} took longer than {self.seconds:g} s in all"


#: The deadline of the reply this thread is waiting for, if any.
_current: contextvars.ContextVar[Optional[Deadline]] = contextvars.ContextVar(
    "teslapy_reply_deadline", default=None)


@contextlib.contextmanager
def replies_within(deadline: Optional[Deadline]) -> Iterator[None]:
    """Bound the status line and headers of the replies awaited in this block by ``deadline``."""
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


class _Watchdog:
    """Runs actions at their deadlines, on one thread shared by every connection.

    A thread started for each request (``threading.Timer``) cost more than the request
    itself on a busy machine; this one starts on first use and sleeps until the
    earliest deadline it knows of. It is woken only for a deadline earlier than that, so
    a request that ends before its deadline (nearly all) costs a heap push and pop. A
    forked child starts a thread of its own (the parent's is not there).
    """

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._queue: List[List[Any]] = []           # [end, order, action or None]
        self._order = itertools.count()
        self._thread: Optional[threading.Thread] = None
        self._sleeping_until = float("inf")         # when the thread wakes by itself

    def call_at(self, end: float, action: Callable[[], None]) -> List[Any]:
        """Run ``action()`` at ``end`` (``time.monotonic()``) unless cancelled first."""
        entry = [end, next(self._order), action]
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="teslapy-deadlines",
                                                daemon=True)
                self._thread.start()
            heapq.heappush(self._queue, entry)
            if end < self._sleeping_until:           # rarely: most come after the next wake
                self._wake.notify()
        return entry

    def cancel(self, entry: List[Any]) -> None:
        """Drop the action of ``entry`` (it may have run already)."""
        with self._wake:
            entry[2] = None
            self._drop_cancelled()

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0][2] is None:
            heapq.heappop(self._queue)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._drop_cancelled()
                self._sleeping_until = self._queue[0][0] if self._queue else float("inf")
                wait = self._sleeping_until - time.monotonic()
                if wait > 0:
                    self._wake.wait(None if not self._queue else wait)
                    continue
                action = heapq.heappop(self._queue)[2]
            action()


_watchdog = _Watchdog()


class _HeadersWithinDeadline:
    """A urllib3 connection whose wait for the status line and headers ends at the deadline."""

    sock: Any
    host: str

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline, sock = _current.get(), self.sock
        if deadline is None or sock is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        expired = threading.Event()

        def give_up() -> None:
            expired.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        watch = _watchdog.call_at(deadline.end, give_up)
        try:
            response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        except Exception:
            if expired.is_set():
                raise _too_late(self.host, deadline) from None
            raise
        finally:
            _watchdog.cancel(watch)
        if expired.is_set():
            response.close()
            raise _too_late(self.host, deadline)
        return response


def _too_late(host: str, deadline: Deadline) -> urllib3.exceptions.ReadTimeoutError:
    """urllib3's read timeout, which it retries (GET) or requests raises as ``ReadTimeout``.

    The connection does not know its pool, which urllib3 needs only for its message.
    """
    message = deadline.message(host)
    return urllib3.exceptions.ReadTimeoutError(None, host, message)  # type: ignore[arg-type]


class _Connection(_HeadersWithinDeadline, HTTPConnection):
    pass


class _TlsConnection(_HeadersWithinDeadline, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


_POOLS = {"http": _Pool, "https": _TlsPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections end the wait for headers at the reply's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def collect(chunks: Iterator[bytes], deadline: Optional[Deadline], host: str) -> bytes:
    """The body arriving as ``chunks``, read until the ``deadline`` or ``MAX_REPLY_BYTES``.

    Raises:
        requests.ReadTimeout: the body did not arrive in time.
        ResponseError: the body is larger than ``MAX_REPLY_BYTES``.
    """
    parts, size = [], 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise ResponseError(f"The reply from {host} is larger than {MAX_REPLY_BYTES} bytes")
        if deadline is not None and time.monotonic() > deadline.end:
            raise requests.ReadTimeout(deadline.message(host))
    return b"".join(parts)


def read_within(response: requests.Response, deadline: Optional[Deadline]) -> None:
    """Read the whole body of a streamed reply, stopping at ``deadline`` or ``MAX_REPLY_BYTES``.

    Raises:
        requests.ReadTimeout: the body did not arrive in time (the connection is closed).
        requests.ConnectionError: the connection broke off.
        ResponseError: the body is larger than ``MAX_REPLY_BYTES``.
    """
    raw = response.raw
    read_some = getattr(raw, "read1", None)         # urllib3 2: returns what has arrived

    def chunks() -> Iterator[bytes]:
        while True:
            try:
                chunk = (read_some(_READ_SIZE, decode_content=True) if read_some is not None
                         else raw.read(1024, decode_content=True))
            except urllib3.exceptions.ReadTimeoutError as error:
                raise requests.ReadTimeout(str(error), response=response) from error
            except (OSError, urllib3.exceptions.HTTPError) as error:
                raise requests.ConnectionError(str(error), response=response) from error
            if not chunk:
                return
            yield chunk

    try:
        content = collect(chunks(), deadline, urlsplit(response.url).netloc)
    except (requests.RequestException, ResponseError) as error:
        response.close()
        error.response = response
        raise
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]
    raw.release_conn()


def within(deadline: Optional[Deadline], host: str, call: Callable[[], T],
           give_up: Callable[[], None]) -> T:
    """``call()``, for a client with no way to end a wait at a deadline (``httpx``).

    The call runs in a thread of its own; at ``deadline`` the caller stops waiting for
    it, ``give_up()`` closes its connections and ``requests.ReadTimeout`` is raised.

    Raises:
        requests.ReadTimeout: the call did not end in time.
        whatever ``call`` raises.
    """
    if deadline is None:
        return call()
    outcome: Dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="teslapy-reply", daemon=True).start()
    if not done.wait(max(0.0, deadline.end - time.monotonic())):
        give_up()
        raise requests.ReadTimeout(deadline.message(host))
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result
