"""The simulated energy service over HTTP: Powerwall and site reads, settings, history."""
from __future__ import annotations

from datetime import datetime

import pytest
import requests

from teslasim import energy_model

EMAIL = "elon@tesla.com"
BATTERY_ID = "STE10110111-00101"
SITE_ID = 111110110110
SOLAR_SITE_ID = 222220220220
SAMPLE_KEYS = [
    "energy_site_id", "resource_type", "site_name", "id", "gateway_id", "asset_site_id",
    "energy_left", "total_pack_energy", "percentage_charged", "battery_type",
    "backup_capable", "battery_power", "sync_grid_alert_enabled", "breaker_alert_enabled",
    "components", "grid_status", "backup", "user_settings", "default_real_mode",
    "operation", "installation_date", "power_reading", "battery_count",
]
UPDATED = {"response": {"code": 201, "message": "Updated"}}


class Api:
    """Plain HTTP calls to the simulator's Owner API with one account's bearer."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=10)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10)

    def read(self, path: str, **params):
        reply = self.get(path, **params)
        assert reply.status_code == 200, reply.text
        return reply.json()["response"]


@pytest.fixture
def api(sim, world):
    client = Api(sim.urls["api_base_url"], world.issue_bearer(EMAIL, "owner", 30 * 86400))
    yield client
    client.session.close()


def _assert_error(reply: requests.Response, status: int, error: str = "") -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["response"] is None and body["error_description"] == ""
    if error:
        assert body["error"] == error
    else:
        assert body["error"]


# -- reads ------------------------------------------------------------------------------

def test_battery_data_has_the_shape_of_a_powerwall(api):
    data = api.read(f"api/1/powerwalls/{BATTERY_ID}")
    assert list(data) == SAMPLE_KEYS
    assert data["id"] == BATTERY_ID and data["energy_site_id"] == SITE_ID
    assert data["site_name"] == "Elon's House"
    assert data["total_pack_energy"] == 13746
    assert 0 <= data["percentage_charged"] <= 100
    assert data["energy_left"] == pytest.approx(
        data["percentage_charged"] / 100 * data["total_pack_energy"], abs=1)
    reading = data["power_reading"][0]
    assert set(reading) == {"timestamp", "load_power", "solar_power", "grid_power",
                            "battery_power", "generator_power"}
    assert reading["load_power"] == pytest.approx(
        reading["solar_power"] + reading["grid_power"] + reading["battery_power"], abs=2)
    assert datetime.fromisoformat(reading["timestamp"]).utcoffset() is not None


def test_battery_status_lists_the_product_keys(api):
    status = api.read(f"api/1/powerwalls/{BATTERY_ID}/status")
    assert list(status)[:14] == SAMPLE_KEYS[:14]
    assert status["grid_status"] == "Active"


def test_live_status_follows_the_time_of_day(api, world):
    keys = {"solar_power", "energy_left", "total_pack_energy", "percentage_charged",
            "battery_power", "load_power", "grid_status", "grid_services_active",
            "grid_power", "grid_services_power", "generator_power", "storm_mode_active",
            "timestamp"}
    readings = []
    for _ in range(8):                      # a day in three-hour steps
        status = api.read(f"api/1/energy_sites/{SITE_ID}/live_status")
        assert set(status) == keys
        assert status["load_power"] == pytest.approx(
            status["solar_power"] + status["grid_power"] + status["battery_power"], abs=2)
        readings.append(status)
        world.clock.advance(3 * 3600)
    solar = [r["solar_power"] for r in readings]
    assert min(solar) == 0 and max(solar) > 1000       # night and day
    assert len({r["percentage_charged"] for r in readings}) > 1
    assert len({r["timestamp"] for r in readings}) == 8


def test_a_solar_only_site_reports_no_battery(api, world):
    world.clock.advance(0)
    status = api.read(f"api/1/energy_sites/{SOLAR_SITE_ID}/live_status")
    assert status["total_pack_energy"] == 1
    assert status["energy_left"] == 0 and status["battery_power"] == 0
    assert status["percentage_charged"] == 0
    assert status["grid_status"] == "Unknown"
    summary = api.read(f"api/1/energy_sites/{SOLAR_SITE_ID}/site_status")
    assert summary["resource_type"] == "solar" and summary["site_name"] == "Barn Roof"


def test_site_status_and_site_info(api):
    summary = api.read(f"api/1/energy_sites/{SITE_ID}/site_status")
    assert summary["site_name"] == "Elon's House"
    assert summary["battery_type"] == "ac_powerwall" and summary["backup_capable"] is True
    info = api.read(f"api/1/energy_sites/{SITE_ID}/site_info")
    assert info["installation_time_zone"] == "America/Los_Angeles"
    assert info["geolocation"]["latitude"] == pytest.approx(37.4275)
    assert info["nameplate_power"] == 5000 and info["nameplate_energy"] == 13500
    assert info["default_real_mode"] == "self_consumption"
    assert info["backup_reserve_percent"] == 0
    assert {"optimization_strategy", "schedule"} <= set(info["tou_settings"])
    for period in info["tou_settings"]["schedule"]:
        assert {"target", "week_days", "start_seconds", "end_seconds"} <= set(period)


# -- writes -----------------------------------------------------------------------------

def test_operation_and_backup_reserve_show_up_in_later_reads(api):
    assert api.post(f"api/1/energy_sites/{SITE_ID}/operation",
                    {"default_real_mode": "backup"}).json() == UPDATED
    assert api.post(f"api/1/energy_sites/{SITE_ID}/backup",
                    {"backup_reserve_percent": 35}).json() == UPDATED
    data = api.read(f"api/1/powerwalls/{BATTERY_ID}")
    assert data["operation"] == data["default_real_mode"] == "backup"
    assert data["backup"]["backup_reserve_percent"] == 35
    info = api.read(f"api/1/energy_sites/{SITE_ID}/site_info")
    assert info["default_real_mode"] == "backup" and info["backup_reserve_percent"] == 35

    assert api.post(f"api/1/powerwalls/{BATTERY_ID}/operation",
                    {"default_real_mode": "autonomous"}).json() == UPDATED
    assert api.post(f"api/1/powerwalls/{BATTERY_ID}/backup",
                    {"backup_reserve_percent": 80}).json() == UPDATED
    data = api.read(f"api/1/powerwalls/{BATTERY_ID}")
    assert data["operation"] == "autonomous"
    assert data["backup"]["backup_reserve_percent"] == 80


def test_backup_mode_charges_the_battery(api, world):
    api.post(f"api/1/energy_sites/{SITE_ID}/operation", {"default_real_mode": "backup"})
    first = api.read(f"api/1/energy_sites/{SITE_ID}/live_status")["percentage_charged"]
    world.clock.advance(1800)
    later = api.read(f"api/1/energy_sites/{SITE_ID}/live_status")
    assert later["percentage_charged"] > first or later["percentage_charged"] == 100


def test_names_storm_mode_reserve_and_time_of_use_are_kept(api):
    base = f"api/1/energy_sites/{SITE_ID}/"
    assert api.post(base + "site_name", {"site_name": "Casa"}).json() == UPDATED
    assert api.read(f"api/1/powerwalls/{BATTERY_ID}")["site_name"] == "Casa"
    assert api.post(f"api/1/powerwalls/{BATTERY_ID}/site_name",
                    {"site_name": "Home"}).json() == UPDATED
    assert api.read(base + "site_status")["site_name"] == "Home"

    assert api.post(base + "storm_mode", {"enabled": True}).json() == UPDATED
    assert api.read(base + "site_status")["storm_mode_enabled"] is True
    assert api.read(base + "live_status")["storm_mode_active"] is True

    assert api.post(base + "off_grid_vehicle_charging_reserve",
                    {"off_grid_vehicle_charging_reserve_percent": 40}).json() == UPDATED
    assert api.read(base + "site_info")["off_grid_vehicle_charging_reserve_percent"] == 40

    schedule = [{"target": "peak", "week_days": [1, 2, 3, 4, 5],
                 "start_seconds": 57600, "end_seconds": 75600}]
    assert api.post(base + "time_of_use_settings",
                    {"tou_settings": {"optimization_strategy": "balanced",
                                      "schedule": schedule}}).json() == UPDATED
    tou = api.read(base + "site_info")["tou_settings"]
    assert tou == {"optimization_strategy": "balanced", "schedule": schedule}


@pytest.mark.parametrize("path, body", [
    (f"api/1/energy_sites/{SITE_ID}/backup", {"backup_reserve_percent": 101}),
    (f"api/1/energy_sites/{SITE_ID}/backup", {"backup_reserve_percent": -1}),
    (f"api/1/energy_sites/{SITE_ID}/backup", {"backup_reserve_percent": "half"}),
    (f"api/1/energy_sites/{SITE_ID}/backup", {}),
    (f"api/1/powerwalls/{BATTERY_ID}/backup", {"backup_reserve_percent": 150}),
    (f"api/1/energy_sites/{SITE_ID}/operation", {"default_real_mode": "turbo"}),
    (f"api/1/powerwalls/{BATTERY_ID}/operation", {"default_real_mode": ""}),
    (f"api/1/energy_sites/{SITE_ID}/site_name", {"site_name": "  "}),
    (f"api/1/energy_sites/{SITE_ID}/storm_mode", {"enabled": "yes"}),
    (f"api/1/energy_sites/{SITE_ID}/time_of_use_settings", {"tou_settings": []}),
    (f"api/1/energy_sites/{SOLAR_SITE_ID}/backup", {"backup_reserve_percent": 20}),
])
def test_bad_settings_answer_400_and_change_nothing(api, path, body):
    _assert_error(api.post(path, body), 400)
    data = api.read(f"api/1/powerwalls/{BATTERY_ID}")
    assert data["backup"]["backup_reserve_percent"] == 0
    assert data["default_real_mode"] == "self_consumption"
    assert data["site_name"] == "Elon's House"


# -- who may see what --------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "api/1/powerwalls/STE00000000-00000",
    f"api/1/powerwalls/{BATTERY_ID}x/status",
    "api/1/energy_sites/999/live_status",
    f"api/1/energy_sites/{SITE_ID}0/site_info",
])
def test_unknown_ids_answer_404(api, path):
    _assert_error(api.get(path), 404, "not_found")


def test_another_accounts_site_is_not_found(sim, world):
    other = Api(sim.urls["api_base_url"], world.issue_bearer("mfa@tesla.com", "owner", 3600))
    try:
        _assert_error(other.get(f"api/1/energy_sites/{SITE_ID}/live_status"), 404, "not_found")
        _assert_error(other.post(f"api/1/powerwalls/{BATTERY_ID}/operation",
                                 {"default_real_mode": "backup"}), 404, "not_found")
    finally:
        other.session.close()


def test_a_missing_or_bad_bearer_answers_401(sim, world):
    url = sim.urls["api_base_url"] + f"api/1/energy_sites/{SITE_ID}/live_status"
    _assert_error(requests.get(url, timeout=10), 401, "invalid bearer token")
    reply = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
    _assert_error(reply, 401, "invalid bearer token")


# -- history ----------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint, periods", [
    ("history", energy_model.HISTORY_PERIODS),
    ("calendar_history", energy_model.CALENDAR_PERIODS),
])
def test_history_answers_every_kind_and_period(api, endpoint, periods):
    end = "2021-02-28T07:59:59.999Z"
    for kind in energy_model.KINDS:
        for period in periods:
            params = dict(kind=kind, period=period, end_date=end,
                          timezone="America/Los_Angeles")
            reply = api.read(f"api/1/energy_sites/{SITE_ID}/{endpoint}", **params)
            assert reply["period"] == period
            assert reply["serial_number"]
            assert reply["time_zone_offset"] == -480
            assert isinstance(reply["time_series"], list)
            if kind != "backup":
                assert reply["time_series"], (kind, period)
            for point in reply["time_series"]:
                stamp = datetime.fromisoformat(point["timestamp"])
                assert stamp <= datetime.fromisoformat("2021-02-28T07:59:59.999+00:00")
            assert api.read(f"api/1/energy_sites/{SITE_ID}/{endpoint}", **params) == reply


def test_energy_history_points_per_period(api):
    def series(period, **extra):
        return api.read(f"api/1/energy_sites/{SITE_ID}/calendar_history", kind="energy",
                        period=period, end_date="2021-02-28T07:59:59.999Z",
                        timezone="America/Los_Angeles", **extra)["time_series"]

    day = series("day")
    assert len(day) == 1 and day[0]["timestamp"] == "2021-02-27T00:00:00-08:00"
    assert day[0]["solar_energy_exported"] > 0
    assert {"grid_energy_imported", "battery_energy_exported",
            "consumer_energy_imported_from_grid"} <= set(day[0])
    assert len(series("week")) == 7
    assert len(series("month")) == 27          # February 1..27 (local) up to end_date
    assert len(series("year")) == 2            # January and February 2021
    lifetime = series("lifetime")
    assert [p["timestamp"][:4] for p in lifetime] == ["2019", "2020", "2021"]
    narrowed = series("month", start_date="2021-02-20T08:00:00Z")
    assert len(narrowed) == 8 and narrowed[0]["timestamp"] == "2021-02-20T00:00:00-08:00"


def test_power_history_has_fifteen_minute_points(api):
    reply = api.read(f"api/1/energy_sites/{SITE_ID}/history", kind="power", period="day",
                     end_date="2021-02-28T07:59:59.999Z", timezone="America/Los_Angeles")
    points = reply["time_series"]
    assert len(points) == 96
    assert set(points[0]) == {"timestamp", "solar_power", "battery_power", "grid_power",
                              "grid_services_power", "generator_power"}
    stamps = [datetime.fromisoformat(p["timestamp"]) for p in points]
    assert all((b - a).total_seconds() == 900 for a, b in zip(stamps, stamps[1:]))
    assert max(p["solar_power"] for p in points) > 0 and points[0]["solar_power"] == 0


@pytest.mark.parametrize("params", [
    {"kind": "weather", "period": "day"},
    {"kind": "energy", "period": "decade"},
    {"kind": "energy"},
    {"period": "day"},
    {"kind": "energy", "period": "day", "end_date": "yesterday"},
    {"kind": "energy", "period": "day", "timezone": "Mars/Olympus"},
    {"kind": "energy", "period": "day", "start_date": "2021-03-01T00:00:00Z",
     "end_date": "2021-02-01T00:00:00Z"},
])
def test_bad_history_parameters_answer_400(api, params):
    _assert_error(api.get(f"api/1/energy_sites/{SITE_ID}/history", **params), 400)


def test_lifetime_is_only_a_calendar_history_period(api):
    _assert_error(api.get(f"api/1/energy_sites/{SITE_ID}/history", kind="energy",
                          period="lifetime"), 400)
    assert api.read(f"api/1/energy_sites/{SITE_ID}/calendar_history", kind="energy",
                    period="lifetime")["time_series"]
