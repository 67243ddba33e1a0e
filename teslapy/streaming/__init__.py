"""Streaming: live vehicle data pushed by Tesla's streaming websocket.

:func:`stream` connects to the session's ``streaming_base_url``, subscribes with the
Owner API access token and the column list, and receives one ``data:update`` record per
change. Each record is parsed into typed values (:mod:`~teslapy.streaming.records`),
merged into the vehicle's ``drive_state``, ``charge_state`` and ``vehicle_state``, and
passed to the callback.

Ending and restarting. Tesla ends a subscription with ``data:error``:
``vehicle_disconnected`` after about 10 s without a change, ``vehicle_error`` for a
car-side failure, ``client_error`` for a bad subscription. With restarts left (``retry``
or ``indefinitely``) the subscription is renewed on the same socket, as TeslaMate does,
after a :class:`Backoff` delay (short while the car was last seen in a drive, 15 s and
more when parked); after a ``client_error`` about the token the token is renewed first.
A broken connection or a bad message is followed by a new connection after an
exponential, capped, jittered delay, and a new subscription. Each renewal or
reconnection uses up one restart. With none left, Tesla's end of stream returns
normally; everything else raises.

Nothing waits forever (seconds; keyword arguments of :func:`stream`):

* ``connect_timeout`` (10): TCP connect, TLS and the websocket upgrade, together;
* ``ping_interval`` (10), ``ping_timeout`` (10): a ping goes out every
  ``ping_interval`` and its pong must come within ``ping_timeout`` (``ping_interval``
  0 or None: no pings);
* ``idle_timeout`` (30): while subscribed, no message for this long is a stall (Tesla
  sends an update or ``vehicle_disconnected`` within about 10 s).

Errors: the classes of :mod:`teslapy.streaming.errors` (``StreamError`` and below), each
also the ``requests`` exception it stands for (``StreamRefusedError`` is an
``HTTPError``, connection failures ``ConnectionError``, ``SSLError``, ``ConnectTimeout``
or ``ReadTimeout``), and ``StreamFrameError`` also a :class:`~teslapy.errors.ResponseError`.
Misuse raises ``ValueError`` before anything is sent: no ``vehicle_id``, bad settings,
or a URL that is not ``wss://`` (``ws://`` only to loopback: the subscribe message
carries the token).

TLS follows the session's ``verify`` (False, a CA bundle path, or True), as fixed when
the session was made, unless ``sslopt`` is given; websocket-client's own environment
variables are not read, nor are proxy variables beyond what the session read.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional

from teslapy.streaming.connection import WEBSOCKET_OPTIONS, check_url, tls_context
from teslapy.streaming.errors import (
    StreamConnectionError, StreamConnectTimeout, StreamError, StreamFrameError,
    StreamInterruptedError, StreamRefusedError, StreamSSLError, StreamStalledError,
    StreamSubscriptionError)
from teslapy.streaming.records import (
    COLUMNS, FIELDS, MAX_FRAME_BYTES, Record, merge_record, parse_message, parse_record)
from teslapy.streaming.streamer import (
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_PING_INTERVAL,
    DEFAULT_PING_TIMEOUT, Backoff, Callback, Streamer, Timeouts)

if TYPE_CHECKING:
    from teslapy.vehicle import Vehicle

__all__ = [
    "stream", "Backoff", "Timeouts", "parse_message", "parse_record", "merge_record",
    "check_url", "tls_context", "COLUMNS", "FIELDS", "MAX_FRAME_BYTES", "WEBSOCKET_OPTIONS",
    "Record", "Callback", "StreamError", "StreamRefusedError", "StreamConnectionError",
    "StreamSSLError", "StreamConnectTimeout", "StreamInterruptedError",
    "StreamStalledError", "StreamFrameError", "StreamSubscriptionError",
    "DEFAULT_CONNECT_TIMEOUT", "DEFAULT_PING_INTERVAL", "DEFAULT_PING_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
]


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


def stream(vehicle: "Vehicle", callback: Optional[Callback] = None, retry: int = 0,
           indefinitely: bool = False, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
           ping_interval: Optional[float] = DEFAULT_PING_INTERVAL,
           ping_timeout: float = DEFAULT_PING_TIMEOUT,
           idle_timeout: float = DEFAULT_IDLE_TIMEOUT, backoff: Optional[Backoff] = None,
           **options: Any) -> None:
    """Stream a vehicle's data until Tesla ends the stream and no restarts are left.

    callback: (optional) called with each parsed record (see :func:`parse_record`)
    retry: (optional) number of restarts (subscribing again or reconnecting)
    indefinitely: (optional) restart forever
    connect_timeout, ping_interval, ping_timeout, idle_timeout: (optional) seconds
        (see the module docstring)
    backoff: (optional) a :class:`Backoff`: the delays before restarts

    Other keyword arguments are websocket-client options, as TeslaPy 1.5 took them
    (``sslopt``, ``sockopt``, ``header``, the ``http_proxy_*`` options, ...; see
    ``WEBSOCKET_OPTIONS``). Ctrl-C (``KeyboardInterrupt``) closes the connection and
    returns.

    Raises:
        StreamError: its subclasses (see :mod:`teslapy.streaming.errors`), once no
            restart is left.
        ValueError: misuse (no ``vehicle_id``, a bad setting, an insecure URL).
        TypeError: an unknown keyword argument (``dispatcher`` and ``reconnect`` of
            websocket-client's ``run_forever`` among them: the loop is teslapy's).
        Also what the callback, or getting a valid access token, raised.
    """
    unknown = sorted(set(options) - WEBSOCKET_OPTIONS)
    if unknown:
        raise TypeError(f"stream() got unexpected keyword argument(s): {', '.join(unknown)}")
    if vehicle.get("vehicle_id") is None:
        raise ValueError("This vehicle has no 'vehicle_id'; it cannot be streamed")
    timeouts = Timeouts(
        connect=_seconds("connect_timeout", connect_timeout),
        ping_interval=_seconds("ping_interval", ping_interval) if ping_interval else None,
        ping=_seconds("ping_timeout", ping_timeout),
        idle=_seconds("idle_timeout", idle_timeout))
    if backoff is not None and not isinstance(backoff, Backoff):
        raise ValueError(f"backoff must be a teslapy.streaming.Backoff, not {backoff!r}")
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
        raise ValueError(f"retry must be a number of restarts (>= 0), not {retry!r}")
    check_url(vehicle.tesla.streaming_base_url)
    restarts = math.inf if indefinitely else retry
    Streamer(vehicle, callback, restarts, timeouts, backoff or Backoff(), options).run()
