"""Locks, valet mode, speed limit mode, sentry mode and remote start."""
from __future__ import annotations

import secrets
from typing import Optional

from teslasim.vehicle_commands.command import Action, Command, DONE, Outcome


def _lock(cmd: Command) -> Outcome:
    cmd.group("vehicle_state")["locked"] = True
    return DONE


def _unlock(cmd: Command) -> Outcome:
    cmd.group("vehicle_state")["locked"] = False
    return DONE


def _remote_start(cmd: Command) -> Outcome:
    password = cmd.text("password", "")
    state = cmd.group("vehicle_state")
    account = cmd.world.account(cmd.email)
    if not state.get("remote_start_enabled", True):
        return False, "remote_start_disabled"
    if account is None or not password or not secrets.compare_digest(
            account.password.encode(), password.encode()):
        return False, "incorrect_password"
    state["remote_start"] = True
    return DONE


def _set_valet(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    state = cmd.group("vehicle_state")
    stored = cmd.vehicle.pins.get("valet")
    given = cmd.pin("password") if cmd.params.get("password") not in (None, "") else None
    if on:
        pin = given or stored
        if pin is None:
            return False, "invalid_pin"
        if stored is not None and given is not None and given != stored:
            return False, "incorrect_pin"
        cmd.vehicle.pins["valet"] = pin
        state["valet_mode"] = True
        state["valet_pin_needed"] = False
        return DONE
    if state.get("valet_mode") and stored is not None and given != stored:
        return False, "incorrect_pin"
    state["valet_mode"] = False
    return DONE


def _reset_valet_pin(cmd: Command) -> Outcome:
    state = cmd.group("vehicle_state")
    if state.get("valet_mode"):
        return False, "valet_mode_active"
    cmd.vehicle.pins.pop("valet", None)
    state["valet_pin_needed"] = True
    return DONE


def _speed_mode(cmd: Command) -> dict:
    return cmd.group("vehicle_state").setdefault("speed_limit_mode", {})


def _speed_pin_refusal(cmd: Command, pin: Optional[str], must_be_set: bool) -> Optional[Outcome]:
    """Why a speed-limit command's PIN is refused, or None when it may go ahead."""
    if pin is None:
        return False, "invalid_pin"
    stored = cmd.vehicle.pins.get("speed_limit")
    if stored is None:
        return (False, "pin_not_set") if must_be_set else None
    if pin != stored:
        return False, "incorrect_pin"
    return None


def _speed_limit_activate(cmd: Command) -> Outcome:
    pin = cmd.pin("pin")
    refusal = _speed_pin_refusal(cmd, pin, must_be_set=False)
    if refusal:
        return refusal
    cmd.vehicle.pins["speed_limit"] = pin
    _speed_mode(cmd).update(active=True, pin_code_set=True)
    return DONE


def _speed_limit_deactivate(cmd: Command) -> Outcome:
    refusal = _speed_pin_refusal(cmd, cmd.pin("pin"), must_be_set=True)
    if refusal:
        return refusal
    _speed_mode(cmd)["active"] = False
    return DONE


def _speed_limit_set(cmd: Command) -> Outcome:
    limit = cmd.number("limit_mph")
    mode = _speed_mode(cmd)
    if not float(mode.get("min_limit_mph", 50)) <= limit <= float(mode.get("max_limit_mph", 90)):
        return False, "out_of_range"
    mode["current_limit_mph"] = float(limit)
    return DONE


def _speed_limit_clear_pin(cmd: Command) -> Outcome:
    refusal = _speed_pin_refusal(cmd, cmd.pin("pin"), must_be_set=True)
    if refusal:
        return refusal
    cmd.vehicle.pins.pop("speed_limit", None)
    _speed_mode(cmd).update(active=False, pin_code_set=False)
    return DONE


def _sentry(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    state = cmd.group("vehicle_state")
    if not state.get("sentry_mode_available", True):
        return False, "sentry_mode_unavailable"
    state["sentry_mode"] = on
    return DONE


COMMANDS: dict[str, Action] = {
    "door_unlock": _unlock,
    "door_lock": _lock,
    "remote_start_drive": _remote_start,
    "set_valet_mode": _set_valet,
    "reset_valet_pin": _reset_valet_pin,
    "speed_limit_activate": _speed_limit_activate,
    "speed_limit_deactivate": _speed_limit_deactivate,
    "speed_limit_set_limit": _speed_limit_set,
    "speed_limit_clear_pin": _speed_limit_clear_pin,
    "set_sentry_mode": _sentry,
}
