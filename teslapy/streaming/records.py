"""Streamed messages and records: decoding a frame, parsing ``data:update``, merging it.

Every function here is pure and bounded: a message is at most :data:`MAX_FRAME_BYTES`,
JSON nested too deeply for the parser is a :class:`StreamFrameError`, and record text
is never evaluated.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Union

from teslapy.streaming.errors import StreamFrameError

COLUMNS = (
    "speed", "odometer", "soc", "elevation", "est_heading", "est_lat", "est_lng",
    "power", "shift_state", "range", "est_range", "heading",
)
FIELDS = ("timestamp",) + COLUMNS
#: Largest message accepted, in bytes (Tesla's are about 150).
MAX_FRAME_BYTES = 1 << 20

Record = Dict[str, Any]


# A data:update laid out as Tesla writes it, whose value holds no quote, backslash or
# control character: taken apart without the JSON parser, with the same result.
_PLAIN_UPDATE = re.compile(rb'\{"msg_type": ?"data:update", ?"tag": ?"([0-9]*)", ?'
                           rb'"value": ?"([^"\\\x00-\x1f]*)"\}')


def parse_message(data: Union[bytes, str]) -> Dict[str, Any]:
    """Decode one streamed message: strict UTF-8, then a JSON object.

    Most ``data:update`` frames take a fast path around the JSON parser that gives
    exactly what it would.

    Raises:
        StreamFrameError: the message is larger than ``MAX_FRAME_BYTES``, not UTF-8,
            not JSON, nested too deeply for the parser, or not a JSON object.
    """
    if len(data) > MAX_FRAME_BYTES:
        raise StreamFrameError(f"A stream message of {len(data)} bytes is larger than "
                               f"the {MAX_FRAME_BYTES} allowed")
    try:
        if isinstance(data, bytes):
            plain = _PLAIN_UPDATE.fullmatch(data)
            if plain is not None:
                return {"msg_type": "data:update", "tag": plain[1].decode("ascii"),
                        "value": plain[2].decode("utf-8")}
            data = data.decode("utf-8")
        message = json.loads(data)
    except (ValueError, RecursionError) as error:
        kind = "nested too deeply" if isinstance(error, RecursionError) else "not UTF-8 JSON"
        raise StreamFrameError(f"A stream message is {kind}: {data[:60]!r}") from None
    if type(message) is not dict:
        raise StreamFrameError(f"A stream message is not a JSON object: {data[:60]!r}")
    return message


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
    if len(fields) == 13:
        # The usual record, each field of its usual type: converted in one expression.
        try:
            (stamp, speed, odometer, soc, elevation, est_heading, est_lat, est_lng,
             power, shift_state, rated, est_range, heading) = fields
            return {
                "timestamp": int(stamp),
                "speed": int(speed) if speed else None,
                "odometer": float(odometer) if odometer else None,
                "soc": int(soc) if soc else None,
                "elevation": int(elevation) if elevation else None,
                "est_heading": int(est_heading) if est_heading else None,
                "est_lat": float(est_lat) if est_lat else None,
                "est_lng": float(est_lng) if est_lng else None,
                "power": int(power) if power else None,
                "shift_state": shift_state or None,
                "range": int(rated) if rated else None,
                "est_range": int(est_range) if est_range else None,
                "heading": int(heading) if heading else None,
            }
        except ValueError:
            pass        # a field of another type than usual (e.g. a float speed)
    return {name: _any_value(field) for name, field in zip(FIELDS, fields)}


def _group(vehicle: Dict[str, Any], name: str) -> Dict[str, Any]:
    group = vehicle.get(name)
    if not isinstance(group, dict):
        group = vehicle[name] = {}
    return group


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


def merge_record(vehicle: Dict[str, Any], record: Record) -> None:
    """Merge a parsed record into the vehicle's drive, charge and vehicle state.

    ``est_lat``/``est_lng`` become ``drive_state`` latitude/longitude, ``soc`` the
    battery level, ``range``/``est_range`` the ideal/estimated battery range and
    ``odometer`` the vehicle_state odometer. ``drive_state.heading`` takes
    ``heading``, or ``est_heading`` when ``heading`` is empty. ``elevation`` is not
    merged. Fields missing from ``record`` leave the vehicle's values as they are.
    """
    drive, charge, state = (vehicle.get("drive_state"), vehicle.get("charge_state"),
                            vehicle.get("vehicle_state"))
    if len(record) == 13 and isinstance(drive, dict) and isinstance(charge, dict) \
            and isinstance(state, dict):
        try:    # a full record and every group there: straight assignments
            drive["timestamp"] = record["timestamp"]
            drive["speed"] = record["speed"]
            drive["latitude"] = record["est_lat"]
            drive["longitude"] = record["est_lng"]
            drive["power"] = record["power"]
            drive["shift_state"] = record["shift_state"]
            heading = record["heading"]
            drive["heading"] = record["est_heading"] if heading is None else heading
            state["odometer"] = record["odometer"]
            charge["battery_level"] = record["soc"]
            charge["ideal_battery_range"] = record["range"]
            charge["est_battery_range"] = record["est_range"]
            return
        except KeyError:
            pass        # thirteen fields, but not these: merge field by field
    for field, group, key in _MERGED_FIELDS:
        if field in record:
            _group(vehicle, group)[key] = record[field]
    heading = record.get("heading")
    if heading is None:
        heading = record.get("est_heading")
    if heading is not None or "heading" in record:
        _group(vehicle, "drive_state")["heading"] = heading
