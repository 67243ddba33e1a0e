"""The body: trunks, sunroof, windows, homelink, horn and lights."""
from __future__ import annotations

from teslasim.vehicle_commands.command import Action, Command, DONE, Outcome, noop


def _actuate_trunk(cmd: Command) -> Outcome:
    which = cmd.text("which_trunk")
    state = cmd.group("vehicle_state")
    if which == "front":
        state["ft"] = 1                  # a frunk opens remotely but closes only by hand
    elif which == "rear":
        state["rt"] = 0 if state.get("rt") else 1
    else:
        return False, "invalid_trunk"
    return DONE


def _sun_roof(cmd: Command) -> Outcome:
    wanted = cmd.text("state")
    state = cmd.group("vehicle_state")
    if state.get("sun_roof_state") in (None, "unknown"):
        return False, "no_sunroof"
    positions = {"vent": ("vent", 15), "close": ("closed", 0), "open": ("open", 100),
                 "comfort": ("comfort", 80)}
    if wanted not in positions:
        return False, "invalid_state"
    state["sun_roof_state"], state["sun_roof_percent_open"] = positions[wanted]
    return DONE


def _window_control(cmd: Command) -> Outcome:
    command = cmd.text("command")
    state = cmd.group("vehicle_state")
    if command not in ("vent", "close"):
        return False, "invalid_command"
    if command == "close" and not cmd.near_car():
        return False, "too_far_from_car"
    for window in ("fd_window", "fp_window", "rd_window", "rp_window"):
        state[window] = 1 if command == "vent" else 0
    return DONE


def _homelink(cmd: Command) -> Outcome:
    cmd.raw("lat")
    cmd.raw("lon")
    if not cmd.near_car():
        return False, "too_far_from_car"
    return DONE


COMMANDS: dict[str, Action] = {
    "honk_horn": noop,
    "flash_lights": noop,
    "actuate_trunk": _actuate_trunk,
    "sun_roof_control": _sun_roof,
    "window_control": _window_control,
    "trigger_homelink": _homelink,
}
