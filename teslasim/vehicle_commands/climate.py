"""Climate: air conditioning, defrost, temperatures, seat and wheel heaters, keeper modes."""
from __future__ import annotations

from teslasim.vehicle_commands.command import Action, Command, DONE, Outcome


def _climate(on: bool) -> Action:
    def run(cmd: Command) -> Outcome:
        climate = cmd.group("climate_state")
        climate["is_climate_on"] = on
        climate["is_auto_conditioning_on"] = on
        climate["fan_status"] = 3 if on else 0
        if not on:
            climate["is_front_defroster_on"] = False
            climate["is_rear_defroster_on"] = False
        return DONE
    return run


def _max_defrost(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    climate = cmd.group("climate_state")
    climate["is_front_defroster_on"] = on
    climate["is_rear_defroster_on"] = on
    if on:
        climate["is_climate_on"] = True
        climate["is_auto_conditioning_on"] = True
        climate["fan_status"] = 7
    return DONE


def _set_temps(cmd: Command) -> Outcome:
    climate = cmd.group("climate_state")
    driver = cmd.number("driver_temp")
    passenger = cmd.number("passenger_temp", driver)
    low = float(climate.get("min_avail_temp", 15.0))
    high = float(climate.get("max_avail_temp", 28.0))
    if not (low <= driver <= high and low <= passenger <= high):
        return False, "out_of_range"
    climate["driver_temp_setting"] = driver
    climate["passenger_temp_setting"] = passenger
    return DONE


SEAT_HEATERS = {0: "seat_heater_left", 1: "seat_heater_right", 2: "seat_heater_rear_left",
                3: "seat_heater_rear_left_back", 4: "seat_heater_rear_center",
                5: "seat_heater_rear_right"}


def _seat_heater(cmd: Command) -> Outcome:
    heater = cmd.integer("heater")
    level = cmd.integer("level")
    if heater not in SEAT_HEATERS:
        return False, "invalid_heater"
    if not 0 <= level <= 3:
        return False, "invalid_level"
    climate = cmd.group("climate_state")
    key = SEAT_HEATERS[heater]
    if key in climate or heater in (0, 1):
        climate[key] = level
    return DONE


def _steering_wheel_heater(cmd: Command) -> Outcome:
    cmd.group("climate_state")["steering_wheel_heater"] = cmd.flag("on")
    return DONE


CLIMATE_KEEPER_MODES = {0: "off", 1: "on", 2: "dog", 3: "camp"}


def _climate_keeper(cmd: Command) -> Outcome:
    mode = cmd.integer("climate_keeper_mode")
    if mode not in CLIMATE_KEEPER_MODES:
        return False, "invalid_mode"
    climate = cmd.group("climate_state")
    climate["climate_keeper_mode"] = CLIMATE_KEEPER_MODES[mode]
    if mode:
        climate["is_climate_on"] = True
        climate["is_auto_conditioning_on"] = True
    return DONE


def _cabin_overheat(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    fan_only = cmd.flag("fan_only", False)
    value = "Off" if not on else ("FanOnly" if fan_only else "On")
    cmd.group("climate_state")["cabin_overheat_protection"] = value
    return DONE


COMMANDS: dict[str, Action] = {
    "auto_conditioning_start": _climate(True),
    "auto_conditioning_stop": _climate(False),
    "set_preconditioning_max": _max_defrost,
    "set_temps": _set_temps,
    "remote_seat_heater_request": _seat_heater,
    "remote_steering_wheel_heater_request": _steering_wheel_heater,
    "set_climate_keeper_mode": _climate_keeper,
    "set_cabin_overheat_protection": _cabin_overheat,
}
