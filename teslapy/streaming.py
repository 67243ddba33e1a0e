"""Streaming: live vehicle data pushed by Tesla's streaming websocket.

The client connects to the session's ``streaming_base_url``, subscribes with the Owner
API access token and the column list, and receives one ``data:update`` record per
change. Each record is parsed into typed values, merged into the vehicle's
``drive_state``, ``charge_state`` and ``vehicle_state``, and passed to the user's
callback. Tesla ends a subscription with ``data:error`` (``vehicle_disconnected``
after about 10 seconds without a change, ``client_error`` for a bad token); the
client logs it, closes the connection and reconnects as many times as asked.

This is the only module that imports ``websocket`` (websocket-client).
"""
from __future__ import annotations

import json
import logging
import ssl
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple
from urllib.parse import unquote, urlsplit

import websocket

if TYPE_CHECKING:
    from teslapy.vehicle import Vehicle

logger = logging.getLogger(__name__)

COLUMNS = (
    "speed", "odometer", "soc", "elevation", "est_heading", "est_lat", "est_lng",
    "power", "shift_state", "range", "est_range", "heading",
)
FIELDS = ("timestamp",) + COLUMNS
DEFAULT_PING_INTERVAL = 10
MAX_RECONNECT_DELAY = 30.0

Record = Dict[str, Any]
Callback = Callable[[Record], Any]

# The type each field normally has: a builtin converter per field (fast path).
_EXPECTED_TYPES: Tuple[Callable[[str], Any], ...] = (
    int, int, float, int, int, int, float, float, int, str, int, int, int,
)
# Where each field is merged into the vehicle data: field -> (group, key).
_MERGED_FIELDS = (
    ("timestamp", "drive_state", "timestamp"),
    ("speed", "drive_state", "speed"),
    ("est_lat", "drive_state", "latitude"),
    ("est_lng", "drive_state", "longitude"),
    ("power", "drive_state", "power"),
    ("shift_state", "drive_state", "shift_state"),
    ("odometer", "vehicle_state", "odometer"),
    ("soc", "charge_state", "battery_level"),
    ("range", "charge_state", "ideal_battery_range"),
    ("est_range", "charge_state", "est_battery_range"),
)


# -- records ------------------------------------------------------------------------

def _any_value(text: str) -> Any:
    """Convert one field of unexpected form: int, else float, else the text itself."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_record(value: str) -> Record:
    """Parse a ``data:update`` value into a dict of typed fields.

    ``value`` is ``timestamp`` followed by the subscribed columns, comma separated;
    an empty field becomes ``None``, numbers become ``int`` or ``float`` and other
    text (``shift_state``) stays a string. Fields missing from a short record are
    left out of the dict; extra fields are ignored. Never evaluates the text.
    """
    fields = value.split(",")
    try:
        return {name: convert(field) if field else None
                for name, convert, field in zip(FIELDS, _EXPECTED_TYPES, fields)}
    except ValueError:
        # A field of another type than usual (e.g. a float speed): convert each one
        # by what it looks like.
        return {name: _any_value(field) for name, field in zip(FIELDS, fields)}


def merge_record(vehicle: dict, record: Record) -> None:
    """Merge a parsed record into the vehicle's drive, charge and vehicle state.

    ``est_lat``/``est_lng`` become ``drive_state`` latitude/longitude, ``soc`` the
    battery level, ``range``/``est_range`` the ideal/estimated battery range and
    ``odometer`` the vehicle_state odometer. ``drive_state.heading`` takes
    ``heading``, or ``est_heading`` when ``heading`` is empty. ``elevation`` is not
    merged.
    """
    for field, group, key in _MERGED_FIELDS:
        if field in record:
            target = vehicle.get(group)
            if not isinstance(target, dict):
                target = vehicle[group] = {}
            target[key] = record[field]
    heading = record.get("heading")
    if heading is None:
        heading = record.get("est_heading")
    if heading is not None or "heading" in record:
        drive_state = vehicle.get("drive_state")
        if not isinstance(drive_state, dict):
            drive_state = vehicle["drive_state"] = {}
        drive_state["heading"] = heading


# -- one connection -----------------------------------------------------------------

class _Connection:
    """Callbacks and outcome of one websocket connection."""

    def __init__(self, vehicle: "Vehicle", callback: Optional[Callback]) -> None:
        self.vehicle = vehicle
        self.callback = callback
        self.tag = str(vehicle.get("vehicle_id"))
        self.opened = False
        self.updates = 0
        self.interrupted = False                     # Ctrl-C
        self.failure: Optional[BaseException] = None     # from our code or the callback
        self.connect_error: Optional[BaseException] = None

    def _guarded(self, app: websocket.WebSocketApp, action: Callable[..., None],
                 *args: Any) -> None:
        """Run ``action``; an error in it is kept for stream() to raise and closes."""
        try:
            action(app, *args)
        except Exception as error:
            self.failure = error
            app.close()

    def on_open(self, app: websocket.WebSocketApp) -> None:
        self.opened = True
        self._guarded(app, self._subscribe)

    def on_message(self, app: websocket.WebSocketApp, text: str) -> None:
        self._guarded(app, self._handle, text)

    def _subscribe(self, app: websocket.WebSocketApp) -> None:
        message = {
            "msg_type": "data:subscribe_oauth",
            "token": self.vehicle.tesla.valid_access_token(),
            "value": ",".join(COLUMNS),
            "tag": self.tag,
        }
        app.send(json.dumps(message))
        logger.debug("Subscribed to vehicle %s", self.tag)

    def _handle(self, app: websocket.WebSocketApp, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            logger.warning("Ignoring a stream message that is not JSON: %.80r", text)
            return
        if not isinstance(message, dict):
            logger.warning("Ignoring a stream message that is not an object: %.80r", text)
            return
        msg_type = message.get("msg_type")
        if msg_type == "data:update":
            value = message.get("value")
            if not isinstance(value, str):
                logger.warning("Ignoring a data:update without a text value")
                return
            record = parse_record(value)
            merge_record(self.vehicle, record)
            self.updates += 1
            if self.callback is not None:
                self.callback(record)
        elif msg_type == "data:error":
            error_type = message.get("error_type")
            level = logging.INFO if error_type == "vehicle_disconnected" else logging.ERROR
            logger.log(level, "Stream of vehicle %s ended (%s): %s", self.tag,
                       error_type, message.get("value"))
            app.close()
        elif msg_type == "control:hello":
            logger.debug("Stream server hello: %s", message)
        else:
            logger.debug("Ignoring stream message type %r", msg_type)

    def on_error(self, app: websocket.WebSocketApp, error: BaseException) -> None:
        if isinstance(error, KeyboardInterrupt):
            self.interrupted = True
        elif not self.opened:
            self.connect_error = error
            logger.warning("Could not connect to the streaming server: %s", error)
        else:
            logger.debug("Stream connection ended: %s", error)

    def on_close(self, app: websocket.WebSocketApp, status: Optional[int],
                 reason: Optional[str]) -> None:
        logger.debug("Stream connection closed (%s %s)", status, reason)


def _connection_options(tesla: Any, url: str, options: Dict[str, Any]) -> None:
    """Fill websocket options from the session's ``verify`` and ``proxies``."""
    secure = url.lower().startswith("wss:")
    verify = getattr(tesla, "verify", True)
    if secure and "sslopt" not in options:
        if verify is False:
            options["sslopt"] = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
        elif isinstance(verify, str):
            options["sslopt"] = {"ca_certs": verify}
    proxies = getattr(tesla, "proxies", None) or {}
    proxy = proxies.get("https" if secure else "http") or proxies.get("all")
    if proxy and "http_proxy_host" not in options:
        parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        options["http_proxy_host"] = parts.hostname
        options["http_proxy_port"] = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.username:
            options["http_proxy_auth"] = (unquote(parts.username),
                                          unquote(parts.password or ""))
        options.setdefault("proxy_type", "http")


def stream(vehicle: "Vehicle", callback: Optional[Callback] = None, retry: int = 0,
           indefinitely: bool = False, **kwargs: Any) -> None:
    """Stream a vehicle's data until Tesla ends the stream and no retries are left.

    callback: (optional) called with each parsed record (see :func:`parse_record`)
    retry: (optional) number of reconnections after a stream ends
    indefinitely: (optional) reconnect forever

    Other keyword arguments go to ``websocket.WebSocketApp.run_forever`` (default
    ``ping_interval=10``). Ctrl-C (``KeyboardInterrupt``) closes the connection and
    returns without reconnecting.

    Raises what the callback or fetching the access token raised (after closing the
    connection), the connection error when the last attempt could not connect, and
    ``ValueError`` when the vehicle has no ``vehicle_id`` to subscribe with.
    """
    if vehicle.get("vehicle_id") is None:
        raise ValueError("This vehicle has no 'vehicle_id'; it cannot be streamed")
    tesla = vehicle.tesla
    url = tesla.streaming_base_url
    options = dict(kwargs)
    options.setdefault("ping_interval", DEFAULT_PING_INTERVAL)
    _connection_options(tesla, url, options)
    attempts = 0
    failed_connects = 0
    try:
        while True:
            attempts += 1
            connection = _Connection(vehicle, callback)
            app = websocket.WebSocketApp(
                url, on_open=connection.on_open, on_message=connection.on_message,
                on_error=connection.on_error, on_close=connection.on_close)
            logger.info("Streaming vehicle %s (connection %d)", connection.tag, attempts)
            app.run_forever(**options)
            if connection.interrupted:
                logger.info("Streaming stopped by the user")
                return
            if connection.failure is not None:
                raise connection.failure
            if not indefinitely and attempts > retry:
                if connection.connect_error is not None:
                    raise connection.connect_error
                return
            if connection.connect_error is not None:
                failed_connects += 1
                time.sleep(min(2.0 ** (failed_connects - 1), MAX_RECONNECT_DELAY))
            else:
                failed_connects = 0
    except KeyboardInterrupt:
        logger.info("Streaming stopped by the user")
