"""Vehicle: reads, wake-up, commands, units, VIN and images against the simulator."""
from __future__ import annotations

import logging
import struct
import threading

import pytest
import requests

import teslapy
from teslapy import ResponseError, Vehicle, VehicleError


def _vehicle(tesla, name) -> Vehicle:
    return next(v for v in tesla.vehicle_list() if v["display_name"] == name)


def _car(world, name):
    return next(v for v in world.vehicles if v.data["display_name"] == name)


def _bring_online(world, name):
    car = _car(world, name)
    with world.lock:
        car.data["state"] = "online"
        car.last_polled = world.clock.now()
    return car


def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# -- reads ----------------------------------------------------------------------------

def test_vehicle_list_gives_vehicles(tesla):
    vehicles = tesla.vehicle_list()
    assert all(isinstance(v, Vehicle) for v in vehicles)
    assert sorted(v["display_name"] for v in vehicles) == ["Nikola", "Road Runner",
                                                           "Tim's Tesla"]


def test_summary_updates_in_place_and_works_asleep(tesla):
    nikola = _vehicle(tesla, "Nikola")
    nikola["state"] = "stale"
    assert nikola.get_vehicle_summary() is nikola
    assert nikola["state"] == "asleep"
    assert nikola["vin"] == "5YJSA1E2XHF123456"


def test_vehicle_data_updates_in_place(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    assert "charge_state" not in car
    assert car.get_vehicle_data() is car
    assert car["charge_state"]["battery_level"] == 44
    assert car["vehicle_state"]["vehicle_name"] == "Tim's Tesla"
    assert car["gui_settings"]["gui_distance_units"] == "km/hr"
    assert '"display_name": "Tim\'s Tesla"' in str(car)      # prints as JSON


def test_vehicle_data_of_a_sleeping_car_is_408(tesla):
    nikola = _vehicle(tesla, "Nikola")
    with pytest.raises(requests.HTTPError, match="408 Client Error: vehicle unavailable"):
        nikola.get_vehicle_data()


def test_api_fills_the_vehicle_id(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    reply = car.api("VEHICLE_SUMMARY")
    assert reply["response"]["id_s"] == car["id_s"]


def test_nearby_charging_sites(tesla):
    sites = _vehicle(tesla, "Tim's Tesla").get_nearby_charging_sites()
    assert sites["superchargers"] and sites["destination_charging"]
    assert {"name", "location", "distance_miles"} <= set(sites["superchargers"][0])


def test_service_scheduling_data_is_this_cars_entry(tesla):
    entry = _vehicle(tesla, "Tim's Tesla").get_service_scheduling_data()
    assert entry["vin"] == "5YJ3E111111111111"
    assert "next_appt_timestamp" in entry


def test_service_scheduling_data_is_empty_for_a_car_without_one(tesla, sim):
    car = _vehicle(tesla, "Tim's Tesla")
    car["vin"] = "5YJ3E1EA7KF999999"
    assert car.get_service_scheduling_data() == {}


def test_mobile_enabled(tesla):
    assert _vehicle(tesla, "Tim's Tesla").mobile_enabled() is True


def test_mobile_enabled_of_a_sleeping_car_is_408(tesla):
    with pytest.raises(requests.HTTPError, match="408"):
        _vehicle(tesla, "Nikola").mobile_enabled()


def test_option_code_list(tesla):
    tim = _vehicle(tesla, "Tim's Tesla")
    assert tim.option_code_list()[:3] == ["J1772 adapter", "Model 3", "Paint: solid black"]
    nikola = _vehicle(tesla, "Nikola")
    described = nikola.option_code_list()
    assert described[0] == "Model S" and "90 kWh battery" in described
    assert "Smart air suspension" in described


def test_option_code_list_without_codes_is_empty(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    car["option_codes"] = None
    assert car.option_code_list() == []


def test_malformed_reply_is_a_response_error(tesla, sim):
    car = _vehicle(tesla, "Tim's Tesla")
    sim.faults.add(service="api", path=r"/vehicle_data$", status=200,
                   body={"unexpected": True})
    with pytest.raises(ResponseError, match="VEHICLE_DATA gave an unexpected reply"):
        car.get_vehicle_data()


# -- wake-up --------------------------------------------------------------------------

def _count(sim, pattern):
    """A pass-through fault that counts the API calls whose path matches."""
    return sim.faults.add(service="api", path=pattern, status=None, times=None)


def test_sync_wake_up_returns_on_the_first_poll_that_sees_online(tesla, sim, world):
    nikola_state = _car(world, "Nikola")
    nikola_state.wake_delay = 3600            # simulator seconds; the clock jumps instead
    nikola = _vehicle(tesla, "Nikola")
    wakes = _count(sim, r"/wake_up$")
    polls_after_online = []
    online = threading.Event()
    original_api = tesla.api

    def counting_api(name, *args, **kwargs):
        if name == "VEHICLE_SUMMARY" and online.is_set():
            polls_after_online.append(name)
        return original_api(name, *args, **kwargs)

    tesla.api = counting_api

    def wake_when_asked():
        while nikola_state.woken_at is None:
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)           # a few polls still see it asleep
        world.clock.advance(3600)
        online.set()

    helper = threading.Thread(target=wake_when_asked, daemon=True)
    helper.start()
    try:
        nikola.sync_wake_up(timeout=60, interval=0.05, backoff=1.0)
    finally:
        tesla.api = original_api
    helper.join(5)
    assert nikola["state"] == "online"
    assert wakes.hits == 1
    assert len(polls_after_online) <= 1       # returned on the first poll after waking
    nikola.get_vehicle_data()                 # online-only calls now work
    assert nikola["gui_settings"]["gui_temperature_units"] == "F"


def test_sync_wake_up_of_an_online_car_sends_no_wake_up(tesla, sim):
    wakes = _count(sim, r"/wake_up$")
    car = _vehicle(tesla, "Tim's Tesla")
    car.sync_wake_up()
    assert wakes.hits == 0 and car["state"] == "online"


def test_sync_wake_up_times_out_with_the_cars_name(tesla, sim, world):
    _car(world, "Nikola").wake_delay = 10_000
    wakes = _count(sim, r"/wake_up$")
    nikola = _vehicle(tesla, "Nikola")
    with pytest.raises(VehicleError, match=r"^Nikola not woken up within 0.3 seconds$"):
        nikola.sync_wake_up(timeout=0.3, interval=0.05)
    assert wakes.hits == 1 and nikola["state"] == "asleep"


def test_sync_wake_up_never_sleeps_past_the_deadline(tesla, world):
    _car(world, "Nikola").wake_delay = 10_000
    nikola = _vehicle(tesla, "Nikola")
    # one full interval would outlast the test's time limit
    with pytest.raises(VehicleError, match="^Nikola not woken up within 0.2 seconds$"):
        nikola.sync_wake_up(timeout=0.2, interval=100_000)


def test_sync_wake_up_wakes_a_car_that_fell_asleep_since_it_was_read(tesla, sim, world):
    world.settings.vehicle_idle_sleep = 60
    car = _vehicle(tesla, "Tim's Tesla")
    assert car["state"] == "online"
    world.clock.advance(1200)                 # charged to its limit, then idle: it sleeps now
    _car(world, "Tim's Tesla").wake_delay = 0
    wakes = _count(sim, r"/wake_up$")
    car.sync_wake_up(interval=0.01)
    assert wakes.hits == 1 and car["state"] == "online"
    assert car.get_vehicle_data()["vehicle_state"]["vehicle_name"] == "Tim's Tesla"


@pytest.mark.parametrize("interval, backoff", [(0, 1.15), (-1, 1.15), (2, 0.5)])
def test_sync_wake_up_rejects_bad_timing(tesla, interval, backoff):
    with pytest.raises(ValueError):
        _vehicle(tesla, "Nikola").sync_wake_up(interval=interval, backoff=backoff)


def test_sleep_safe_methods_do_not_wake_the_car(tesla, world):
    nikola = _vehicle(tesla, "Nikola")
    nikola.get_vehicle_summary()
    nikola.option_code_list()
    nikola.get_service_scheduling_data()
    assert _png_size(nikola.compose_image(options="MDLS,PBSB"))
    assert nikola.decode_vin()["make"] == "Model S"
    assert nikola.dist_units(None) is None and nikola.temp_units(None) is None
    state = _car(world, "Nikola")
    assert state.woken_at is None
    assert nikola.get_vehicle_summary()["state"] == "asleep"


def test_a_woken_car_falls_asleep_when_only_sleep_safe_methods_are_called(tesla, world):
    world.settings.vehicle_idle_sleep = 60
    state = _car(world, "Nikola")
    state.wake_delay = 0
    nikola = _vehicle(tesla, "Nikola")
    nikola.sync_wake_up(interval=0.01)
    assert nikola["state"] == "online"
    world.clock.advance(45)
    nikola.get_vehicle_data()                 # an online-only call keeps it awake
    world.clock.advance(45)
    assert nikola.get_vehicle_summary()["state"] == "online"
    polled = state.last_polled
    nikola.option_code_list()
    nikola.get_service_scheduling_data()
    nikola.compose_image(options="MDLS")
    nikola.decode_vin()
    assert state.last_polled == polled        # none of them reset the idle timer
    world.clock.advance(16)                   # 61 s after the last online-only call
    assert nikola.get_vehicle_summary()["state"] == "asleep"
    with pytest.raises(requests.HTTPError, match="408 Client Error: vehicle unavailable"):
        nikola.get_vehicle_data()


# -- commands -------------------------------------------------------------------------

def test_command_returns_the_result_and_changes_the_car(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    assert car.command("LOCK") is True
    assert car.get_vehicle_data()["vehicle_state"]["locked"] is True
    assert car.command("UNLOCK") is True
    assert car.get_vehicle_data()["vehicle_state"]["locked"] is False
    assert car.command("CHANGE_CHARGE_LIMIT", percent=80) is True
    assert car.get_vehicle_data()["charge_state"]["charge_limit_soc"] == 80


def test_media_command_without_a_driver_is_refused_with_the_reason(tesla, world):
    _car(world, "Tim's Tesla").data["vehicle_state"]["is_user_present"] = False
    car = _vehicle(tesla, "Tim's Tesla")
    with pytest.raises(VehicleError) as caught:
        car.command("MEDIA_TOGGLE_PLAYBACK")
    assert str(caught.value) == "user_not_present"
    assert isinstance(caught.value, teslapy.VehicleError)


def test_command_to_a_sleeping_car_is_408(tesla):
    with pytest.raises(requests.HTTPError, match="408"):
        _vehicle(tesla, "Nikola").command("HONK_HORN")


def test_command_with_a_malformed_reply_is_a_clear_error(tesla, sim):
    car = _vehicle(tesla, "Tim's Tesla")
    sim.faults.add(service="api", path=r"/command/honk_horn$", status=200,
                   body={"response": {"reason": ""}})
    with pytest.raises(ResponseError, match="HONK_HORN gave an unexpected reply"):
        car.command("HONK_HORN")
    sim.faults.add(service="api", path=r"/command/honk_horn$", status=200,
                   body={"response": None})
    with pytest.raises(ResponseError, match="HONK_HORN gave an unexpected reply"):
        car.command("HONK_HORN")


def test_remote_start_drive_uses_the_account_password(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    assert car.remote_start_drive() is True
    assert car.get_vehicle_data()["vehicle_state"]["remote_start"] is True


def test_remote_start_drive_without_a_password_is_a_value_error(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    tesla.password = None
    with pytest.raises(ValueError, match="password"):
        car.remote_start_drive()


def test_remote_start_drive_with_a_wrong_password_is_refused(tesla):
    car = _vehicle(tesla, "Tim's Tesla")
    tesla.password = "not-the-password"
    with pytest.raises(VehicleError) as caught:
        car.remote_start_drive()
    assert "not-the-password" not in str(caught.value)


# -- units ----------------------------------------------------------------------------

def test_units_of_a_km_celsius_car_fetch_gui_settings_once(tesla, sim):
    car = _vehicle(tesla, "Tim's Tesla")
    data_calls = _count(sim, r"/vehicle_data$")
    assert car.dist_units(100) == "160.9 km"
    assert car.dist_units(60, speed=True) == "96.6 km/h"
    assert car.temp_units(21) == "21.0 C"
    assert car.dist_units(None) is None and car.temp_units(None) is None
    assert data_calls.hits == 1


def test_units_of_a_miles_fahrenheit_car(tesla, world):
    _bring_online(world, "Nikola")
    car = _vehicle(tesla, "Nikola")
    assert car.dist_units(100) == "100.0 mi"
    assert car.dist_units(60, speed=True) == "60.0 mi/h"
    assert car.temp_units(21) == "69.8 F"
    assert car.temp_units(-40) == "-40.0 F"


def test_units_without_gui_settings_in_the_reply_are_a_response_error(tesla, sim):
    sim.faults.add(service="api", path=r"/vehicle_data$", status=200,
                   body={"response": {"state": "online"}})
    with pytest.raises(ResponseError, match="gui_settings"):
        _vehicle(tesla, "Tim's Tesla").temp_units(20)


def test_units_of_a_sleeping_car_need_it_awake(tesla):
    with pytest.raises(requests.HTTPError, match="408"):
        _vehicle(tesla, "Nikola").dist_units(100)


# -- VIN and image --------------------------------------------------------------------

def test_decode_vin_of_the_seed_car(tesla):
    assert _vehicle(tesla, "Tim's Tesla").decode_vin() == {
        "manufacturer": "Tesla Motors, Inc.", "make": "Model 3",
        "body_type": "Sedan 4 Dr / LHD", "battery_type": "Unknown",
        "drive_unit": "Single Motor", "year": "2031", "plant_code": "Unknown",
    }


@pytest.mark.parametrize("vin", ["", "5YJ3E", None, "5YJ3E1111111111110", "5YJ3E1111U1111111"])
def test_decode_malformed_vin_is_a_value_error(tesla, vin):
    car = _vehicle(tesla, "Tim's Tesla")
    car["vin"] = vin
    with pytest.raises(ValueError, match="VIN"):
        car.decode_vin()


@pytest.mark.parametrize("vin", ["", "5YJ3E", None, "5YJ3E1111111111110", "5YJ3E-11111111111"])
def test_compose_image_with_a_malformed_vin_is_a_value_error(tesla, vin):
    car = _vehicle(tesla, "Tim's Tesla")
    car["vin"] = vin                          # the image's model comes from the VIN
    with pytest.raises(ValueError, match="VIN"):
        car.compose_image(options="MDL3")


def test_compose_image_returns_png_that_follows_the_arguments(tesla, caplog):
    car = _vehicle(tesla, "Tim's Tesla")
    with caplog.at_level(logging.WARNING, logger="teslapy.vehicle"):
        default = car.compose_image()
    assert "option_codes" in caplog.text
    assert _png_size(default)[0] == 640
    small = car.compose_image(size=320, options="MDL3,PPSW")
    assert _png_size(small)[0] == 320
    assert car.compose_image(view="STUD_SIDE", size=320, options="MDL3,PPSW") != small
    assert car.compose_image(size=320, options="MDL3,PPMR") != small


def test_compose_image_differs_by_model(tesla):
    tim = _vehicle(tesla, "Tim's Tesla").compose_image(size=320, options="PBSB")
    nikola = _vehicle(tesla, "Nikola").compose_image(size=320, options="PBSB")
    assert tim != nikola


def test_compose_image_error_is_an_http_error(tesla, sim):
    sim.faults.add(service="compositor", status=404)
    with pytest.raises(requests.HTTPError, match="404"):
        _vehicle(tesla, "Tim's Tesla").compose_image(options="MDL3")

