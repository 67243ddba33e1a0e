"""What every command handler works with: the request's parameters, typed, and the car.

A handler takes a :class:`Command` and returns an :data:`Outcome`
``(result, reason)``. The parameter readers raise :class:`CommandError` 400
``invalid_request: ...`` for a missing or mistyped value.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Tuple

from teslasim.drive import haversine_miles
from teslasim.errors import ModelError
from teslasim.state import VehicleState, World

NEAR_CAR_KM = 1.0
KM_PER_MILE = 1.609344

Outcome = Tuple[bool, str]          # (result, reason) as the Owner API answers them
DONE: Outcome = (True, "")


class CommandError(ModelError):
    """A command request the Owner API refuses; ``status`` is the HTTP status to answer."""


def invalid(problem: str) -> CommandError:
    """The 400 ``invalid_request: <problem>`` refusal."""
    return CommandError(400, f"invalid_request: {problem}")


class Command:
    """What one command handler sees: the world, the owner, the car and the parameters."""

    def __init__(self, world: World, email: str, vehicle: VehicleState, params: dict) -> None:
        self.world = world
        self.email = email
        self.vehicle = vehicle
        self.params = params

    def group(self, name: str) -> dict:
        """The car's data group ``name`` (created empty when missing), to read or change."""
        return self.vehicle.data.setdefault(name, {})

    # parameter parsing: 400 for a missing or mistyped value

    def raw(self, key: str, default: Any = ...) -> Any:
        if key in self.params and self.params[key] is not None:
            return self.params[key]
        if default is ...:
            raise invalid(f"missing parameter '{key}'")
        return default

    def flag(self, key: str, default: Any = ...) -> bool:
        value = self.raw(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "off"):
            return value.lower() in ("true", "1", "on")
        raise invalid(f"'{key}' must be true or false")

    def number(self, key: str, default: Any = ...) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool):
            raise invalid(f"'{key}' must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise invalid(f"'{key}' must be a number") from None
        if not math.isfinite(number):
            raise invalid(f"'{key}' must be a finite number")
        return number

    def integer(self, key: str, default: Any = ...) -> int:
        number = self.number(key, default)
        if number != int(number):
            raise invalid(f"'{key}' must be a whole number")
        return int(number)

    def text(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise invalid(f"'{key}' must be a string")
        return value

    def pin(self, key: str) -> Optional[str]:
        """A four-digit PIN from a string or number, or None when badly formed."""
        value = self.raw(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
            return f"{value:04d}"
        if isinstance(value, str) and len(value) == 4 and value.isascii() and value.isdigit():
            return value
        return None

    def near_car(self) -> bool:
        """Whether the ``lat``/``lon`` parameters lie within :data:`NEAR_CAR_KM` of the car."""
        drive_state = self.group("drive_state")
        lat, lon = self.number("lat", 0.0), self.number("lon", 0.0)
        car_lat, car_lon = drive_state.get("latitude"), drive_state.get("longitude")
        if car_lat is None or car_lon is None:
            return False
        miles = haversine_miles((lat, lon), (float(car_lat), float(car_lon)))
        return miles * KM_PER_MILE <= NEAR_CAR_KM


Action = Callable[[Command], Outcome]


def noop(cmd: Command) -> Outcome:
    """A command the car carries out without any state the API shows (horn, lights)."""
    return DONE
