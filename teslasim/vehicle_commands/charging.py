"""Charging: charge limit, start and stop, charge port, current and schedule.

Limit, start/stop and amps commands drive :mod:`teslasim.charging`: each first brings
the car's charge up to the clock, so energy added before the change counts at the
old rate, then changes the setting and shows the new power, rate and time to full.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from teslasim import charging
from teslasim.vehicle_commands.command import Action, Command, DONE, Outcome


def _up_to_date(cmd: Command) -> tuple[dict, float]:
    """The car's ``charge_state``, its charge brought up to the clock, and the time."""
    now = cmd.world.clock.now()
    charging.advance(cmd.vehicle, now)
    return cmd.group("charge_state"), now


def _set_charge_limit(cmd: Command) -> Outcome:
    charge = cmd.group("charge_state")
    percent = cmd.integer("percent")
    low = int(charge.get("charge_limit_soc_min", 50))
    high = int(charge.get("charge_limit_soc_max", 100))
    if not low <= percent <= high:
        return False, "out_of_range"
    if percent == charge.get("charge_limit_soc"):
        return False, "already_set"
    return _apply_charge_limit(cmd, percent)


def _apply_charge_limit(cmd: Command, percent: int) -> Outcome:
    """Set the limit: charging stops at once below it, a completed car resumes above it."""
    charge, now = _up_to_date(cmd)
    charge["charge_limit_soc"] = percent
    charge["charge_to_max_range"] = percent >= int(charge.get("charge_limit_soc_max", 100))
    level = int(charge.get("battery_level", 0))
    state = charge.get("charging_state")
    if state == "Charging" and level >= percent:
        charging.stop(cmd.vehicle, "Complete")
    elif state == "Complete" and level < percent:
        charging.begin(cmd.vehicle, now)
    else:
        charging.advance(cmd.vehicle, now)
    return DONE


def _charge_limit_preset(key: str, default: int, reason: str) -> Action:
    """A command setting the charge limit to the car's ``key`` value (max or standard)."""
    def run(cmd: Command) -> Outcome:
        charge = cmd.group("charge_state")
        percent = int(charge.get(key, default))
        if charge.get("charge_limit_soc") == percent:
            return False, reason
        return _apply_charge_limit(cmd, percent)
    return run


_charge_max_range = _charge_limit_preset("charge_limit_soc_max", 100, "already_max_range")
_charge_standard = _charge_limit_preset("charge_limit_soc_std", 90, "already_standard")


def _charge_start(cmd: Command) -> Outcome:
    charge, now = _up_to_date(cmd)
    state = charge.get("charging_state")
    if state in ("Charging", "Starting"):
        return False, "is_charging"
    if state in ("Disconnected", None):
        return False, "disconnected"
    if state == "Complete" or charge.get("battery_level", 0) >= charge.get("charge_limit_soc", 100):
        charge["charging_state"] = "Complete"
        return False, "complete"
    charging.begin(cmd.vehicle, now)
    return DONE


def _charge_stop(cmd: Command) -> Outcome:
    charge, _now = _up_to_date(cmd)
    if charge.get("charging_state") not in ("Charging", "Starting"):
        return False, "not_charging"
    charging.stop(cmd.vehicle, "Stopped")
    return DONE


def _charge_port(open_: bool) -> Action:
    def run(cmd: Command) -> Outcome:
        charge = cmd.group("charge_state")
        charge["charge_port_door_open"] = open_
        if open_ and charge.get("charging_state") in ("Disconnected", None):
            charge["charge_port_latch"] = "Disengaged"
        return DONE
    return run


def _charging_amps(cmd: Command) -> Outcome:
    amps = cmd.integer("charging_amps")
    charge, now = _up_to_date(cmd)
    if not 0 < amps <= int(charge.get("charge_current_request_max", 48)):
        return False, "out_of_range"
    charge["charge_current_request"] = amps
    charging.advance(cmd.vehicle, now)
    return DONE


def _scheduled_charging(cmd: Command) -> Outcome:
    enable = cmd.flag("enable")
    minutes = cmd.integer("time", 0)
    if not 0 <= minutes < 24 * 60:
        return False, "out_of_range"
    charge = cmd.group("charge_state")
    charge["scheduled_charging_pending"] = enable
    if enable:
        now = datetime.fromtimestamp(cmd.world.clock.now(), timezone.utc)
        start = now.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
        if start <= now:
            start += timedelta(days=1)
        charge["scheduled_charging_start_time"] = int(start.timestamp())
    else:
        charge["scheduled_charging_start_time"] = None
    return DONE


COMMANDS: dict[str, Action] = {
    "set_charge_limit": _set_charge_limit,
    "charge_max_range": _charge_max_range,
    "charge_standard": _charge_standard,
    "charge_port_door_open": _charge_port(True),
    "charge_port_door_close": _charge_port(False),
    "charge_start": _charge_start,
    "charge_stop": _charge_stop,
    "set_charging_amps": _charging_amps,
    "set_scheduled_charging": _scheduled_charging,
}
