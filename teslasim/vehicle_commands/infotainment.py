"""The touchscreen: media, volume, calendar, shared destinations, name, software updates."""
from __future__ import annotations

from teslasim.vehicle_commands.command import Action, Command, DONE, Outcome, invalid, noop


def _media(cmd: Command) -> Outcome:
    if not cmd.group("vehicle_state").get("is_user_present"):
        return False, "user_not_present"
    return DONE


def _adjust_volume(cmd: Command) -> Outcome:
    volume = cmd.number("volume")
    if not cmd.group("vehicle_state").get("is_user_present"):
        return False, "user_not_present"
    if not 0 <= volume <= 11:
        return False, "out_of_range"
    return DONE


def _calendar_sync(cmd: Command) -> Outcome:
    cmd.raw("calendar_data", None)
    return DONE


def _share(cmd: Command) -> Outcome:
    value = cmd.raw("value")
    if not isinstance(value, dict) and not isinstance(value, str):
        raise invalid("'value' must be an object or a string")
    return DONE


def _vehicle_name(cmd: Command) -> Outcome:
    name = cmd.text("vehicle_name").strip()
    if not name or len(name) > 64:
        return False, "invalid_name"
    cmd.vehicle.data["display_name"] = name
    cmd.group("vehicle_state")["vehicle_name"] = name
    return DONE


def _schedule_update(cmd: Command) -> Outcome:
    offset = cmd.number("offset_sec")
    update = cmd.group("vehicle_state").setdefault("software_update", {})
    if offset < 0:
        return False, "out_of_range"
    if update.get("status") == "installing":
        return False, "update_in_progress"
    update["status"] = "scheduled"
    update["scheduled_time_ms"] = int((cmd.world.clock.now() + offset) * 1000)
    return DONE


def _cancel_update(cmd: Command) -> Outcome:
    update = cmd.group("vehicle_state").setdefault("software_update", {})
    if update.get("status") != "scheduled":
        return False, "no_update_scheduled"
    update["status"] = "available"
    update.pop("scheduled_time_ms", None)
    return DONE


COMMANDS: dict[str, Action] = {
    "media_toggle_playback": _media,
    "media_next_track": _media,
    "media_prev_track": _media,
    "media_next_fav": _media,
    "media_prev_fav": _media,
    "media_volume_up": _media,
    "media_volume_down": _media,
    "adjust_volume": _adjust_volume,
    "remote_boombox": noop,
    "upcoming_calendar_entries": _calendar_sync,
    "share": _share,
    "set_vehicle_name": _vehicle_name,
    "schedule_software_update": _schedule_update,
    "cancel_software_update": _cancel_update,
}
