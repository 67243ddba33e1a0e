"""The command menus and the values they ask for, in the car's own units.

:data:`COMMAND_MENUS` lists the seed's commands: a label, the endpoint name and its
parameters. A parameter is a fixed value, :data:`HERE` (the car's own position) or an
:class:`Ask`: a value asked when the item is chosen. :func:`question_for` phrases an
``Ask`` in the car's units (a Fahrenheit car is asked in degrees Fahrenheit, a car
showing kilometres in km/h) and :func:`api_value` converts the answer back to the
units the API takes (Celsius, mph).
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple, Union

import teslapy
from teslapy import codes

WHOLE, DECIMAL, PIN = "whole number", "number", "PIN"
CELSIUS, MPH = "celsius", "mph"     # the API's units of an asked value


class Ask:
    """A command parameter asked when the menu item is chosen.

    kind: WHOLE, DECIMAL or PIN (four digits)
    low, high: (optional) the accepted range, in the API's units
    unit: (optional) CELSIUS or MPH: asked in the car's units and converted back
    Raises ValueError for a unit without a range.
    """

    def __init__(self, prompt: str, kind: str = WHOLE, low: Optional[float] = None,
                 high: Optional[float] = None, unit: Optional[str] = None) -> None:
        if unit is not None and (low is None or high is None):
            raise ValueError("An asked value with a unit needs its range")
        self.prompt, self.kind, self.low, self.high, self.unit = prompt, kind, low, high, unit


HERE = object()     # a parameter filled with the car's latitude / longitude
PIN_ASK = Ask("PIN", PIN)

COMMAND_MENUS: List[Tuple[str, List[Tuple[str, str, Dict[str, Any]]]]] = [
    ("Doors", [
        ("Lock", "LOCK", {}), ("Unlock", "UNLOCK", {}),
        ("Open frunk", "ACTUATE_TRUNK", {"which_trunk": "front"}),
        ("Open/close trunk", "ACTUATE_TRUNK", {"which_trunk": "rear"}),
        ("Vent windows", "WINDOW_CONTROL", {"command": "vent", "lat": HERE, "lon": HERE}),
        ("Close windows", "WINDOW_CONTROL", {"command": "close", "lat": HERE, "lon": HERE}),
        ("Vent sunroof", "CHANGE_SUNROOF_STATE", {"state": "vent"}),
        ("Close sunroof", "CHANGE_SUNROOF_STATE", {"state": "close"}),
        ("Trigger HomeLink", "TRIGGER_HOMELINK", {"lat": HERE, "lon": HERE}),
    ]),
    ("Signals", [
        ("Honk horn", "HONK_HORN", {}), ("Flash lights", "FLASH_LIGHTS", {}),
    ]),
    ("Climate", [
        ("Climate on", "CLIMATE_ON", {}), ("Climate off", "CLIMATE_OFF", {}),
        ("Set temperature...", "CHANGE_CLIMATE_TEMPERATURE_SETTING",
         {"driver_temp": Ask("Temperature", DECIMAL, 15.0, 28.0, CELSIUS)}),
        ("Max defrost on", "MAX_DEFROST", {"on": True}),
        ("Max defrost off", "MAX_DEFROST", {"on": False}),
        ("Seat heater...", "REMOTE_SEAT_HEATER_REQUEST",
         {"heater": Ask("Seat (0 driver, 1 passenger, 2-5 rear)", WHOLE, 0, 5),
          "level": Ask("Level (0 off, 3 high)", WHOLE, 0, 3)}),
        ("Steering wheel heater on", "REMOTE_STEERING_WHEEL_HEATER_REQUEST", {"on": True}),
        ("Steering wheel heater off", "REMOTE_STEERING_WHEEL_HEATER_REQUEST", {"on": False}),
    ]),
    ("Charging", [
        ("Start charging", "START_CHARGE", {}), ("Stop charging", "STOP_CHARGE", {}),
        ("Set charge limit...", "CHANGE_CHARGE_LIMIT",
         {"percent": Ask("Charge limit in %", WHOLE, 50, 100)}),
        ("Open charge port", "CHARGE_PORT_DOOR_OPEN", {}),
        ("Close charge port", "CHARGE_PORT_DOOR_CLOSE", {}),
    ]),
    ("Security", [
        ("Sentry mode on", "SET_SENTRY_MODE", {"on": True}),
        ("Sentry mode off", "SET_SENTRY_MODE", {"on": False}),
        ("Valet mode on...", "SET_VALET_MODE", {"on": True, "password": PIN_ASK}),
        ("Valet mode off...", "SET_VALET_MODE", {"on": False, "password": PIN_ASK}),
        ("Reset valet PIN", "RESET_VALET_PIN", {}),
        ("Speed limit on...", "SPEED_LIMIT_ACTIVATE", {"pin": PIN_ASK}),
        ("Speed limit off...", "SPEED_LIMIT_DEACTIVATE", {"pin": PIN_ASK}),
        ("Set speed limit...", "SPEED_LIMIT_SET_LIMIT",
         {"limit_mph": Ask("Speed limit", WHOLE, 50, 90, MPH)}),
        ("Clear speed limit PIN...", "SPEED_LIMIT_CLEAR_PIN", {"pin": PIN_ASK}),
    ]),
    ("Media", [
        ("Toggle playback", "MEDIA_TOGGLE_PLAYBACK", {}),
        ("Next track", "MEDIA_NEXT_TRACK", {}),
        ("Previous track", "MEDIA_PREVIOUS_TRACK", {}),
        ("Next favorite", "MEDIA_NEXT_FAVORITE", {}),
        ("Previous favorite", "MEDIA_PREVIOUS_FAVORITE", {}),
        ("Volume up", "MEDIA_VOLUME_UP", {}),
        ("Volume down", "MEDIA_VOLUME_DOWN", {}),
    ]),
    ("Software", [
        ("Schedule update...", "SCHEDULE_SOFTWARE_UPDATE",
         {"offset_sec": Ask("Start in how many seconds", WHOLE, 0, 86400)}),
        ("Cancel update", "CANCEL_SOFTWARE_UPDATE", {}),
    ]),
]

Number = Union[int, float]


class Question:
    """An :class:`Ask` in the car's units: what the dialog shows and accepts."""

    def __init__(self, prompt: str, kind: str, low: Optional[Number] = None,
                 high: Optional[Number] = None, unit_label: str = "") -> None:
        self.prompt, self.kind, self.low, self.high = prompt, kind, low, high
        self.unit_label = unit_label

    @property
    def text(self) -> str:
        """The prompt with its unit and range: ``'Temperature in °F (59-82.4)'``."""
        text = self.prompt + (" in %s" % self.unit_label if self.unit_label else "")
        if self.kind == PIN:
            return text + " (4 digits)"
        if self.low is not None and self.high is not None:
            text += " (%s-%s)" % (_plain(self.low), _plain(self.high))
        return text

    def parse(self, text: str) -> Union[Number, str]:
        """The answer typed in ``text``, checked against the question.

        Raises ValueError with a sentence saying what to enter.
        """
        text = text.strip()
        if self.kind == PIN:
            if not re.fullmatch(r"[0-9]{4}", text):
                raise ValueError("Enter the PIN's four digits.")
            return text
        what = "a whole number" if self.kind == WHOLE else "a number"
        if self.low is not None and self.high is not None:
            what += " from %s to %s" % (_plain(self.low), _plain(self.high))
        try:
            value: Number = int(text) if self.kind == WHOLE else float(text.replace(",", "."))
        except ValueError:
            raise ValueError("Enter %s." % what) from None
        if not math.isfinite(value) or (self.low is not None and value < self.low) \
                or (self.high is not None and value > self.high):
            raise ValueError("Enter %s." % what)
        return value


def _plain(number: Number) -> str:
    """A number without a needless ``.0``."""
    return ("%.1f" % number).rstrip("0").rstrip(".") if isinstance(number, float) \
        else str(number)


def _fahrenheit(vehicle: teslapy.Vehicle) -> bool:
    return codes.uses_fahrenheit(vehicle.get("gui_settings") or {})


def _kilometres(vehicle: teslapy.Vehicle) -> bool:
    return codes.uses_kilometres(vehicle.get("gui_settings") or {})


def units_known(vehicle: teslapy.Vehicle) -> bool:
    """True once the car's display settings (and so its units) have been read."""
    return isinstance(vehicle.get("gui_settings"), dict)


def question_for(ask: Ask, vehicle: teslapy.Vehicle) -> Question:
    """Phrase ``ask`` in ``vehicle``'s units, with the car's own range when it gives one."""
    low, high = ask.low, ask.high
    if ask.unit is None:
        return Question(ask.prompt, ask.kind, low, high)
    assert low is not None and high is not None     # Ask requires a range with a unit
    if ask.unit == CELSIUS:
        climate = vehicle.get("climate_state") or {}
        low = climate.get("min_avail_temp") or low
        high = climate.get("max_avail_temp") or high
        if _fahrenheit(vehicle):
            return Question(ask.prompt, ask.kind, _round_up(low * 9 / 5 + 32),
                            _round_down(high * 9 / 5 + 32), "°F")
        return Question(ask.prompt, ask.kind, low, high, "°C")
    if _kilometres(vehicle):
        return Question(ask.prompt, ask.kind, math.ceil(low * codes.KM_PER_MILE),
                        math.floor(high * codes.KM_PER_MILE), "km/h")
    return Question(ask.prompt, ask.kind, low, high, "mph")


def api_value(ask: Ask, value: Any, vehicle: teslapy.Vehicle) -> Any:
    """Convert an answer to ``question_for(ask, vehicle)`` into the API's units."""
    if ask.unit == CELSIUS and _fahrenheit(vehicle):
        return round((value - 32) * 5 / 9, 1)
    if ask.unit == MPH and _kilometres(vehicle):
        return int(round(value / codes.KM_PER_MILE))
    return value


def _round_up(value: float) -> float:
    return math.ceil(round(value * 10, 6)) / 10


def _round_down(value: float) -> float:
    return math.floor(round(value * 10, 6)) / 10
