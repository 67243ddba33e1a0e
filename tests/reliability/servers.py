"""Small misbehaving HTTP servers on loopback: each request is answered as the test says.

:class:`LoopbackServer` speaks HTTP/1.1 over a raw socket, so an answer can be
anything: a normal reply, a reset, a reply cut short, bytes trickled one at a time, a
reply that never comes. Answers are queued with :meth:`LoopbackServer.then`; when the
queue is empty, :attr:`LoopbackServer.otherwise` answers. Every request is recorded.
:func:`session_on` makes a session that holds tokens for such a server.
"""
from __future__ import annotations

import collections
import json
import logging
import socket
import struct
import threading
import time
from typing import Any, Callable, Deque, Dict, List, NamedTuple, Optional, Union

import teslapy

#: How long one trickle step or stall check waits (seconds).
TICK = 0.1


class Request(NamedTuple):
    """One request as the server read it."""

    method: str
    target: str
    headers: Dict[str, str]
    body: bytes


Answer = Callable[[socket.socket, "LoopbackServer"], None]


class LoopbackServer:
    """An HTTP/1.1 server on ``127.0.0.1`` that answers each request with the next answer."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/"
        self.requests: List[Request] = []
        self.otherwise: Answer = reply(500)
        self._queue: Deque[Answer] = collections.deque()
        self._lock = threading.Lock()
        self._connections: List[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._serve, name="loopback-server", daemon=True).start()

    def then(self, *answers: Answer) -> "LoopbackServer":
        """Queue ``answers`` for the next requests, in order."""
        with self._lock:
            self._queue.extend(answers)
        return self

    def reset(self) -> None:
        """Forget the queued answers and the recorded requests."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def close(self) -> None:
        """Stop serving and end every connection (a trickle or stall in progress ends too)."""
        self.closed.set()
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> "LoopbackServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(connection)
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            request = _read_request(connection)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
                answer = self._queue.popleft() if self._queue else self.otherwise
            try:
                answer(connection, self)
            except OSError:
                pass                    # the client gave up


def _read_request(connection: socket.socket) -> Optional[Request]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target, headers, body)


def _head(status: int, headers: Dict[str, str], reason: str = "") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason or 'Status'}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- answers ----------------------------------------------------------------------


def reply(status: int, body: Union[bytes, str] = b"", headers: Optional[Dict[str, str]] = None,
          content_type: str = "application/json") -> Answer:
    """A whole reply, then the connection is closed."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body

    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        fields = {"Content-Type": content_type, "Content-Length": str(len(data)),
                  "Connection": "close", **(headers or {})}
        connection.sendall(_head(status, fields) + data)
    return answer


def raw(data: bytes) -> Answer:
    """These bytes as they are (a broken status line, another protocol), then close."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        connection.sendall(data)
    return answer


def reset() -> Answer:
    """A TCP reset instead of a reply."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return answer


def hang_up() -> Answer:
    """The connection closed without a reply."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        connection.shutdown(socket.SHUT_RDWR)
    return answer


def cut_short(status: int, body: bytes, sent: int) -> Answer:
    """Headers announcing ``body``, then only its first ``sent`` bytes, then close."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        fields = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        connection.sendall(_head(status, fields) + body[:sent])
    return answer


def stall() -> Answer:
    """Read the request and never answer (until the server closes)."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        server.closed.wait()
    return answer


def trickle(data: bytes, gap: float = TICK) -> Answer:
    """``data`` one byte every ``gap`` seconds, until it is sent or the client leaves."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        for byte in data:
            if server.closed.wait(gap):
                return
            connection.sendall(bytes([byte]))
    return answer


def trickled_body(length: int = 10000, gap: float = TICK) -> Answer:
    """Headers at once, then a ``length``-byte body one byte every ``gap`` seconds."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        fields = {"Content-Type": "application/json", "Content-Length": str(length)}
        connection.sendall(_head(200, fields))
        trickle(b" " * length, gap)(connection, server)
    return answer


def trickled_headers(gap: float = TICK) -> Answer:
    """A status line, then one header line that never ends, one byte every ``gap`` seconds."""
    return trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 60000, gap)


def endless_body(chunk: int = 65536, pause: float = 0.0) -> Answer:
    """A chunked body that never ends: ``chunk`` bytes after ``chunk`` bytes."""
    def answer(connection: socket.socket, server: LoopbackServer) -> None:
        fields = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        connection.sendall(_head(200, fields))
        piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
        while not server.closed.is_set():
            connection.sendall(piece)
            if pause:
                time.sleep(pause)
    return answer


def redirect(status: int, location: str) -> Answer:
    """A redirect to ``location`` (relative to the server, or absolute)."""
    return reply(status, b"", {"Location": location})


def session_on(server: Optional[LoopbackServer], cache_file: str,
               email: str = "driver@example.com", sso_url: Optional[str] = None,
               api_url: Optional[str] = None, **options: Any) -> teslapy.Tesla:
    """A session for ``server`` (as Owner API and SSO) holding cached tokens, without password.

    The SSO access token is the bearer (as at Tesla since 2022), so a refresh needs no
    token exchange. ``sso_url`` and ``api_url`` put the SSO or the Owner API elsewhere;
    ``options`` go to ``Tesla``.
    """
    sso_url = sso_url or server.url
    api_url = api_url or server.url
    now = time.time()
    owner = {"access_token": "bearer-1", "token_type": "Bearer", "expires_in": 28800,
             "created_at": int(now)}
    sso = {**owner, "refresh_token": "refresh-1", "expires_at": now + 28800}
    with open(cache_file, "w", encoding="utf-8") as handle:
        json.dump({email: {"url": sso_url, "sso": sso, "ownerapi": owner,
                           "api_url": api_url}}, handle)
    return teslapy.Tesla(email, cache_file=cache_file, sso_base_url=sso_url,
                         api_base_url=api_url, **options)


class Http2Server:
    """An HTTPS server speaking HTTP/2 only (TLS 1.3 allowed), serving one ASGI ``app``.

    The SSO mints tokens over this kind of connection only; teslapy talks to it through
    ``httpx``. ``ca_file`` is the CA that signed its certificate. Use as a context manager.
    """

    def __init__(self, app) -> None:
        from teslasim.tls import Certificates

        self.app = app
        self.certificates = Certificates()
        self.ca_file = self.certificates.ca_file
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}/"
        self._stopped: Optional[Any] = None
        self._thread = threading.Thread(target=self._run, name="http2-server", daemon=True)
        self._ready = threading.Event()

    def __enter__(self) -> "Http2Server":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)
        self.certificates.remove()

    def _run(self) -> None:
        import asyncio

        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{self._listener.detach()}"]
        config.certfile = self.certificates.chain_file
        config.keyfile = self.certificates.key_file
        config.alpn_protocols = ["h2"]
        config.accesslog = None
        config.errorlog = logging.getLogger("reliability.http2")
        config.graceful_timeout = 0.5

        async def main() -> None:
            self._stopped = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._loop.call_soon(self._ready.set)
            await serve(self.app, config, shutdown_trigger=self._stopped.wait)

        asyncio.run(main())


def trickling_app(gap: float = TICK):
    """An ASGI app answering every request 200, its body one byte every ``gap`` seconds,
    until the client leaves."""
    import asyncio

    async def client_left(receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        left = asyncio.ensure_future(client_left(receive))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        try:
            while not left.done():
                await send({"type": "http.response.body", "body": b" ", "more_body": True})
                await asyncio.wait({left}, timeout=gap)
        except Exception:  # noqa: BLE001 - the client left or the server stops
            return
        finally:
            left.cancel()
    return app
