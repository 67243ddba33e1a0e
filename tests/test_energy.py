"""Energy products: Powerwall and solar reads, history and settings against the simulator."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from teslapy import Battery, ProductError, ResponseError, SolarPanel
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


def _sent_queries(tesla) -> list:
    """Record the query of every request the session sends from now on."""
    queries = []
    tesla.hooks["response"].append(
        lambda response, *args, **kwargs: queries.append(
            parse_qs(urlsplit(response.request.url).query)))
    return queries


@pytest.mark.parametrize("method", ["get_history_data", "get_calendar_history_data"])
def test_default_end_date_is_now_at_each_call(battery, method):
    queries = _sent_queries(battery.tesla)
    before = utc_timestamp()
    getattr(battery, method)()
    between = utc_timestamp()
    getattr(battery, method)()
    first, second = (query["end_date"][0] for query in queries)
    assert before <= first <= between <= second
    assert queries[0]["kind"] == ["savings"] and queries[0]["period"] == ["day"]   # 1.5 default
    assert "start_date" not in queries[0] and "timezone" not in queries[0]


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


@pytest.mark.parametrize("mode", ["", "  ", None])
def test_an_empty_operation_mode_is_a_value_error_and_changes_nothing(battery, mode):
    with pytest.raises(ValueError, match="self_consumption, backup, autonomous"):
        battery.set_operation(mode)
    assert battery.get_battery_data()["operation"] == "self_consumption"


@pytest.mark.parametrize("mode", ["turbo", "Backup"])
def test_a_mode_teslapy_does_not_know_is_sent_and_tesla_decides(battery, sim, mode):
    sent = sim.faults.add(service="api", path="/operation$", status=None, times=None)
    with pytest.raises(requests.HTTPError, match="400"):
        battery.set_operation(mode)
    assert sent.hits == 1
    assert battery.get_battery_data()["operation"] == "self_consumption"


def test_set_backup_reserve_percent_shows_up_in_later_reads(battery):
    assert battery.set_backup_reserve_percent(30) == "Updated"
    assert battery.get_battery_data()["backup"]["backup_reserve_percent"] == 30
    assert battery.set_backup_reserve_percent(100) == "Updated"
    assert battery.set_backup_reserve_percent(0) == "Updated"
    assert battery.get_battery_data()["backup"]["backup_reserve_percent"] == 0


@pytest.mark.parametrize("percent, sent", [("50", 50), (50.5, 50), (20.0, 20)])
def test_backup_reserve_takes_what_int_reads_as_teslapy_1_5_did(battery, percent, sent):
    assert battery.set_backup_reserve_percent(percent) == "Updated"
    assert battery.get_battery_data()["backup"]["backup_reserve_percent"] == sent


@pytest.mark.parametrize("percent", [-1, 101, "fifty", True, None, "50.5"])
def test_bad_backup_reserve_is_a_value_error(battery, percent):
    with pytest.raises(ValueError, match="0 to 100"):
        battery.set_backup_reserve_percent(percent)


def test_server_rejection_is_an_http_error(battery):
    with pytest.raises(requests.HTTPError, match="400"):
        battery.command("BACKUP_RESERVE", backup_reserve_percent=500)


@pytest.mark.parametrize("body, expected", [
    ({"response": {"code": 201, "message": "Updated"}}, "Updated"),
    ({"response": {"Code": 201, "Message": "Updated"}}, "Updated"),
    ({"response": '{"code": 201, "message": "Updated"}'}, "Updated"),
    ({"response": {"code": 201}}, ""),
    ({"response": {"Code": 200, "Message": "Accepted"}}, "Accepted"),
])
def test_command_returns_the_message_of_an_accepted_code(battery, sim, body, expected):
    sim.faults.add(service="api", path=r"/backup$", status=200, body=body)
    assert battery.set_backup_reserve_percent(20) == expected


@pytest.mark.parametrize("body, message", [
    ({"response": {"code": 500, "message": "Could not reach the gateway"}},
     "^Could not reach the gateway$"),
    ({"response": {"code": 400}}, "code 400"),
    ({"response": {"code": "201", "message": "Maybe"}}, "^Maybe$"),
    ({"response": {"message": "Updated"}}, "^Updated$"),
    ({"response": {}}, "code None"),
    ({"response": "Updated"}, "not accepted: Updated"),
    ({"response": "[201]"}, r"not accepted: \[201\]"),
])
def test_command_without_an_accepted_code_is_a_product_error(battery, sim, body, message):
    sim.faults.add(service="api", path=r"/operation$", status=200, body=body)
    with pytest.raises(ProductError, match=message):
        battery.set_operation("backup")


@pytest.mark.parametrize("body", [{"response": 42}, {"result": True}, [201],
                                  {"response": None}, "Updated"])
def test_malformed_command_reply_is_a_response_error(battery, sim, body):
    sim.faults.add(service="api", path=r"/operation$", status=200, body=body)
    with pytest.raises(ResponseError, match="BATTERY_OPERATION_MODE gave an unexpected reply"
                                            "|/operation: the reply .* is not JSON"):
        battery.set_operation("backup")


def test_api_fills_battery_and_site_ids(battery):
    assert battery.api("BATTERY_DATA")["response"]["id"] == battery["id"]
    status = battery.api("SITE_SUMMARY")["response"]
    assert status["site_name"] == "Elon's House"


# -- history ---------------------------------------------------------------------------

def test_history_data_defaults_to_savings_as_teslapy_1_5_did(battery):
    history = battery.get_history_data()
    assert history["period"] == "day"
    assert isinstance(history["time_series"], list) and history["time_series"]
    assert {"solar_savings", "battery_savings"} <= set(history["time_series"][-1])
    energy = battery.get_history_data(kind="energy")
    assert "solar_energy_exported" in energy["time_series"][-1]


def test_power_history_is_deterministic(battery):
    end = utc_timestamp(datetime.now(timezone.utc) - timedelta(hours=1))
    first = battery.get_history_data(kind="power", end_date=end)
    second = battery.get_history_data(kind="power", end_date=end)
    assert first == second
    points = first["time_series"]
    assert points and {"timestamp", "solar_power", "battery_power", "grid_power"} \
        <= set(points[0])


def test_history_with_dates_and_time_zones_sends_them(battery):
    queries = _sent_queries(battery.tesla)
    history = battery.get_history_data(
        kind="energy", period="week", start_date="2021-02-22T08:00:00.000Z",
        end_date="2021-02-28T07:59:59.999Z", installation_timezone="America/Los_Angeles",
        timezone="America/Los_Angeles")
    assert queries[-1] == {
        "kind": ["energy"], "period": ["week"], "start_date": ["2021-02-22T08:00:00.000Z"],
        "end_date": ["2021-02-28T07:59:59.999Z"],
        "installation_timezone": ["America/Los_Angeles"],
        "timezone": ["America/Los_Angeles"]}
    assert history["period"] == "week"
    assert history["time_zone_offset"] == -480
    # local days 22 to 27 February: from the start date up to the end date
    assert [point["timestamp"][:10] for point in history["time_series"]] == [
        f"2021-02-{day}" for day in range(22, 28)]


KINDS = ("power", "energy", "backup", "self_consumption", "time_of_use_energy",
         "time_of_use_self_consumption", "savings")


@pytest.mark.parametrize("method, periods", [
    ("get_history_data", ("day", "week", "month", "year")),
    ("get_calendar_history_data", ("day", "week", "month", "year", "lifetime")),
])
def test_history_for_every_kind_and_period(battery, method, periods):
    end = "2021-02-28T07:59:59.999Z"
    for kind in KINDS:
        for period in periods:
            history = getattr(battery, method)(kind=kind, period=period, end_date=end,
                                               timezone="Europe/Berlin")
            assert history["period"] == period, (kind, period)
            assert history["time_zone_offset"] == 60
            assert isinstance(history["time_series"], list)
            if kind != "backup":
                assert history["time_series"], (kind, period)


def test_calendar_history_lifetime_and_tariff(battery):
    def savings(**extra):
        return battery.get_calendar_history_data(
            kind="savings", period="lifetime", end_date="2021-02-28T07:59:59.999Z", **extra)

    plain = savings()
    assert plain["period"] == "lifetime"
    assert [point["timestamp"][:4] for point in plain["time_series"]] == [
        "2019", "2020", "2021"]
    assert savings(tariff="PGE-EV2-A") == savings(tariff="PGE-EV2-A")
    assert savings(tariff="PGE-EV2-A")["time_series"] != plain["time_series"]


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
