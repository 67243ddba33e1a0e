"""Vehicle commands as protocol payloads: endpoint name and parameters to domain and bytes.

:func:`build_command` takes a command as ``Vehicle.command`` names it (``HONK_HORN``,
``CHANGE_CHARGE_LIMIT`` ...) with the parameters the REST endpoint takes, and returns
the domain to send it to and the payload to sign. Lock, unlock, remote start and the
trunks go to vehicle security (``UnsignedMessage``); the rest to infotainment
(``CarServer.Action``). :data:`SIGNED_COMMANDS` lists the names it knows; the others
(navigation, calendar, managed charging, ...) stay REST commands.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Mapping, Tuple, Union

from teslapy.vcp import carserver as cs
from teslapy.vcp.messages import Domain
from teslapy.vcp.vcsec import ClosureMoveRequest, ClosureMoveType, RKEAction, UnsignedMessage

Params = Mapping[str, Any]
Payload = Union[UnsignedMessage, cs.VehicleAction]


def _value(params: Params, key: str, default: Any) -> Any:
    value = params.get(key)
    if value is None:
        if default is ...:
            raise ValueError(f"missing parameter '{key}'")
        return default
    return value


def _flag(params: Params, key: str, default: Any = ...) -> bool:
    value = _value(params, key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "off"):
        return value.lower() in ("true", "1", "on")
    raise ValueError(f"'{key}' must be true or false, not {value!r}")


def _number(params: Params, key: str, default: Any = ...) -> float:
    value = _value(params, key, default)
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"'{key}' must be a finite number, not {value!r}")
    return number


def _integer(params: Params, key: str, default: Any = ..., low: int = -2**31,
             high: int = 2**31 - 1) -> int:
    number = _number(params, key, default)
    if number != int(number) or not low <= number <= high:
        raise ValueError(f"'{key}' must be a whole number from {low} to {high}")
    return int(number)


def _text(params: Params, key: str, default: Any = ...) -> str:
    value = _value(params, key, default)
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string")
    return value


def _pin(params: Params, key: str, default: Any = ...) -> str:
    """A PIN given as a string or as a number (0-9999, written with four digits)."""
    value = _value(params, key, default)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
        return f"{value:04d}"
    return _text(params, key, default)


def _choice(params: Params, key: str, choices: Mapping[str, Any]) -> Any:
    value = _text(params, key)
    if value not in choices:
        raise ValueError(f"'{key}' must be one of {', '.join(choices)}, not {value!r}")
    return choices[value]


def _flag_member(params: Params, key: str, names: Tuple[str, ...]) -> Dict[str, Any]:
    """``{name: Void()}`` for the empty oneof member ``params[key]`` names."""
    return {_choice(params, key, {name: name for name in names}): cs.Void()}


def _rke(action: RKEAction) -> Callable[[Params], Payload]:
    return lambda params: UnsignedMessage(rke_action=int(action))


def _trunk(params: Params) -> Payload:
    which = _choice(params, "which_trunk", {"front": "front_trunk", "rear": "rear_trunk"})
    return UnsignedMessage(closure_move_request=ClosureMoveRequest(
        **{which: int(ClosureMoveType.MOVE)}))


def _action(member: str, build: Callable[[Params], Any] = lambda params: cs.Void()
            ) -> Callable[[Params], Payload]:
    return lambda params: cs.VehicleAction(**{member: build(params)})


def _charging(member: str) -> Callable[[Params], Payload]:
    return _action("charging_start_stop",
                   lambda params: cs.ChargingStartStopAction(**{member: cs.Void()}))


def _seat_heater(params: Params) -> Any:
    heater = _integer(params, "heater", low=0, high=len(cs.SEAT_HEATER_POSITIONS) - 1)
    level = _integer(params, "level", low=0, high=len(cs.SEAT_HEATER_LEVELS) - 1)
    action = cs.HvacSeatHeaterAction(**{cs.SEAT_HEATER_POSITIONS[heater]: cs.Void(),
                                        cs.SEAT_HEATER_LEVELS[level]: cs.Void()})
    return cs.HvacSeatHeaterActions(hvac_seat_heater_action=[action])


def _temperatures(params: Params) -> Any:
    driver = _number(params, "driver_temp")
    return cs.HvacTemperatureAdjustmentAction(
        driver_temp_celsius=driver,
        passenger_temp_celsius=_number(params, "passenger_temp", driver))


_BUILDERS: Dict[str, Callable[[Params], Payload]] = {
    "UNLOCK": _rke(RKEAction.UNLOCK),
    "LOCK": _rke(RKEAction.LOCK),
    "REMOTE_START": _rke(RKEAction.REMOTE_DRIVE),
    "ACTUATE_TRUNK": _trunk,
    "HONK_HORN": _action("honk_horn"),
    "FLASH_LIGHTS": _action("flash_lights"),
    "CLIMATE_ON": _action("hvac_auto", lambda p: cs.HvacAutoAction(power_on=True)),
    "CLIMATE_OFF": _action("hvac_auto", lambda p: cs.HvacAutoAction(power_on=False)),
    "MAX_DEFROST": _action("hvac_set_preconditioning_max",
                           lambda p: cs.OnOffAction(on=_flag(p, "on"))),
    "CHANGE_CLIMATE_TEMPERATURE_SETTING": _action("hvac_temperature_adjustment",
                                                  _temperatures),
    "CHANGE_CHARGE_LIMIT": _action("charging_set_limit", lambda p: cs.ChargingSetLimitAction(
        percent=_integer(p, "percent", low=0, high=100))),
    "CHANGE_CHARGE_MAX": _charging("start_max_range"),
    "CHANGE_CHARGE_STANDARD": _charging("start_standard"),
    "START_CHARGE": _charging("start"),
    "STOP_CHARGE": _charging("stop"),
    "CHARGE_PORT_DOOR_OPEN": _action("charge_port_door_open"),
    "CHARGE_PORT_DOOR_CLOSE": _action("charge_port_door_close"),
    "CHARGING_AMPS": _action("set_charging_amps", lambda p: cs.SetChargingAmpsAction(
        charging_amps=_integer(p, "charging_amps", low=0))),
    "SET_SENTRY_MODE": _action("set_sentry_mode",
                               lambda p: cs.SetSentryModeAction(on=_flag(p, "on"))),
    "SET_VALET_MODE": _action("set_valet_mode", lambda p: cs.SetValetModeAction(
        on=_flag(p, "on"), password=_pin(p, "password", ""))),
    "RESET_VALET_PIN": _action("reset_valet_pin"),
    "SPEED_LIMIT_ACTIVATE": _action("driving_speed_limit", lambda p: cs.DrivingSpeedLimitAction(
        activate=True, pin=_pin(p, "pin"))),
    "SPEED_LIMIT_DEACTIVATE": _action("driving_speed_limit",
                                      lambda p: cs.DrivingSpeedLimitAction(
                                          activate=False, pin=_pin(p, "pin"))),
    "SPEED_LIMIT_SET_LIMIT": _action("driving_set_speed_limit",
                                     lambda p: cs.DrivingSetSpeedLimitAction(
                                         limit_mph=_number(p, "limit_mph"))),
    "SPEED_LIMIT_CLEAR_PIN": _action("driving_clear_speed_limit_pin",
                                     lambda p: cs.PinAction(pin=_pin(p, "pin"))),
    "SCHEDULE_SOFTWARE_UPDATE": _action("schedule_software_update",
                                        lambda p: cs.ScheduleSoftwareUpdateAction(
                                            offset_sec=_integer(p, "offset_sec"))),
    "CANCEL_SOFTWARE_UPDATE": _action("cancel_software_update"),
    "MEDIA_TOGGLE_PLAYBACK": _action("media_play"),
    "MEDIA_NEXT_TRACK": _action("media_next_track"),
    "MEDIA_PREVIOUS_TRACK": _action("media_previous_track"),
    "MEDIA_NEXT_FAVORITE": _action("media_next_favorite"),
    "MEDIA_PREVIOUS_FAVORITE": _action("media_previous_favorite"),
    "MEDIA_VOLUME_UP": _action("media_update_volume",
                               lambda p: cs.MediaUpdateVolume(volume_delta=1)),
    "MEDIA_VOLUME_DOWN": _action("media_update_volume",
                                 lambda p: cs.MediaUpdateVolume(volume_delta=-1)),
    "ADJUST_VOLUME": _action("media_update_volume", lambda p: cs.MediaUpdateVolume(
        volume_absolute_float=_number(p, "volume"))),
    "CHANGE_SUNROOF_STATE": _action("sunroof_open_close", lambda p: cs.SunroofOpenCloseAction(
        **_flag_member(p, "state", ("vent", "close", "open")))),
    "WINDOW_CONTROL": _action("window", lambda p: cs.WindowAction(
        **_flag_member(p, "command", ("vent", "close")))),
    "TRIGGER_HOMELINK": _action("trigger_homelink", lambda p: cs.TriggerHomelinkAction(
        location=cs.LatLong(latitude=_number(p, "lat"), longitude=_number(p, "lon")),
        token=_text(p, "token", ""))),
    "REMOTE_SEAT_HEATER_REQUEST": _action("hvac_seat_heater", _seat_heater),
    "REMOTE_STEERING_WHEEL_HEATER_REQUEST": _action(
        "hvac_steering_wheel_heater",
        lambda p: cs.HvacSteeringWheelHeaterAction(power_on=_flag(p, "on"))),
    "SET_CLIMATE_KEEPER_MODE": _action("hvac_climate_keeper", lambda p: cs.HvacClimateKeeperAction(
        climate_keeper_action=_integer(p, "climate_keeper_mode", low=0, high=3),
        manual_override=True)),
    "HVAC_BIOWEAPON_MODE": _action("hvac_bioweapon_mode", lambda p: cs.OnOffAction(
        on=_flag(p, "on"), manual_override=_flag(p, "manual_override", False))),
    "SET_CABIN_OVERHEAT_PROTECTION": _action(
        "set_cabin_overheat_protection", lambda p: cs.SetCabinOverheatProtectionAction(
            on=_flag(p, "on"), fan_only=_flag(p, "fan_only", False))),
    "SET_VEHICLE_NAME": _action("set_vehicle_name", lambda p: cs.SetVehicleNameAction(
        vehicle_name=_text(p, "vehicle_name"))),
    "SCHEDULED_CHARGING": _action("scheduled_charging", lambda p: cs.ScheduledChargingAction(
        enabled=_flag(p, "enable"), charging_time=_integer(p, "time", 0, low=0))),
    "SET_COP_TEMP": _action("set_cop_temp", lambda p: cs.SetCopTempAction(
        cop_activation_temp=_integer(p, "cop_temp", low=0, high=3))),
}

#: The endpoint names :func:`build_command` can sign.
SIGNED_COMMANDS = frozenset(_BUILDERS)


def build_command(name: str, params: Params) -> Tuple[Domain, bytes]:
    """The domain and payload bytes of command ``name`` with ``params``.

    Raises:
        ValueError: ``name`` is not in :data:`SIGNED_COMMANDS` (send it as a REST
            command), or a parameter is missing or malformed (the message names it).
    """
    build = _BUILDERS.get(name)
    if build is None:
        raise ValueError(f"{name} is not sent as a signed command; use the REST endpoint")
    try:
        payload = build(params)
        if isinstance(payload, UnsignedMessage):
            return Domain.VEHICLE_SECURITY, payload.encode()
        return Domain.INFOTAINMENT, cs.Action(vehicle_action=payload).encode()
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
