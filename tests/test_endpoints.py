"""The packaged endpoint table and how names, methods and path variables are resolved."""
from __future__ import annotations

import json
import string
from importlib import resources

import pytest

import teslapy
from teslapy import endpoints

# A sample of rows of the 2021 endpoint table, as users call them.
KNOWN = {
    "STATUS": ("GET", "status", False),
    "AUTHENTICATE": ("POST", "oauth/token", False),
    "VEHICLE_LIST": ("GET", "api/1/vehicles", True),
    "VEHICLE_DATA": ("GET", "api/1/vehicles/{vehicle_id}/vehicle_data", True),
    "WAKE_UP": ("POST", "api/1/vehicles/{vehicle_id}/wake_up", True),
    "ACTUATE_TRUNK": ("POST", "api/1/vehicles/{vehicle_id}/command/actuate_trunk", True),
    "MEDIA_PREVIOUS_TRACK": ("POST", "api/1/vehicles/{vehicle_id}/command/media_prev_track", True),
    "DEACTIVATE_DEVICE_TOKEN": ("POST", "api/1/device/{device_token}/deactivate", True),
    "BATTERY_DATA": ("GET", "api/1/powerwalls/{battery_id}", True),
    "SITE_CONFIG": ("GET", "api/1/energy_sites/{site_id}/site_info", True),
    "REMOTE_STEERING_WHEEL_HEATER_REQUEST":
        ("POST", "api/1/vehicles/{vehicle_id}/command/remote_steering_wheel_heater_request", True),
    "MOBILE_ENABLED": ("GET", "api/1/vehicles/{vehicle_id}/mobile_enabled", True),
    # later additions under api/1/
    "SET_CLIMATE_KEEPER_MODE": ("POST", "api/1/vehicles/{vehicle_id}/command/set_climate_keeper_mode", True),
    "SCHEDULED_CHARGING": ("POST", "api/1/vehicles/{vehicle_id}/command/set_scheduled_charging", True),
    "SET_VEHICLE_SHARED_DRIVER_LOCATION_ACCESS": ("PATCH", "api/1/vehicles/{vehicle_id}/drivers/{driver_id}", True),
    "REMOVE_ENERGY_SITE_SHARE_USER": ("DELETE", "api/1/energy_sites/{site_id}/users/{user_id}", True),
    "USER_INFO": ("GET", "api/1/users/me", True),
    "HERMES_VEHICLE_AUTHORIZATION": ("POST", "api/1/vehicles/{id}/jwt/hermes", True),
}
HTML_PAGES = ("POWERWALL_ORDER_PAGE", "ONBOARDING_EXPERIENCE_PAGE", "SERVICE_SELF_SCHEDULING_PAGE",
              "REFERRAL_PAGE", "ROADSIDE_ASSISTANCE_PAGE", "UPGRADES_PAGE",
              "MESSAGE_CENTER_CTA_PAGE", "ENERGY_SERVICE_SCHEDULING_PAGE")


def test_the_table_ships_inside_the_package_as_json():
    text = resources.files("teslapy").joinpath("endpoints.json").read_text("utf-8")
    table = json.loads(text)
    # 99 names of the 2021 table, MOBILE_ENABLED, and 89 later api/1 endpoints
    assert len(table) == 189
    for name, entry in table.items():
        assert name == name.upper() and " " not in name
        assert entry["TYPE"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}, name
        assert isinstance(entry["AUTH"], bool), name
        assert not entry["URI"].startswith("/"), name
        assert set(entry) <= {"TYPE", "URI", "AUTH", "CONTENT"}, name
        # every placeholder is a plain name
        for _, field, spec, conv in string.Formatter().parse(entry["URI"]):
            assert field is None or (field.isidentifier() and not spec and not conv), name


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_endpoints_have_tesla_method_uri_and_auth(name):
    method, uri, auth = KNOWN[name]
    assert endpoints.get_endpoint(name) == endpoints.Endpoint(method, uri, auth, "JSON")


def test_html_pages_are_marked_as_not_json():
    for name in HTML_PAGES:
        endpoint = endpoints.get_endpoint(name)
        assert endpoint.content == "HTML" and not endpoint.is_json
    assert sum(1 for e in endpoints.all_endpoints().values() if not e.is_json) == len(HTML_PAGES)


def test_only_status_and_authenticate_work_without_a_token():
    open_names = {name for name, e in endpoints.all_endpoints().items() if not e.auth}
    assert open_names == {"STATUS", "AUTHENTICATE"}


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="^Unknown endpoint name NO_SUCH_THING$"):
        endpoints.get_endpoint("NO_SUCH_THING")


def test_path_variables_are_filled_and_extras_ignored():
    uri = endpoints.format_uri("VEHICLE_DATA", {"vehicle_id": 12345678901234567, "other": 1})
    assert uri == "api/1/vehicles/12345678901234567/vehicle_data"
    assert endpoints.format_uri("VEHICLE_LIST") == "api/1/vehicles"
    assert endpoints.get_endpoint("SET_VEHICLE_SHARED_DRIVER_LOCATION_ACCESS").path_variables() \
        == ["vehicle_id", "driver_id"]


def test_missing_path_variable_names_the_endpoint_and_the_variable():
    with pytest.raises(ValueError, match="^VEHICLE_DATA requires path variable vehicle_id$"):
        endpoints.format_uri("VEHICLE_DATA", {})
    with pytest.raises(ValueError, match="^SITE_CONFIG requires path variable site_id$"):
        endpoints.format_uri("SITE_CONFIG", {"vehicle_id": 1})


def test_api_rejects_bad_names_and_non_json_endpoints_before_any_request(tmp_path):
    # The hosts are unreachable ports: any request would fail with a ConnectionError.
    with teslapy.Tesla("elon@tesla.com", "starship", cache_file=str(tmp_path / "c.json"),
                       sso_base_url="http://127.0.0.1:9/", api_base_url="http://127.0.0.1:9/") as tesla:
        with pytest.raises(ValueError, match="^Unknown endpoint name VEHICLE_DATUM$"):
            tesla.api("VEHICLE_DATUM")
        with pytest.raises(ValueError, match="^WAKE_UP requires path variable vehicle_id$"):
            tesla.api("WAKE_UP")
        with pytest.raises(NotImplementedError, match="^Endpoint STATUS not implemented$"):
            tesla.api("STATUS")
        with pytest.raises(NotImplementedError, match="^Endpoint REFERRAL_PAGE not implemented$"):
            tesla.api("REFERRAL_PAGE")
        assert not (tmp_path / "c.json").exists()


# -- path variables stay in their segment -------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402


@pytest.mark.parametrize("value", ["123#command", "1?command=door_unlock", "%2F..", "%2e%2e",
                                   "a b", "ü", "\\"])
def test_a_path_variable_is_one_segment_whatever_it_holds(value):
    uri = endpoints.format_uri("VEHICLE_DATA", {"vehicle_id": value})
    segments = uri.split("/")
    assert segments[:3] == ["api", "1", "vehicles"] and segments[4:] == ["vehicle_data"]
    assert "?" not in uri and "#" not in uri
    from urllib.parse import unquote
    assert unquote(segments[3]) == value


@pytest.mark.parametrize("value", ["", ".", "..", "../../x", "123/command/door_unlock#",
                                   "1/command/door_unlock?", "/"])
def test_path_variables_that_would_move_the_path_are_refused(value):
    with pytest.raises(ValueError, match="VEHICLE_DATA path variable vehicle_id cannot"):
        endpoints.format_uri("VEHICLE_DATA", {"vehicle_id": value})


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False)))
def test_no_value_ever_leaves_its_segment(value):
    try:
        uri = endpoints.format_uri("REMOVE_ENERGY_SITE_SHARE_USER", {"site_id": value, "user_id": 7})
    except ValueError:
        assert str(value) in ("", ".", "..") or "/" in str(value)
        return
    segments = uri.split("/")
    assert len(segments) == 6 and segments[3] not in ("", ".", "..") and segments[4:] == ["users", "7"]
    assert not set("?#") & set(uri)


def test_a_hostile_vehicle_id_reaches_only_its_own_endpoint(tesla, sim, world):
    car = tesla.vehicle_list()[0]
    car.command("LOCK")
    unlock = sim.faults.add(service="api", path="/command/door_unlock$", status=None, times=None)
    with pytest.raises(ValueError, match="cannot hold a '/'"):
        tesla.api("VEHICLE_DATA", {"vehicle_id": f"{car['id_s']}/command/door_unlock#"})
    with pytest.raises(teslapy.HTTPError, match="404"):
        tesla.api("VEHICLE_DATA", {"vehicle_id": f"{car['id_s']}%2Fcommand%2Fdoor_unlock#"})
    assert unlock.hits == 0 and world.vehicles[0].data["vehicle_state"]["locked"] is True
