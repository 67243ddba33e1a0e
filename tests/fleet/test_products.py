"""The same product objects over the Fleet API: vehicle data by endpoint, energy sites, errors."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import teslapy
from teslapy.vehicle import DATA_ENDPOINTS, data_endpoints
from tests.fleet.conftest import EMAIL, TIM, car

LOCATION = {"latitude", "longitude", "heading", "native_latitude", "native_longitude"}


@pytest.fixture
def tesla(signed_in, register, key_file):
    register(key_file)
    return signed_in()


def test_vehicle_data_by_endpoint_and_the_location_only_when_asked(tesla):
    tim = car(tesla, TIM)
    everything = dict(tim.get_vehicle_data())
    assert {"charge_state", "climate_state", "vehicle_state", "drive_state"} <= set(everything)
    assert not LOCATION & set(everything["drive_state"])          # not by default on Fleet
    fresh = teslapy.Vehicle({"id_s": tim["id_s"], "vin": TIM}, tesla)
    fresh.get_vehicle_data(["charge_state"])
    assert "charge_state" in fresh and "climate_state" not in fresh and "drive_state" not in fresh
    fresh.get_vehicle_data("drive_state;location_data")
    assert LOCATION <= set(fresh["drive_state"]) and "power" in fresh["drive_state"]
    assert fresh["drive_state"]["latitude"] == pytest.approx(52.531951)


def test_no_location_without_the_vehicle_location_scope(sim, signed_in, make_fleet, register,
                                                        key_file, tmp_path):
    register(key_file)
    tesla = make_fleet(cache_file=str(tmp_path / "narrow.json"),
                       scopes="openid offline_access vehicle_device_data")
    tesla.refresh_token(refresh_token=sim.fleet_refresh_token_for(
        EMAIL, scope="openid offline_access vehicle_device_data"))
    data = car(tesla, TIM).get_vehicle_data(["location_data", "drive_state"])
    assert not LOCATION & set(data["drive_state"])


def test_a_token_without_the_scope_a_call_needs_is_refused(sim, make_fleet, register, key_file):
    register(key_file)
    tesla = make_fleet()
    tesla.refresh_token(refresh_token=sim.fleet_refresh_token_for(EMAIL, scope="openid user_data"))
    tim = car(tesla, TIM)
    with pytest.raises(teslapy.HTTPError) as refused:
        tim.get_vehicle_data()
    assert refused.value.response.status_code == 403
    assert "Unauthorized missing scopes" in str(refused.value)


def test_energy_sites_and_typed_errors_work_as_on_the_owner_api(sim, tesla):
    battery = tesla.battery_list()[0]
    assert battery.get_battery_data()["site_name"] == "Elon's House"
    battery.set_backup_reserve_percent(40)
    assert battery.get_battery_data()["backup"]["backup_reserve_percent"] == 40
    assert "solar_power" in tesla.solar_list()[0].get_site_data()
    sim.world.vehicles[0].data["state"] = "asleep"
    with pytest.raises(teslapy.VehicleUnavailableError):
        car(tesla, TIM).get_vehicle_data()


def test_unknown_data_endpoints_are_refused_before_any_call(tesla):
    with pytest.raises(ValueError, match="unknown vehicle data endpoint"):
        car(tesla, TIM).get_vehicle_data(["charge_state", "charge_stat"])


@given(st.lists(st.sampled_from(DATA_ENDPOINTS), min_size=1))
def test_endpoint_lists_join_without_repeats_in_order(names):
    joined = data_endpoints(names)
    assert joined.split(";") == list(dict.fromkeys(names))
    assert data_endpoints(joined) == joined


@given(st.lists(st.text(max_size=20), min_size=1))
def test_anything_else_is_a_value_error(names):
    if all(name.strip() in DATA_ENDPOINTS for name in names):
        assert data_endpoints(names)
    else:
        with pytest.raises(ValueError):
            data_endpoints(names)
