"""Energy products: Powerwall and solar reads, history and settings against the simulator."""
from __future__ import annotations

import inspect
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from teslapy import Battery, Product, ProductError, ResponseError, SolarPanel
from teslapy.energy import utc_timestamp


@pytest.fixture
def battery(tesla) -> Battery:
    batteries = tesla.battery_list()
    assert len(batteries) == 1 and isinstance(batteries[0], Battery)
    return batteries[0]


@pytest.fixture
def solar(tesla) -> SolarPanel:
    panels = tesla.solar_list()
    assert len(panels) == 1 and isinstance(panels[0], SolarPanel)
    return panels[0]


# -- pure ------------------------------------------------------------------------------

def test_utc_timestamp_format():
    moment = datetime(2021, 2, 28, 7, 59, 59, 999000, tzinfo=timezone.utc)
    assert utc_timestamp(moment) == "2021-02-28T07:59:59.999Z"
    local = datetime(2021, 2, 28, 9, 0, 0, 5000, tzinfo=timezone(timedelta(hours=2)))
    assert utc_timestamp(local) == "2021-02-28T07:00:00.005Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", utc_timestamp())


def test_default_end_date_is_computed_per_call_not_at_import():
    for method in (Product.get_history_data, Product.get_calendar_history_data):
        assert inspect.signature(method).parameters["end_date"].default is None


# -- battery ---------------------------------------------------------------------------

def test_battery_data_updates_in_place(battery):
    assert battery.get_battery_data() is battery
    assert battery["site_name"] == "Elon's House"
    assert battery["grid_status"] == "Active"
    assert battery["operation"] == "self_consumption"
    assert battery["backup"]["backup_reserve_percent"] == 0
    assert battery["battery_count"] == 1
    reading = battery["power_reading"][0]
    assert {"load_power", "solar_power", "grid_power", "battery_power"} <= set(reading)


def test_set_operation_shows_up_in_later_reads(battery):
    assert battery.set_operation("backup") == "Updated"
    assert battery.get_battery_data()["operation"] == "backup"
    assert battery["default_real_mode"] == "backup"
    assert battery.set_operation("autonomous") == "Updated"
    assert battery.get_battery_data()["operation"] == "autonomous"


@pytest.mark.parametrize("mode", ["turbo", "", None, "Backup"])
def test_unknown_operation_mode_is_a_value_error_and_changes_nothing(battery, mode):
    with pytest.raises(ValueError, match="self_consumption, backup, autonomous"):
        battery.set_operation(mode)
    assert battery.get_battery_data()["operation"] == "self_consumption"


def test_set_backup_reserve_percent_shows_up_in_later_reads(battery):
    assert battery.set_backup_reserve_percent(30) == "Updated"
    assert battery.get_battery_data()["backup"]["backup_reserve_percent"] == 30
    assert battery.set_backup_reserve_percent(100) == "Updated"
    assert battery.set_backup_reserve_percent(0) == "Updated"
    assert battery.get_battery_data()["backup"]["backup_reserve_percent"] == 0


@pytest.mark.parametrize("percent", [-1, 101, 50.5, "50", True, None])
def test_bad_backup_reserve_is_a_value_error(battery, percent):
    with pytest.raises(ValueError, match="0 to 100"):
        battery.set_backup_reserve_percent(percent)


def test_server_rejection_is_an_http_error(battery):
    with pytest.raises(requests.HTTPError, match="400"):
        battery.command("BACKUP_RESERVE", backup_reserve_percent=500)


@pytest.mark.parametrize("body, expected", [
    ({"response": {"code": 201, "message": "Updated"}}, "Updated"),
    ({"response": {"code": 200, "message": "Accepted"}}, "Accepted"),
    ({"response": {"Code": 201, "Message": "Updated"}}, "Updated"),
    ({"response": "Updated"}, "Updated"),
])
def test_command_accepts_the_reply_shapes_tesla_uses(battery, sim, body, expected):
    sim.faults.add(service="api", path=r"/backup$", status=200, body=body)
    assert battery.set_backup_reserve_percent(20) == expected


@pytest.mark.parametrize("body, message", [
    ({"response": {"code": 500, "message": "Could not reach the gateway"}},
     "^Could not reach the gateway$"),
    ({"response": {"code": 400}}, "code 400"),
])
def test_command_failure_is_a_product_error(battery, sim, body, message):
    sim.faults.add(service="api", path=r"/operation$", status=200, body=body)
    with pytest.raises(ProductError, match=message):
        battery.set_operation("backup")


@pytest.mark.parametrize("body", [{"response": 42}, {"result": True}])
def test_malformed_command_reply_is_a_response_error(battery, sim, body):
    sim.faults.add(service="api", path=r"/operation$", status=200, body=body)
    with pytest.raises(ResponseError, match="BATTERY_OPERATION_MODE gave an unexpected reply"):
        battery.set_operation("backup")


def test_api_fills_battery_and_site_ids(battery):
    assert battery.api("BATTERY_DATA")["response"]["id"] == battery["id"]
    status = battery.api("SITE_SUMMARY")["response"]
    assert status["site_name"] == "Elon's House"


# -- history ---------------------------------------------------------------------------

def test_history_data_defaults(battery):
    history = battery.get_history_data()
    assert history["period"] == "day"
    assert isinstance(history["time_series"], list) and history["time_series"]
    assert "solar_energy_exported" in history["time_series"][-1]


def test_power_history_is_deterministic(battery):
    end = utc_timestamp(datetime.now(timezone.utc) - timedelta(hours=1))
    first = battery.get_history_data(kind="power", end_date=end)
    second = battery.get_history_data(kind="power", end_date=end)
    assert first == second
    points = first["time_series"]
    assert points and {"timestamp", "solar_power", "battery_power", "grid_power"} \
        <= set(points[0])


def test_history_with_dates_and_time_zone(battery):
    history = battery.get_history_data(
        kind="energy", period="week", start_date="2021-02-22T08:00:00.000Z",
        end_date="2021-02-28T07:59:59.999Z", timezone="America/Los_Angeles")
    assert history["period"] == "week"
    assert history["time_zone_offset"] == -480
    assert 1 <= len(history["time_series"]) <= 7


def test_calendar_history_lifetime_and_tariff(battery):
    history = battery.get_calendar_history_data(kind="savings", period="lifetime",
                                                tariff="PGE-EV2-A")
    assert history["period"] == "lifetime"
    assert history["time_series"]


def test_history_with_an_unknown_kind_is_an_http_error(battery):
    with pytest.raises(requests.HTTPError, match="400.*invalid kind"):
        battery.get_history_data(kind="gasoline")


# -- solar -----------------------------------------------------------------------------

def test_solar_site_data_updates_in_place(solar):
    assert solar.get_site_data() is solar
    assert solar["grid_status"] == "Unknown"
    assert solar["total_pack_energy"] == 1
    assert solar["battery_power"] == 0
    assert isinstance(solar["solar_power"], int) and solar["solar_power"] >= 0
    assert "timestamp" in solar


def test_solar_live_status_changes_over_the_day(solar, world):
    powers = set()
    for _ in range(8):
        powers.add(solar.get_site_data()["solar_power"])
        world.clock.advance(3 * 3600)
    assert len(powers) > 1 and 0 in powers


def test_solar_history(solar):
    history = solar.get_calendar_history_data(kind="energy", period="month")
    assert history["period"] == "month" and history["time_series"]


def test_solar_site_has_no_battery_commands(solar):
    with pytest.raises(requests.HTTPError, match="400"):
        solar.command("BACKUP_RESERVE", backup_reserve_percent=10)
