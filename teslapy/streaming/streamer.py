"""One call of ``stream()``: the receive loop, its timers, Tesla's ends and the restarts."""
from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from teslapy.streaming.connection import close_websocket, open_websocket, websocket_module
from teslapy.streaming.errors import (
    StreamConnectionError, StreamFrameError, StreamInterruptedError, StreamRefusedError,
    StreamStalledError, StreamSubscriptionError)
from teslapy.streaming.records import COLUMNS, Record, merge_record, parse_message, parse_record

if TYPE_CHECKING:
    from teslapy.vehicle import Vehicle

logger = logging.getLogger(__name__)

Callback = Callable[[Record], Any]

_TEXT, _BINARY, _CLOSE, _PONG = 0x1, 0x2, 0x8, 0xA

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_PING_INTERVAL = 10.0
DEFAULT_PING_TIMEOUT = 10.0
DEFAULT_IDLE_TIMEOUT = 30.0
#: Errors after which a new connection may succeed.
_RECONNECTABLE = (StreamConnectionError, StreamRefusedError, StreamFrameError)


class Backoff:
    """Delays before restarting a stream: exponential, capped and jittered.

    first: (optional) the first delay in seconds (default 1)
    cap: (optional) no delay is longer (default 30)
    jitter: (optional) each delay is shortened by a random fraction up to this (0.2)
    seed: (optional) seed of the jitter's random numbers, for repeatable delays

    Raises ``ValueError`` unless 0 <= ``first`` <= ``cap`` (finite) and 0 <= ``jitter`` <= 1.
    """

    def __init__(self, first: float = 1.0, cap: float = 30.0, jitter: float = 0.2,
                 seed: Optional[int] = None) -> None:
        if not (0 <= first <= cap < math.inf and 0 <= jitter <= 1):
            raise ValueError("Backoff needs 0 <= first <= cap (finite) and 0 <= jitter <= 1")
        self.first, self.cap, self.jitter = float(first), float(cap), float(jitter)
        self._random = random.Random(seed)

    def _jittered(self, delay: float) -> float:
        return min(delay, self.cap) * (1.0 - self.jitter * self._random.random())

    def reconnect_delay(self, failures: int) -> float:
        """Delay before reconnecting after ``failures`` failures in a row: ``first`` × 2ⁿ."""
        return self._jittered(self.first * 2.0 ** min(failures, 64))

    def resubscribe_delay(self, disconnects: int, driving: bool) -> float:
        """Delay before subscribing again after Tesla's ``disconnects``-th end in a row.

        While the car was in a drive: ``first`` × 1.3ⁿ, at most 8 × ``first``; parked or
        unknown: ``first`` × 2ⁿ, at least 15 × ``first`` (both at most ``cap``).
        """
        n = min(disconnects, 64)
        if driving:
            return self._jittered(min(self.first * 1.3 ** n, 8 * self.first))
        return self._jittered(max(self.first * 2.0 ** n, 15 * self.first))


@dataclass(frozen=True)
class Timeouts:
    """The bounded waits of a stream, in seconds (``ping_interval`` None: no pings)."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    ping_interval: Optional[float] = DEFAULT_PING_INTERVAL
    ping: float = DEFAULT_PING_TIMEOUT
    idle: float = DEFAULT_IDLE_TIMEOUT


class Streamer:
    """Streams one vehicle: connects, subscribes, receives and restarts as allowed."""

    def __init__(self, vehicle: "Vehicle", callback: Optional[Callback], restarts: float,
                 timeouts: Timeouts, backoff: Backoff, options: Dict[str, Any]) -> None:
        self.vehicle = vehicle
        self.callback = callback
        self.restarts_left = restarts
        self.tag = str(vehicle.get("vehicle_id"))
        self.url = vehicle.tesla.streaming_base_url
        self.connect_timeout = timeouts.connect
        self.ping_interval = timeouts.ping_interval or math.inf
        self.ping_timeout = timeouts.ping
        self.idle_timeout = timeouts.idle
        self.backoff = backoff
        self.options = options
        self.ping_payload = options.get("ping_payload", "")
        self.ws: Any = None
        self.failures = 0           # failed connections and refused tokens in a row
        self.disconnects = 0        # Tesla's ends of stream in a row
        self.sent_token: Optional[str] = None
        self.refused_token: Optional[str] = None    # renew it before subscribing again
        self.driving = False        # the last record had a shift state
        self.subscribed = False
        self.ping_at = self.pong_due = self.idle_due = self.resubscribe_at = math.inf

    def run(self) -> None:
        """Stream until Tesla ends the stream with no restarts left; Ctrl-C returns."""
        try:
            while True:
                try:
                    if self.ws is None:
                        logger.info("Connecting to the streaming server for vehicle %s", self.tag)
                        self.ws = open_websocket(self.vehicle.tesla, self.url,
                                                 self.connect_timeout, self.options)
                    self._serve(self.ws)
                    return
                except _RECONNECTABLE as error:
                    self._close(polite=False)
                    if not self._take_restart():
                        raise
                    delay = self.backoff.reconnect_delay(self.failures)
                    self.failures += 1
                    logger.warning("%s; reconnecting in %.1f s", error, delay)
                    time.sleep(delay)
        except KeyboardInterrupt:
            logger.info("Streaming stopped by the user")
        finally:
            self._close(polite=True)

    def _take_restart(self) -> bool:
        """Use up one restart; False when none is left."""
        if self.restarts_left <= 0:
            return False
        self.restarts_left -= 1
        return True

    def _close(self, polite: bool) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            close_websocket(ws, polite)

    def _subscribe(self, ws: Any, now: float) -> None:
        tesla = self.vehicle.tesla
        if self.refused_token is not None:
            logger.info("Renewing the token the streaming server refused")
            refused, self.refused_token = self.refused_token, None
            tesla._renew(refused=refused)
        self.sent_token = tesla.valid_access_token()
        _send(ws.send, json.dumps({"msg_type": "data:subscribe_oauth", "token": self.sent_token,
                                   "value": ",".join(COLUMNS), "tag": self.tag}))
        self.subscribed = True
        self.idle_due = now + self.idle_timeout
        logger.debug("Subscribed to vehicle %s", self.tag)

    def _serve(self, ws: Any) -> None:
        """Subscribe, then receive until Tesla ends the stream for good.

        Raises StreamInterruptedError (StreamStalledError) when the connection breaks
        or stalls, StreamFrameError for a bad message, StreamSubscriptionError when Tesla
        refuses the subscription, and what the callback raises.
        """
        websocket = websocket_module()
        timed_out = websocket.WebSocketTimeoutException
        broken = (OSError, websocket.WebSocketException)
        receive = ws.recv_data_frame
        sock = ws.sock
        now = time.monotonic()
        self.ping_at = now + self.ping_interval
        self.pong_due = self.resubscribe_at = math.inf
        self._subscribe(ws, now)
        idle_timeout = self.idle_timeout
        due = self._next_due()
        sock.settimeout(_wait(due, now))
        while True:
            try:
                opcode, frame = receive(True)
            except timed_out:
                opcode = None
            except broken as error:
                raise _broken(error) from error
            now = time.monotonic()
            if opcode == _TEXT or opcode == _BINARY:
                self.idle_due = now + idle_timeout
                message = parse_message(frame.data)
                if message.get("msg_type") == "data:update":
                    self._update(message)
                else:
                    if self._control(message, now):
                        return
                    due = 0.0               # the timers changed
            elif opcode == _PONG:
                self.pong_due = math.inf
            elif opcode == _CLOSE:
                raise StreamInterruptedError(
                    f"The streaming server closed the connection ({_close_reason(frame.data)}) "
                    "before Tesla ended the stream")
            if now >= due:
                self._tick(ws, now)
                due = self._next_due()
                sock.settimeout(_wait(due, now))

    def _update(self, message: Dict[str, Any]) -> None:
        value = message.get("value")
        if type(value) is not str:
            raise StreamFrameError(f"A data:update whose value is {_shown(value)}, not text")
        record = parse_record(value)
        merge_record(self.vehicle, record)
        self.driving = record.get("shift_state") is not None
        self.failures = self.disconnects = 0
        if self.callback is not None:
            self.callback(record)

    def _control(self, message: Dict[str, Any], now: float) -> bool:
        """Handle a message other than an update; True when the stream is over."""
        kind = message.get("msg_type")
        if kind != "data:error":
            logger.debug("Stream message %s", _shown(kind))
            return False
        self.subscribed = False
        error_type, value = message.get("error_type"), _shown(message.get("value"))
        text = f"Tesla ended the stream of vehicle {self.tag} ({_shown(error_type)}): {value}"
        if error_type == "client_error":
            if "token" not in value.lower() or not self._take_restart():
                raise StreamSubscriptionError(text, error_type, value)
            logger.warning("%s", text)
            self.refused_token = self.sent_token
            delay = self.backoff.reconnect_delay(self.failures)
            self.failures += 1
        else:
            logger.log(logging.INFO if error_type == "vehicle_disconnected" else logging.ERROR,
                       "%s", text)
            if not self._take_restart():
                return True
            delay = self.backoff.resubscribe_delay(self.disconnects, self.driving)
            self.disconnects += 1
        logger.info("Subscribing again in %.1f s", delay)
        self.resubscribe_at = now + delay
        return False

    def _next_due(self) -> float:
        due = min(self.ping_at, self.pong_due, self.resubscribe_at)
        return min(due, self.idle_due) if self.subscribed else due

    def _tick(self, ws: Any, now: float) -> None:
        """Act on the timers that are due: stalls, a pending subscribe and pings."""
        if now >= self.pong_due:
            raise StreamStalledError(f"No pong within {self.ping_timeout:g} s of a ping")
        if self.subscribed and now >= self.idle_due:
            raise StreamStalledError(f"No message from the streaming server for "
                                     f"{self.idle_timeout:g} s while subscribed")
        if now >= self.resubscribe_at:
            self.resubscribe_at = math.inf
            self._subscribe(ws, now)
        if now >= self.ping_at:
            _send(ws.ping, self.ping_payload)
            self.ping_at = now + self.ping_interval
            if self.pong_due == math.inf:
                self.pong_due = now + self.ping_timeout


def _wait(due: float, now: float) -> float:
    """The socket timeout that wakes the loop by ``due`` (at most an hour, at least 1 ms)."""
    return min(max(due - now, 0.001), 3600.0)


def _shown(value: Any) -> str:
    """A message field for a log line or an error: text (200 characters at most), else its type."""
    if isinstance(value, str):
        return value[:200]
    return "(none)" if value is None else f"(a {type(value).__name__})"


def _broken(error: Exception) -> StreamInterruptedError:
    return StreamInterruptedError(f"The stream connection broke: {error or type(error).__name__}")


def _send(send: Callable[..., Any], *args: Any) -> None:
    """Send on the websocket; a connection that broke raises StreamInterruptedError."""
    try:
        send(*args)
    except (OSError, websocket_module().WebSocketException) as error:
        raise _broken(error) from error


def _close_reason(data: bytes) -> str:
    if len(data) < 2:
        return "no status code"
    reason = data[2:].decode("utf-8", "replace")
    return f"code {int.from_bytes(data[:2], 'big')}" + (f": {reason}" if reason else "")
