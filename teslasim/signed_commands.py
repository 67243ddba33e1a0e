"""What a simulated car does with a verified signed command: the REST command it equals.

:func:`rest_command` reads the payload :class:`~teslasim.vehicle_security.VehicleSecurity`
accepted (``UnsignedMessage`` or ``CarServer.Action``) and names the Owner-API command
with the same effect and its parameters, so the simulator can run it on the same state
its REST commands change. Payloads the simulated car does not model give ``None``.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple, Union

from teslapy.vcp import carserver as cs
from teslapy.vcp.vcsec import ClosureMoveType, RKEAction, UnsignedMessage

RestCommand = Tuple[str, Dict[str, Any]]

_RKE: Dict[int, str] = {RKEAction.UNLOCK: "door_unlock", RKEAction.LOCK: "door_lock",
        RKEAction.REMOTE_DRIVE: "remote_start_drive"}
_CHARGING = {"start": "charge_start", "stop": "charge_stop",
             "start_max_range": "charge_max_range", "start_standard": "charge_standard"}
_PLAIN = {"honk_horn": "honk_horn", "flash_lights": "flash_lights",
          "charge_port_door_open": "charge_port_door_open",
          "charge_port_door_close": "charge_port_door_close",
          "reset_valet_pin": "reset_valet_pin", "cancel_software_update":
          "cancel_software_update", "media_play": "media_toggle_playback",
          "media_next_track": "media_next_track", "media_previous_track": "media_prev_track",
          "media_next_favorite": "media_next_fav", "media_previous_favorite": "media_prev_fav"}


def _set_member(message: Any, oneof: str) -> Optional[str]:
    return message.which(oneof) if message is not None else None


def _seat_heater(action: cs.HvacSeatHeaterActions) -> Optional[RestCommand]:
    if len(action.hvac_seat_heater_action) != 1:
        return None
    seat = action.hvac_seat_heater_action[0]
    position, level = seat.which("seat_position"), seat.which("seat_heater_level")
    if position not in cs.SEAT_HEATER_POSITIONS or level not in cs.SEAT_HEATER_LEVELS:
        return None
    return "remote_seat_heater_request", {
        "heater": cs.SEAT_HEATER_POSITIONS.index(position),
        "level": cs.SEAT_HEATER_LEVELS.index(level)}


def _volume(action: cs.MediaUpdateVolume) -> Optional[RestCommand]:
    if action.volume_absolute_float is not None:
        return "adjust_volume", {"volume": action.volume_absolute_float}
    if action.volume_delta:
        return ("media_volume_up" if action.volume_delta > 0 else "media_volume_down"), {}
    return None


_ACTIONS: Dict[str, Callable[[Any], Optional[RestCommand]]] = {
    "hvac_auto": lambda a: ("auto_conditioning_start" if a.power_on
                            else "auto_conditioning_stop", {}),
    "hvac_set_preconditioning_max": lambda a: ("set_preconditioning_max", {"on": a.on}),
    "hvac_temperature_adjustment": lambda a: ("set_temps", {
        "driver_temp": a.driver_temp_celsius, "passenger_temp": a.passenger_temp_celsius}),
    "charging_set_limit": lambda a: ("set_charge_limit", {"percent": a.percent}),
    "charging_start_stop": lambda a: (_CHARGING[a.which("charging_action")], {})
    if a.which("charging_action") in _CHARGING else None,
    "set_charging_amps": lambda a: ("set_charging_amps", {"charging_amps": a.charging_amps}),
    "set_sentry_mode": lambda a: ("set_sentry_mode", {"on": a.on}),
    "set_valet_mode": lambda a: ("set_valet_mode", {"on": a.on, "password": a.password}),
    "driving_speed_limit": lambda a: (
        "speed_limit_activate" if a.activate else "speed_limit_deactivate", {"pin": a.pin}),
    "driving_set_speed_limit": lambda a: ("speed_limit_set_limit", {"limit_mph": a.limit_mph}),
    "driving_clear_speed_limit_pin": lambda a: ("speed_limit_clear_pin", {"pin": a.pin}),
    "schedule_software_update": lambda a: ("schedule_software_update",
                                           {"offset_sec": a.offset_sec}),
    "media_update_volume": _volume,
    "sunroof_open_close": lambda a: ("sun_roof_control", {"state": a.which("action")})
    if a.which("action") else None,
    "window": lambda a: ("window_control", {"command": a.which("action")})
    if a.which("action") in ("vent", "close") else None,
    "trigger_homelink": lambda a: ("trigger_homelink", {
        "lat": a.location.latitude if a.location else None,
        "lon": a.location.longitude if a.location else None}),
    "hvac_seat_heater": _seat_heater,
    "hvac_steering_wheel_heater": lambda a: ("remote_steering_wheel_heater_request",
                                             {"on": a.power_on}),
    "hvac_climate_keeper": lambda a: ("set_climate_keeper_mode",
                                      {"climate_keeper_mode": a.climate_keeper_action}),
    "hvac_bioweapon_mode": lambda a: ("set_bioweapon_mode",
                                      {"on": a.on, "manual_override": a.manual_override}),
    "set_cabin_overheat_protection": lambda a: ("set_cabin_overheat_protection",
                                                {"on": a.on, "fan_only": a.fan_only}),
    "set_vehicle_name": lambda a: ("set_vehicle_name", {"vehicle_name": a.vehicle_name}),
    "scheduled_charging": lambda a: ("set_scheduled_charging",
                                     {"enable": a.enabled, "time": a.charging_time}),
    "set_cop_temp": lambda a: ("set_cop_temp", {"cop_temp": a.cop_activation_temp}),
}


def rest_command(command: Union[UnsignedMessage, cs.Action]) -> Optional[RestCommand]:
    """The REST command name and parameters with the effect of ``command``, or None."""
    if isinstance(command, UnsignedMessage):
        return _vehicle_security(command)
    member = _set_member(command.vehicle_action, "vehicle_action_msg")
    if member is None:
        return None
    if member in _PLAIN:
        return _PLAIN[member], {}
    translate = _ACTIONS.get(member)
    return translate(getattr(command.vehicle_action, member)) if translate else None


def _vehicle_security(message: UnsignedMessage) -> Optional[RestCommand]:
    if message.rke_action is not None:
        name = _RKE.get(message.rke_action)
        return (name, {}) if name else None
    closures = message.closure_move_request
    if closures is not None:
        moves = {"front": closures.front_trunk, "rear": closures.rear_trunk}
        chosen = [which for which, move in moves.items() if move != ClosureMoveType.NONE]
        if len(chosen) == 1:
            return "actuate_trunk", {"which_trunk": chosen[0]}
    return None
