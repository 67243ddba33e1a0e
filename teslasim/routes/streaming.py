"""Routes of the simulated streaming service: live telemetry over a websocket.

Protocol (text frames of JSON):

* on connect the server sends ``{"msg_type": "control:hello", "connection_timeout": 0}``;
* ``data:subscribe_oauth`` with ``token`` (an Owner API bearer), ``tag`` (the car's
  ``vehicle_id``) and ``value`` (comma-separated column names) starts a subscription;
  a bad token gives ``data:error`` ``client_error`` ``Can't validate token. ``, a tag
  that is not one of the account's cars ``client_error`` as well, an offline car
  ``vehicle_error``;
* while subscribed, the car is looked at every ``world.settings.stream_poll_interval``
  seconds (:data:`POLL_INTERVAL` unless set; each look moves a driving car); an online
  car's record is sent at once and then whenever it changes, as ``data:update`` with
  ``value`` = timestamp (ms) plus the columns;
* exactly ``world.settings.stream_idle_timeout`` seconds after the last change (or
  the subscription, as an asleep car never changes) the server sends ``data:error`` ``vehicle_disconnected`` and
  the subscription ends; the socket stays open and a new subscribe starts again;
* ``data:unsubscribe`` ends the subscription quietly;
* a message that is not a JSON object gets ``data:error`` ``client_error``; one that
  is larger than :data:`MAX_MESSAGE_CHARS` or nested too deeply to parse gets it too,
  and the socket is closed (1009 or 1007).

Under the 2026 rules a bearer works only on the streaming host of its own region
(``global`` or ``cn``); under the 2021 rules on either.

Streaming never wakes a car and does not keep it awake.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Optional

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from teslasim.drive import elevation_metres
from teslasim.state import Settings, VehicleState, World

logger = logging.getLogger(__name__)

#: Seconds between looks at a subscribed car, unless the world's settings say otherwise.
POLL_INTERVAL = Settings.stream_poll_interval
COLUMNS = ("speed", "odometer", "soc", "elevation", "est_heading", "est_lat", "est_lng",
           "power", "shift_state", "range", "est_range", "heading")
HELLO = {"msg_type": "control:hello", "connection_timeout": 0}
BAD_TOKEN = "Can't validate token. "
#: Longest client message read (a subscribe message is about 200 characters).
MAX_MESSAGE_CHARS = 64 * 1024
CLOSE_TOO_BIG, CLOSE_INVALID = 1009, 1007


def _number(value, digits: Optional[int] = None) -> str:
    """A field as the stream writes it: empty for null, ints truncated, floats rounded."""
    if value is None:
        return ""
    if digits is None:
        return str(int(float(value)))
    return f"{float(value):.{digits}f}"


def record_fields(vehicle: VehicleState) -> dict[str, str]:
    """Every streaming column of ``vehicle`` rendered as text (empty means null)."""
    drive_state = vehicle.data.get("drive_state", {})
    charge = vehicle.data.get("charge_state", {})
    lat, lng = drive_state.get("latitude"), drive_state.get("longitude")
    heading = _number(drive_state.get("heading"))
    elevation = elevation_metres(lat, lng) if lat is not None and lng is not None else None
    return {
        "speed": _number(drive_state.get("speed")),
        "odometer": _number(vehicle.data.get("vehicle_state", {}).get("odometer"), 1),
        "soc": _number(charge.get("battery_level")),
        "elevation": _number(elevation),
        "est_heading": heading,
        "est_lat": _number(lat, 6),
        "est_lng": _number(lng, 6),
        "power": _number(drive_state.get("power")),
        "shift_state": drive_state.get("shift_state") or "",
        "range": _number(charge.get("ideal_battery_range")),
        "est_range": _number(charge.get("est_battery_range")),
        "heading": heading,
    }


def parse_columns(value) -> tuple[str, ...]:
    """The requested column names; all of :data:`COLUMNS` when none are given."""
    if not isinstance(value, str) or not value.strip():
        return COLUMNS
    return tuple(name.strip() for name in value.split(","))


@dataclass
class Subscription:
    """One live subscription on a socket: whose car, which columns, what was last sent."""

    email: str
    tag: str
    columns: tuple[str, ...]
    last_record: Optional[tuple] = None
    last_change: float = field(default_factory=time.monotonic)

    def idle_deadline(self, idle_timeout: float) -> float:
        """The monotonic time at which the subscription ends unless the car changes."""
        return self.last_change + idle_timeout


def _error(tag: str, error_type: str, value: str) -> dict:
    return {"msg_type": "data:error", "tag": tag, "error_type": error_type, "value": value}


class StreamSession:
    """The state machine of one websocket: handles client messages and polls the car."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.subscription: Optional[Subscription] = None

    @property
    def world(self) -> World:
        return self.websocket.app.state.world

    @property
    def poll_interval(self) -> float:
        """Seconds until the next look at the car, as the world's settings say now."""
        return self.world.settings.stream_poll_interval

    async def send(self, message: dict) -> None:
        await self.websocket.send_text(json.dumps(message))

    async def handle(self, text: str) -> Optional[int]:
        """React to one client message; returns a close code when the socket must close."""
        if len(text) > MAX_MESSAGE_CHARS:
            await self.send(_error("", "client_error", "Message is too large. "))
            return CLOSE_TOO_BIG
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        except RecursionError:
            await self.send(_error("", "client_error", "Message is nested too deeply. "))
            return CLOSE_INVALID
        if not isinstance(message, dict):
            await self.send(_error("", "client_error", "Message is not a JSON object. "))
            return None
        kind = message.get("msg_type")
        tag = message.get("tag")
        tag = str(tag) if isinstance(tag, (str, int)) and tag else ""
        if kind == "data:subscribe_oauth":
            await self.subscribe(message, tag)
        elif kind == "data:unsubscribe":
            if self.subscription is not None and self.subscription.tag == tag:
                self.subscription = None
        else:
            name = repr(kind) if isinstance(kind, str) else "of another type"
            await self.send(_error(tag, "client_error", f"Unknown msg_type {name}. "))
        return None

    def bearer_email(self, token) -> Optional[str]:
        """Whose live bearer ``token`` is, if it may be used on this streaming host."""
        record = self.world.bearer_record(token) if isinstance(token, str) else None
        if record is None:
            return None
        if self.world.rules.today and record.region != self.websocket.app.state.region:
            return None
        return record.email

    async def subscribe(self, message: dict, tag: str) -> None:
        self.subscription = None
        email = self.bearer_email(message.get("token"))
        if email is None:
            await self.send(_error(tag, "client_error", BAD_TOKEN))
            return
        vehicle = self.world.vehicle_by_vehicle_id(email, tag)
        if vehicle is None:
            await self.send(_error(tag, "client_error", "Can't find vehicle for tag. "))
            return
        if self.world.refresh_vehicle(vehicle) == "offline":
            await self.send(_error(tag, "vehicle_error", "Vehicle is offline. "))
            return
        self.subscription = Subscription(email, tag, parse_columns(message.get("value")))
        logger.debug("subscribed to vehicle %s", tag)
        await self.poll()

    def next_check(self, next_poll: float) -> float:
        """When to look at the car next: the next poll, or the idle deadline if sooner."""
        if self.subscription is None:
            return next_poll
        return min(next_poll,
                   self.subscription.idle_deadline(self.world.settings.stream_idle_timeout))

    async def poll(self) -> None:
        """Send the car's record if it changed; end the subscription when idle too long."""
        subscription = self.subscription
        if subscription is None:
            return
        world = self.world
        vehicle = world.vehicle_by_vehicle_id(subscription.email, subscription.tag)
        if vehicle is not None:
            with world.lock:
                state = world.refresh_vehicle(vehicle)
                fields = record_fields(vehicle)
                stamp = int(world.clock.now() * 1000)
            if state == "online":
                record = tuple(fields.get(name, "") for name in subscription.columns)
                if record != subscription.last_record:
                    subscription.last_record = record
                    subscription.last_change = time.monotonic()
                    await self.send({"msg_type": "data:update", "tag": subscription.tag,
                                     "value": ",".join((str(stamp),) + record)})
                    return
        if time.monotonic() >= subscription.idle_deadline(world.settings.stream_idle_timeout):
            self.subscription = None
            await self.send(_error(subscription.tag, "vehicle_disconnected", "disconnected"))


async def stream(websocket: WebSocket) -> None:
    """Serve one streaming websocket until the client goes away."""
    await websocket.accept()
    session = StreamSession(websocket)
    receiving: Optional[asyncio.Task] = None
    try:
        await session.send(HELLO)
        receiving = asyncio.ensure_future(websocket.receive())
        next_poll = time.monotonic() + session.poll_interval
        while True:
            due = session.next_check(next_poll)
            done, _ = await asyncio.wait({receiving}, timeout=max(0.0, due - time.monotonic()))
            if done:
                message = receiving.result()
                if message["type"] == "websocket.disconnect":
                    break
                receiving = asyncio.ensure_future(websocket.receive())
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", "replace")
                if text is not None:
                    close_code = await session.handle(text)
                    if close_code is not None:
                        await websocket.close(close_code)
                        break
            if time.monotonic() >= due:
                next_poll = time.monotonic() + session.poll_interval
                await session.poll()
    except (WebSocketDisconnect, ConnectionError):
        logger.debug("streaming client went away")
    finally:
        if receiving is not None and not receiving.done():
            receiving.cancel()
            try:
                await receiving
            except (asyncio.CancelledError, Exception):
                pass
        elif receiving is not None and not receiving.cancelled():
            receiving.exception()       # retrieved, so never reported as unhandled
    if websocket.client_state == WebSocketState.CONNECTED \
            and websocket.application_state == WebSocketState.CONNECTED:
        try:
            await websocket.close()
        except (RuntimeError, WebSocketDisconnect, ConnectionError):
            pass


ROUTES: list = [WebSocketRoute("/streaming/", stream, name="streaming")]
