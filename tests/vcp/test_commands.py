"""Commands as payloads: every signed command reaches the simulated car as the REST command."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teslapy.vcp.carserver import Action
from teslapy.vcp.commands import SIGNED_COMMANDS, build_command
from teslapy.vcp.messages import Domain
from teslapy.vcp.vcsec import UnsignedMessage
from teslasim.signed_commands import rest_command

# endpoint name, parameters, and the REST command with the parameters the car gets
EXAMPLES = [
    ("UNLOCK", {}, ("door_unlock", {})),
    ("LOCK", {}, ("door_lock", {})),
    ("REMOTE_START", {}, ("remote_start_drive", {})),
    ("ACTUATE_TRUNK", {"which_trunk": "front"}, ("actuate_trunk", {"which_trunk": "front"})),
    ("ACTUATE_TRUNK", {"which_trunk": "rear"}, ("actuate_trunk", {"which_trunk": "rear"})),
    ("HONK_HORN", {}, ("honk_horn", {})),
    ("FLASH_LIGHTS", {}, ("flash_lights", {})),
    ("CLIMATE_ON", {}, ("auto_conditioning_start", {})),
    ("CLIMATE_OFF", {}, ("auto_conditioning_stop", {})),
    ("MAX_DEFROST", {"on": "true"}, ("set_preconditioning_max", {"on": True})),
    ("CHANGE_CLIMATE_TEMPERATURE_SETTING", {"driver_temp": 21.5, "passenger_temp": 19},
     ("set_temps", {"driver_temp": 21.5, "passenger_temp": 19.0})),
    ("CHANGE_CHARGE_LIMIT", {"percent": "80"}, ("set_charge_limit", {"percent": 80})),
    ("CHANGE_CHARGE_MAX", {}, ("charge_max_range", {})),
    ("CHANGE_CHARGE_STANDARD", {}, ("charge_standard", {})),
    ("START_CHARGE", {}, ("charge_start", {})),
    ("STOP_CHARGE", {}, ("charge_stop", {})),
    ("CHARGE_PORT_DOOR_OPEN", {}, ("charge_port_door_open", {})),
    ("CHARGE_PORT_DOOR_CLOSE", {}, ("charge_port_door_close", {})),
    ("CHARGING_AMPS", {"charging_amps": 16}, ("set_charging_amps", {"charging_amps": 16})),
    ("SET_SENTRY_MODE", {"on": True}, ("set_sentry_mode", {"on": True})),
    ("SET_VALET_MODE", {"on": True, "password": 1234},
     ("set_valet_mode", {"on": True, "password": "1234"})),
    ("RESET_VALET_PIN", {}, ("reset_valet_pin", {})),
    ("SPEED_LIMIT_ACTIVATE", {"pin": 42}, ("speed_limit_activate", {"pin": "0042"})),
    ("SPEED_LIMIT_DEACTIVATE", {"pin": "4242"}, ("speed_limit_deactivate", {"pin": "4242"})),
    ("SPEED_LIMIT_SET_LIMIT", {"limit_mph": 65}, ("speed_limit_set_limit", {"limit_mph": 65.0})),
    ("SPEED_LIMIT_CLEAR_PIN", {"pin": "4242"}, ("speed_limit_clear_pin", {"pin": "4242"})),
    ("SCHEDULE_SOFTWARE_UPDATE", {"offset_sec": 120},
     ("schedule_software_update", {"offset_sec": 120})),
    ("CANCEL_SOFTWARE_UPDATE", {}, ("cancel_software_update", {})),
    ("MEDIA_TOGGLE_PLAYBACK", {}, ("media_toggle_playback", {})),
    ("MEDIA_NEXT_TRACK", {}, ("media_next_track", {})),
    ("MEDIA_PREVIOUS_TRACK", {}, ("media_prev_track", {})),
    ("MEDIA_NEXT_FAVORITE", {}, ("media_next_fav", {})),
    ("MEDIA_PREVIOUS_FAVORITE", {}, ("media_prev_fav", {})),
    ("MEDIA_VOLUME_UP", {}, ("media_volume_up", {})),
    ("MEDIA_VOLUME_DOWN", {}, ("media_volume_down", {})),
    ("ADJUST_VOLUME", {"volume": 5.5}, ("adjust_volume", {"volume": 5.5})),
    ("CHANGE_SUNROOF_STATE", {"state": "vent"}, ("sun_roof_control", {"state": "vent"})),
    ("WINDOW_CONTROL", {"command": "close", "lat": 1, "lon": 2},
     ("window_control", {"command": "close"})),
    ("TRIGGER_HOMELINK", {"lat": 0.5, "lon": -0.25},
     ("trigger_homelink", {"lat": 0.5, "lon": -0.25})),
    ("REMOTE_SEAT_HEATER_REQUEST", {"heater": 4, "level": 2},
     ("remote_seat_heater_request", {"heater": 4, "level": 2})),
    ("REMOTE_STEERING_WHEEL_HEATER_REQUEST", {"on": False},
     ("remote_steering_wheel_heater_request", {"on": False})),
    ("SET_CLIMATE_KEEPER_MODE", {"climate_keeper_mode": 2},
     ("set_climate_keeper_mode", {"climate_keeper_mode": 2})),
    ("HVAC_BIOWEAPON_MODE", {"on": True},
     ("set_bioweapon_mode", {"on": True, "manual_override": False})),
    ("SET_CABIN_OVERHEAT_PROTECTION", {"on": True, "fan_only": True},
     ("set_cabin_overheat_protection", {"on": True, "fan_only": True})),
    ("SET_VEHICLE_NAME", {"vehicle_name": "Nikola"}, ("set_vehicle_name",
                                                      {"vehicle_name": "Nikola"})),
    ("SCHEDULED_CHARGING", {"enable": True, "time": 120},
     ("set_scheduled_charging", {"enable": True, "time": 120})),
    ("SET_COP_TEMP", {"cop_temp": 1}, ("set_cop_temp", {"cop_temp": 1})),
]


def car_reads(domain: Domain, payload: bytes):
    return rest_command((UnsignedMessage if domain == Domain.VEHICLE_SECURITY
                         else Action).decode(payload))


@pytest.mark.parametrize("name, params, expected", EXAMPLES,
                         ids=[f"{name}-{index}" for index, (name, _, _) in enumerate(EXAMPLES)])
def test_signed_command_reaches_the_car_as_the_rest_command(name, params, expected):
    assert car_reads(*build_command(name, params)) == expected


def test_every_signed_command_has_an_example():
    assert {name for name, _, _ in EXAMPLES} == SIGNED_COMMANDS


def test_vehicle_security_commands_go_to_vehicle_security():
    assert {name for name in SIGNED_COMMANDS
            if build_command(name, dict(next(p for n, p, _ in EXAMPLES if n == name)))[0]
            == Domain.VEHICLE_SECURITY} == {"UNLOCK", "LOCK", "REMOTE_START", "ACTUATE_TRUNK"}


@pytest.mark.parametrize("name, params, message", [
    ("NAVIGATION_ROUTE", {}, "use the REST endpoint"),
    ("CHANGE_CHARGE_LIMIT", {}, "missing parameter 'percent'"),
    ("CHANGE_CHARGE_LIMIT", {"percent": 101}, "from 0 to 100"),
    ("CHANGE_CHARGE_LIMIT", {"percent": "lots"}, "finite number"),
    ("SET_SENTRY_MODE", {"on": "maybe"}, "true or false"),
    ("ACTUATE_TRUNK", {"which_trunk": "side"}, "front, rear"),
    ("SET_VEHICLE_NAME", {"vehicle_name": 7}, "must be a string"),
    ("ADJUST_VOLUME", {"volume": float("inf")}, "finite number"),
    ("TRIGGER_HOMELINK", {"lat": 1e300, "lon": 0}, "does not fit"),
])
def test_bad_commands_say_what_is_wrong(name, params, message):
    with pytest.raises(ValueError, match=message):
        build_command(name, params)


PARAM_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                         st.floats(), st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SIGNED_COMMANDS)),
       st.dictionaries(st.sampled_from(["on", "percent", "pin", "state", "command", "volume",
                                        "heater", "level", "driver_temp", "which_trunk",
                                        "lat", "lon", "time", "enable", "charging_amps",
                                        "vehicle_name", "climate_keeper_mode", "cop_temp",
                                        "offset_sec", "limit_mph", "password", "fan_only"]),
                       PARAM_VALUES))
def test_any_parameters_build_a_command_or_raise_value_error(name, params):
    try:
        domain, payload = build_command(name, params)
    except ValueError:
        return
    assert car_reads(domain, payload) is not None
