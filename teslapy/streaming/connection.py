"""Opening and closing the streaming websocket: URL check, TLS, proxies, deadline, errors.

The only module that imports ``websocket`` (websocket-client), on first use. Every way
connecting can fail becomes one of the documented :mod:`teslapy.streaming.errors`.
"""
from __future__ import annotations

import socket
import ssl
import threading
from http import HTTPStatus
from typing import Any, Dict, Optional
from urllib.parse import unquote, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from teslapy import errors, transport
from teslapy.streaming.errors import (
    StreamConnectionError, StreamConnectTimeout, StreamFrameError, StreamRefusedError,
    StreamSSLError)
from teslapy.streaming.records import MAX_FRAME_BYTES

#: websocket-client options ``stream()`` takes, as TeslaPy 1.5 passed them to
#: ``run_forever``: ``sockopt`` and ``sslopt`` (which then replaces the TLS settings of
#: ``verify``) go to ``WebSocket()``, ``ping_payload`` into each ping, the others to
#: ``WebSocket.connect``; ``skip_utf8_validation`` is taken and does nothing (messages are
#: always decoded as strict UTF-8).
WEBSOCKET_OPTIONS = frozenset((
    "sockopt", "sslopt", "ping_payload", "skip_utf8_validation", "header", "origin", "host",
    "suppress_origin", "subprotocols", "http_proxy_host", "http_proxy_port", "http_proxy_auth",
    "http_no_proxy", "http_proxy_timeout", "proxy_type",
))
_NOT_FOR_CONNECT = ("sockopt", "sslopt", "ping_payload", "skip_utf8_validation")
#: Bytes read from the socket at a time while streaming.
READ_AHEAD = 1 << 16
#: Seconds sending the close frame may take.
CLOSE_TIMEOUT = 1.0


def websocket_module() -> Any:
    """websocket-client, imported on first use so that importing teslapy stays cheap."""
    import websocket
    return websocket


def check_url(url: str) -> None:
    """Refuse a streaming URL that is not ``wss://`` (``ws://`` is allowed on loopback).

    Raises:
        ValueError: not a websocket URL, or plain ``ws://`` to a host that is not
            loopback (the subscribe message carries the access token).
    """
    scheme = urlsplit(url or "").scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ValueError(f"The streaming URL must be wss://, not {url!r}")
    if scheme == "ws" and not transport.is_loopback_http(url):
        raise ValueError(f"Refusing to send the access token in clear text to {url}; "
                         "use a wss:// streaming URL (ws:// is allowed on loopback only)")


def tls_context(verify: Any) -> ssl.SSLContext:
    """The TLS settings for ``verify``: False checks nothing, a path is the CA bundle
    (file or directory), True is requests' default bundle.

    Raises:
        StreamSSLError: the CA bundle cannot be loaded.
    """
    try:
        return transport.client_context(verify)
    except (OSError, ValueError) as error:
        bundle = verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH
        raise StreamSSLError(f"Cannot load the CA bundle {bundle!r} for the stream: "
                             f"{error}") from None


def _proxy_options(tesla: Any, url: str) -> Dict[str, Any]:
    """websocket-client proxy options: the session's proxy for ``url``, else none at all.

    websocket-client would read the environment's proxy variables itself; the session
    has read them once already (or was given a proxy), so its choice holds.
    """
    secure = url.lower().startswith("wss:")
    as_http = ("https" if secure else "http") + url[url.index(":"):]
    environment = getattr(tesla, "environment", None)
    proxies = (environment.proxies_for(as_http) if environment is not None
               else getattr(tesla, "proxies", None) or {})
    proxy = next((value for value in proxies.values() if value), None)
    if not proxy:
        return {"http_no_proxy": ["*"]}
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    options: Dict[str, Any] = {
        "http_proxy_host": parts.hostname, "proxy_type": "http",
        "http_proxy_port": parts.port or (443 if parts.scheme == "https" else 80)}
    if parts.username:
        options["http_proxy_auth"] = (unquote(parts.username), unquote(parts.password or ""))
    return options


def _refused(status: int, headers: Any, body: Any, url: str) -> StreamRefusedError:
    """The error for an upgrade answered with ``status``, worded as the API's errors."""
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers or {})
    response._content = body if isinstance(body, bytes) else b""
    response.url = url
    try:
        response.reason = HTTPStatus(status).phrase
    except ValueError:
        response.reason = "Unknown"
    reason = errors.error_reason(response) or response.reason
    kind = ("Redirect (not followed)" if status < 400 else
            "Client Error" if status < 500 else "Server Error")
    return StreamRefusedError(f"{status} {kind}: {reason} for url: {url} "
                              "(the websocket upgrade was refused)", response=response)


def _connect_error(error: Exception, ws: Any, url: str, timeout: float,
                   timed_out: bool) -> Exception:
    """The documented error for a failed connection attempt (``error`` if unknown)."""
    websocket = websocket_module()
    if timed_out or isinstance(error, (socket.timeout, websocket.WebSocketTimeoutException)):
        return StreamConnectTimeout(f"The streaming server {url} did not complete the "
                                    f"connection within {timeout:g} s")
    if isinstance(error, websocket.WebSocketBadStatusException):
        return _refused(error.status_code, getattr(error, "resp_headers", None),
                        getattr(error, "resp_body", None), url)
    reply = getattr(ws, "handshake_response", None)
    if reply is not None and 300 <= getattr(reply, "status", 0) < 400:
        return _refused(reply.status, reply.headers, None, url)
    if isinstance(error, (ssl.SSLError, ssl.CertificateError)):
        return StreamSSLError(f"TLS with the streaming server {url} failed: {error}; "
                              "check the session's verify setting")
    if isinstance(error, (OSError, websocket.WebSocketException)):
        return StreamConnectionError(f"Cannot connect to the streaming server {url}: "
                                     f"{error or type(error).__name__}")
    return error


def _shut(sock: Optional[socket.socket]) -> None:
    """Wake whatever is blocked on ``sock`` by shutting the connection down."""
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def _read_ahead(ws: Any) -> None:
    """Feed websocket-client's frame reader from a read-ahead buffer, bounding each message.

    websocket-client reads each frame with two or three small reads, each a system call
    (two with a socket timeout); this reads up to ``READ_AHEAD`` bytes at a time and hands
    them out. A frame whose announced length, with the fragments already held, exceeds
    ``MAX_FRAME_BYTES`` is refused before its payload is read.
    """
    frames, fragments = getattr(ws, "frame_buffer", None), getattr(ws, "cont_frame", None)
    if frames is None or not callable(getattr(frames, "recv", None)):
        return          # another websocket-client layout: parse_message still checks
    read = frames.recv
    ahead, start = b"", 0       # data read ahead, and where its unread part starts

    def buffered_read(size: int) -> bytes:
        nonlocal ahead, start
        length = frames.length
        if length is not None:
            held = getattr(fragments, "cont_data", None)
            if length + (len(held[1]) if held else 0) > MAX_FRAME_BYTES:
                raise StreamFrameError(f"A stream message is larger than the "
                                       f"{MAX_FRAME_BYTES} bytes allowed")
        if start >= len(ahead):
            ahead, start = read(READ_AHEAD), 0
        start += size
        return ahead[start - size:start]

    frames.recv = buffered_read


def open_websocket(tesla: Any, url: str, timeout: float, options: Dict[str, Any]) -> Any:
    """Connect to ``url`` with the session's TLS and proxy settings, within ``timeout``.

    ``timeout`` bounds TCP connect, TLS and the upgrade together (a server trickling
    its reply byte by byte cannot stretch it). Redirects are not followed: the subscribe
    message must reach the configured host only.

    Raises:
        StreamConnectTimeout, StreamSSLError, StreamConnectionError, StreamRefusedError.
    """
    websocket = websocket_module()
    sslopt = options.get("sslopt")
    if sslopt is None:
        sslopt = {"context": tls_context(tesla.verify)} if url.lower().startswith("wss:") else {}
    ws = websocket.WebSocket(sockopt=options.get("sockopt"), sslopt=sslopt,
                             skip_utf8_validation=True)
    connect = {name: value for name, value in options.items() if name not in _NOT_FOR_CONNECT}
    if not connect.keys() & {"http_proxy_host", "http_no_proxy"}:
        connect.update(_proxy_options(tesla, url))
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _shut(ws.sock)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        try:
            ws.connect(url, timeout=timeout, redirect_limit=0, **connect)
        finally:
            watchdog.cancel()
            watchdog.join()
        if expired.is_set():            # connected just as the watchdog fired
            raise TimeoutError()
    except Exception as error:
        ws.shutdown()
        documented = _connect_error(error, ws, url, timeout, expired.is_set())
        if documented is error:
            raise
        raise documented from error
    except BaseException:               # Ctrl-C
        ws.shutdown()
        raise
    _read_ahead(ws)
    return ws


def close_websocket(ws: Any, polite: bool) -> None:
    """Close ``ws``; ``polite`` first sends a close frame, taking a second at most."""
    try:
        if polite and ws.connected and ws.sock is not None:
            ws.sock.settimeout(CLOSE_TIMEOUT)
            ws.send_close()
    except (OSError, websocket_module().WebSocketException):
        pass
    ws.shutdown()
