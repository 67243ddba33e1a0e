"""The simulated Owner API over a real socket: tokens, bearer checks, reads and commands."""
from __future__ import annotations

import base64
import json
import hashlib
import re
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import pytest
import requests

OWNER_CLIENT_ID = "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
UNAVAILABLE = 'vehicle unavailable: {:error=>"vehicle unavailable:"}'
TIM = "12345678901234567"          # Model 3, online, charging, not driving
NIKOLA = "23456789012345678"       # Model S, asleep
ROAD_RUNNER = "34567890123456789"  # Model Y, driving


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.form = {}

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            attrs = dict(attrs)
            self.form[attrs["name"]] = attrs.get("value") or ""


def sso_access_token(sim, email="elon@tesla.com") -> str:
    """Sign in at the SSO as a client does and return the SSO access token."""
    session = requests.Session()
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    page = session.get(sim.urls["sso_base_url"] + "oauth2/v3/authorize", params={
        "response_type": "code", "client_id": "ownerapi",
        "redirect_uri": "https://auth.tesla.com/void/callback", "state": "abc",
        "scope": "openid email offline_access", "code_challenge": challenge,
        "code_challenge_method": "S256", "login_hint": email})
    base = page.url.split("oauth2/")[0]
    parser = _Inputs()
    parser.feed(page.text)
    form = dict(parser.form, identity=email, credential="starship")
    done = session.post(base + "oauth2/v3/authorize", data=form, allow_redirects=False)
    code = parse_qs(urlparse(done.headers["Location"]).query)["code"][0]
    token = requests.post(base + "oauth2/v3/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": "ownerapi",
        "redirect_uri": "https://auth.tesla.com/void/callback", "code_verifier": verifier})
    return token.json()["access_token"]


class Api:
    """Plain requests against the Owner API with one bearer."""

    def __init__(self, sim, token: str | None) -> None:
        self.base = sim.urls["api_base_url"]
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **kwargs):
        return requests.get(self.base + path, headers=self.headers, **kwargs)

    def post(self, path, **kwargs):
        return requests.post(self.base + path, headers=self.headers, **kwargs)

    def command(self, vehicle_id, name, **params):
        reply = self.post(f"api/1/vehicles/{vehicle_id}/command/{name}", json=params)
        assert reply.status_code == 200, reply.text
        response = reply.json()["response"]
        return response["result"], response["reason"]

    def data(self, vehicle_id):
        reply = self.get(f"api/1/vehicles/{vehicle_id}/vehicle_data")
        assert reply.status_code == 200, reply.text
        return reply.json()["response"]


@pytest.fixture
def api(sim, world):
    return Api(sim, world.issue_bearer("elon@tesla.com", "owner", 3600, prefix="qts-"))


# -- tokens and bearers -------------------------------------------------------------------

def test_status_is_plain_ok_without_auth(sim):
    reply = requests.get(sim.urls["api_base_url"] + "status")
    assert reply.status_code == 200 and reply.text == "ok"
    assert reply.headers["content-type"].startswith("text/plain")


def test_jwt_bearer_exchange_gives_an_owner_token(sim, world):
    access = sso_access_token(sim)
    reply = requests.post(sim.urls["api_base_url"] + "oauth/token",
                          headers={"Authorization": f"Bearer {access}"},
                          data={"grant_type": JWT_GRANT, "client_id": OWNER_CLIENT_ID})
    assert reply.status_code == 200
    token = reply.json()
    assert re.fullmatch(r"qts-[0-9a-f]{64}", token["access_token"])
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == world.settings.owner_token_lifetime
    assert abs(token["created_at"] - world.clock.now()) < 60
    assert Api(sim, token["access_token"]).get("api/1/vehicles").json()["count"] == 3
    # the SSO access token is accepted directly as well
    assert Api(sim, access).get("api/1/vehicles").status_code == 200


def test_exchange_as_json_and_for_a_cn_account(sim):
    access = sso_access_token(sim, "cn@tesla.cn")
    reply = requests.post(sim.urls["api_base_url"] + "oauth/token",
                          headers={"Authorization": f"Bearer {access}"},
                          json={"grant_type": JWT_GRANT, "client_id": OWNER_CLIENT_ID,
                                "client_secret": "c7257eb71a564034f9419ee651c7d0e5f7aa6bfbd18bafb5c5c033b093bb2fa3"})
    assert reply.status_code == 200
    assert re.fullmatch(r"cn-[0-9a-f]{64}", reply.json()["access_token"])


def test_exchange_refusals(sim, world):
    url = sim.urls["api_base_url"] + "oauth/token"
    old = requests.post(url, data={"grant_type": "password", "email": "elon@tesla.com",
                                   "password": "starship"})
    assert old.status_code == 400
    assert old.json()["error"] == "endpoint_deprecated:_please_update_your_app"
    access = sso_access_token(sim)
    wrong_client = requests.post(url, headers={"Authorization": f"Bearer {access}"},
                                 data={"grant_type": JWT_GRANT, "client_id": "nope"})
    assert wrong_client.status_code == 401
    owner = world.issue_bearer("elon@tesla.com", "owner", 60, prefix="qts-")
    not_sso = requests.post(url, headers={"Authorization": f"Bearer {owner}"},
                            data={"grant_type": JWT_GRANT, "client_id": OWNER_CLIENT_ID})
    assert not_sso.status_code == 401
    garbage = requests.post(url, data=b"[1, 2", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400
    assert set(garbage.json()) == {"response", "error", "error_description"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic abc"}])
def test_missing_or_unknown_bearer_is_401(sim, headers):
    reply = requests.get(sim.urls["api_base_url"] + "api/1/products", headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {"response": None, "error": "invalid bearer token",
                            "error_description": ""}
    assert reply.headers["WWW-Authenticate"].startswith('Bearer realm="Doorkeeper"')


def test_expired_and_revoked_bearers_are_401(sim, world, api):
    assert api.get("api/1/vehicles").status_code == 200
    world.clock.advance(3601)
    assert api.get("api/1/vehicles").status_code == 401
    fresh = Api(sim, world.issue_bearer("elon@tesla.com", "owner", 3600, prefix="qts-"))
    assert fresh.post("oauth/revoke", json={}).json() == {"response": True}
    reply = fresh.get("api/1/vehicles")
    assert reply.status_code == 401 and "revoked" in reply.headers["WWW-Authenticate"]


def test_unknown_route_answers_the_error_envelope(api):
    for reply in (api.get("api/1/vehicles/1/no_such_thing"), api.post("api/2/anything"),
                  api.get("nothing/here")):
        assert reply.status_code == 404
        assert reply.json() == {"response": None, "error": "not_found", "error_description": ""}


def test_unknown_vehicle_is_404(api):
    reply = api.get("api/1/vehicles/999/vehicle_data")
    assert reply.status_code == 404 and reply.json()["error"] == "not_found"


# -- reads ----------------------------------------------------------------------------

def test_vehicle_list_and_summary(api):
    listing = api.get("api/1/vehicles").json()
    assert listing["count"] == 3
    names = {car["display_name"]: car for car in listing["response"]}
    assert names["Nikola"]["state"] == "asleep"
    assert set(names["Tim's Tesla"]) == {
        "id", "vehicle_id", "vin", "display_name", "option_codes", "color", "tokens",
        "state", "in_service", "id_s", "calendar_enabled", "api_version",
        "backseat_token", "backseat_token_updated_at"}
    summary = api.get(f"api/1/vehicles/{NIKOLA}").json()["response"]
    assert summary["vin"] == "5YJSA1E2XHF123456" and summary["state"] == "asleep"


def test_other_accounts_cars_are_not_found(sim, world):
    mfa = Api(sim, world.issue_bearer("mfa@tesla.com", "owner", 3600))
    assert mfa.get("api/1/vehicles").json()["count"] == 1
    assert mfa.get(f"api/1/vehicles/{TIM}").status_code == 404


def test_vehicle_data_and_groups(api, world):
    data = api.data(TIM)
    assert data["display_name"] == "Tim's Tesla" and data["user_id"] == 123456
    for group in ("charge_state", "climate_state", "drive_state", "gui_settings",
                  "vehicle_config", "vehicle_state"):
        assert abs(data[group]["timestamp"] / 1000 - world.clock.now()) < 60
    world.clock.advance(120)
    later = api.data(TIM)
    assert later["charge_state"]["timestamp"] >= data["charge_state"]["timestamp"] + 120000
    legacy = api.get(f"api/1/vehicles/{TIM}/data").json()["response"]
    assert legacy["vin"] == data["vin"]
    group = api.get(f"api/1/vehicles/{TIM}/data_request/charge_state").json()["response"]
    assert group["charging_state"] == "Charging"
    assert api.get(f"api/1/vehicles/{TIM}/data_request/nope").status_code == 404


def test_asleep_car_answers_408_until_woken(api, world):
    for path in ("vehicle_data", "data", "data_request/climate_state", "mobile_enabled",
                 "nearby_charging_sites", "service_data"):
        reply = api.get(f"api/1/vehicles/{NIKOLA}/{path}")
        assert reply.status_code == 408
        assert reply.json() == {"response": None, "error": UNAVAILABLE, "error_description": ""}
    reply = api.post(f"api/1/vehicles/{NIKOLA}/command/door_unlock", json={})
    assert reply.status_code == 408
    woken = api.post(f"api/1/vehicles/{NIKOLA}/wake_up").json()["response"]
    assert woken["state"] == "asleep"            # waking takes the car's wake_delay
    world.clock.advance(world.vehicles[1].wake_delay + 1)
    assert api.get(f"api/1/vehicles/{NIKOLA}").json()["response"]["state"] == "online"
    assert api.data(NIKOLA)["gui_settings"]["gui_temperature_units"] == "F"


def test_polling_keeps_a_car_awake_and_idle_cars_sleep(api, world):
    idle = world.settings.vehicle_idle_sleep
    assert api.command(TIM, "charge_stop") == (True, "")     # a charging car stays awake
    world.clock.advance(idle * 0.8)
    api.data(TIM)
    world.clock.advance(idle * 0.8)
    assert api.get(f"api/1/vehicles/{TIM}").json()["response"]["state"] == "online"
    world.clock.advance(idle * 0.4)
    assert api.get(f"api/1/vehicles/{TIM}").json()["response"]["state"] == "asleep"


def test_offline_car_does_not_wake(api, world):
    world.vehicles[1].data["state"] = "offline"
    api.post(f"api/1/vehicles/{NIKOLA}/wake_up")
    world.clock.advance(600)
    assert api.get(f"api/1/vehicles/{NIKOLA}").json()["response"]["state"] == "offline"
    assert api.get(f"api/1/vehicles/{NIKOLA}/vehicle_data").status_code == 408


def test_products_mix_cars_and_energy_sites(api):
    listing = api.get("api/1/products").json()
    assert listing["count"] == len(listing["response"]) == 5
    battery = next(p for p in listing["response"] if p.get("resource_type") == "battery")
    solar = next(p for p in listing["response"] if p.get("resource_type") == "solar")
    assert list(battery)[:14] == [
        "energy_site_id", "resource_type", "site_name", "id", "gateway_id", "asset_site_id",
        "energy_left", "total_pack_energy", "percentage_charged", "battery_type",
        "backup_capable", "battery_power", "sync_grid_alert_enabled", "breaker_alert_enabled"]
    assert set(battery["components"]) == {"battery", "solar", "solar_type", "grid",
                                          "load_meter", "market_type"}
    assert battery["id"] == "STE10110111-00101"
    assert solar["components"]["battery"] is False and solar["energy_site_id"]
    cars = [p for p in listing["response"] if "vin" in p]
    assert len(cars) == 3 and all("resource_type" not in car for car in cars)


def test_mobile_enabled_nearby_sites_and_service(api):
    assert api.get(f"api/1/vehicles/{TIM}/mobile_enabled").json() == {"response": True}
    sites = api.get(f"api/1/vehicles/{TIM}/nearby_charging_sites").json()["response"]
    assert sites["superchargers"] and sites["destination_charging"]
    charger = sites["superchargers"][0]
    assert charger["type"] == "supercharger"
    assert 0 <= charger["available_stalls"] <= charger["total_stalls"]
    distances = [s["distance_miles"] for s in sites["superchargers"]]
    assert distances == sorted(distances) and distances[0] < 10
    assert api.get(f"api/1/vehicles/{TIM}/service_data").json()["response"] == {
        "service_status": "not_in_service"}
    vins = api.get("api/1/users/service_scheduling_data").json()["response"]["enabled_vins"]
    assert {v["vin"] for v in vins} == {"5YJ3E111111111111", "5YJSA1E2XHF123456",
                                        "LRWYGCEK8MC000002"}
    assert sum(1 for v in vins if v["next_appt_timestamp"]) == 1


# -- commands -------------------------------------------------------------------------

def test_lock_unlock_and_climate(api):
    assert api.command(TIM, "door_lock") == (True, "")
    assert api.data(TIM)["vehicle_state"]["locked"] is True
    assert api.command(TIM, "door_unlock") == (True, "")
    assert api.data(TIM)["vehicle_state"]["locked"] is False
    assert api.command(TIM, "auto_conditioning_stop") == (True, "")
    climate = api.data(TIM)["climate_state"]
    assert climate["is_climate_on"] is False and climate["is_auto_conditioning_on"] is False
    assert api.command(TIM, "set_preconditioning_max", on=True) == (True, "")
    climate = api.data(TIM)["climate_state"]
    assert climate["is_front_defroster_on"] and climate["is_climate_on"]
    assert api.command(TIM, "honk_horn") == (True, "")
    assert api.command(TIM, "flash_lights") == (True, "")


def test_temperatures_within_the_cars_range(api):
    assert api.command(TIM, "set_temps", driver_temp=22.5, passenger_temp=20) == (True, "")
    climate = api.data(TIM)["climate_state"]
    assert (climate["driver_temp_setting"], climate["passenger_temp_setting"]) == (22.5, 20)
    assert api.command(TIM, "set_temps", driver_temp=35, passenger_temp=20) == (
        False, "out_of_range")


def test_charge_limit(api):
    assert api.command(TIM, "set_charge_limit", percent=80) == (True, "")
    assert api.data(TIM)["charge_state"]["charge_limit_soc"] == 80
    assert api.command(TIM, "set_charge_limit", percent=80) == (False, "already_set")
    assert api.command(TIM, "set_charge_limit", percent=49) == (False, "out_of_range")
    assert api.command(TIM, "set_charge_limit", percent=101) == (False, "out_of_range")
    assert api.command(TIM, "charge_max_range") == (True, "")
    assert api.data(TIM)["charge_state"]["charge_limit_soc"] == 100
    assert api.command(TIM, "charge_max_range") == (False, "already_max_range")
    assert api.command(TIM, "charge_standard") == (True, "")
    assert api.data(TIM)["charge_state"]["charge_limit_soc"] == 90
    assert api.command(TIM, "charge_standard") == (False, "already_standard")
    reply = api.post(f"api/1/vehicles/{TIM}/command/set_charge_limit", json={"percent": "lots"})
    assert reply.status_code == 400 and "percent" in reply.json()["error"]


def test_charging_start_and_stop(api, world):
    assert api.command(TIM, "charge_start") == (False, "is_charging")
    assert api.command(TIM, "charge_stop") == (True, "")
    assert api.data(TIM)["charge_state"]["charging_state"] == "Stopped"
    assert api.command(TIM, "charge_stop") == (False, "not_charging")
    assert api.command(TIM, "charge_start") == (True, "")
    assert api.data(TIM)["charge_state"]["charging_state"] == "Charging"
    world.vehicles[0].data["charge_state"]["charging_state"] = "Disconnected"
    assert api.command(TIM, "charge_start") == (False, "disconnected")
    world.vehicles[0].data["charge_state"].update(charging_state="Stopped", battery_level=95)
    assert api.command(TIM, "charge_start") == (False, "complete")


def test_charge_port_trunks_sunroof(api, world):
    assert api.command(TIM, "charge_port_door_close") == (True, "")
    assert api.data(TIM)["charge_state"]["charge_port_door_open"] is False
    assert api.command(TIM, "charge_port_door_open") == (True, "")
    assert api.data(TIM)["charge_state"]["charge_port_door_open"] is True
    assert api.command(TIM, "actuate_trunk", which_trunk="rear") == (True, "")
    assert api.data(TIM)["vehicle_state"]["rt"] == 1
    assert api.command(TIM, "actuate_trunk", which_trunk="rear") == (True, "")
    assert api.data(TIM)["vehicle_state"]["rt"] == 0
    assert api.command(TIM, "actuate_trunk", which_trunk="front") == (True, "")
    assert api.data(TIM)["vehicle_state"]["ft"] == 1
    assert api.command(TIM, "actuate_trunk", which_trunk="side") == (False, "invalid_trunk")
    assert api.command(TIM, "sun_roof_control", state="vent") == (False, "no_sunroof")
    api.post(f"api/1/vehicles/{NIKOLA}/wake_up")
    world.clock.advance(30)
    assert api.command(NIKOLA, "sun_roof_control", state="vent") == (True, "")
    assert api.data(NIKOLA)["vehicle_state"]["sun_roof_state"] == "vent"
    assert api.command(NIKOLA, "sun_roof_control", state="close") == (True, "")
    assert api.data(NIKOLA)["vehicle_state"]["sun_roof_percent_open"] == 0


def test_windows_close_only_near_the_car(api):
    assert api.command(TIM, "window_control", command="vent", lat=0, lon=0) == (True, "")
    assert api.data(TIM)["vehicle_state"]["fd_window"] != 0
    assert api.command(TIM, "window_control", command="close", lat=0, lon=0) == (
        False, "too_far_from_car")
    near = {"lat": 52.5321, "lon": 6.1572}
    assert api.command(TIM, "window_control", command="close", **near) == (True, "")
    assert api.data(TIM)["vehicle_state"]["rp_window"] == 0
    assert api.command(TIM, "trigger_homelink", **near) == (True, "")
    assert api.command(TIM, "trigger_homelink", lat=40.0, lon=-74.0) == (False, "too_far_from_car")


def test_remote_start_checks_the_account_password(api):
    assert api.command(TIM, "remote_start_drive", password="wrong") == (
        False, "incorrect_password")
    assert api.command(TIM, "remote_start_drive", password="starship") == (True, "")
    assert api.data(TIM)["vehicle_state"]["remote_start"] is True


def test_media_needs_someone_in_the_car(api, world):
    for name in ("media_toggle_playback", "media_next_track", "media_prev_track",
                 "media_next_fav", "media_prev_fav", "media_volume_up", "media_volume_down"):
        assert api.command(TIM, name) == (True, "")
    world.vehicles[0].data["vehicle_state"]["is_user_present"] = False
    assert api.command(TIM, "media_next_track") == (False, "user_not_present")


def test_valet_mode_and_pin(api):
    assert api.command(TIM, "set_valet_mode", on=True, password="12") == (False, "invalid_pin")
    assert api.command(TIM, "set_valet_mode", on=True, password="1234") == (True, "")
    state = api.data(TIM)["vehicle_state"]
    assert state["valet_mode"] is True and state["valet_pin_needed"] is False
    assert "1234" not in state.values()        # the PIN itself is never served
    assert api.command(TIM, "reset_valet_pin") == (False, "valet_mode_active")
    assert api.command(TIM, "set_valet_mode", on=False, password="9999") == (False, "incorrect_pin")
    assert api.command(TIM, "set_valet_mode", on=False, password="1234") == (True, "")
    assert api.command(TIM, "reset_valet_pin") == (True, "")
    assert api.data(TIM)["vehicle_state"]["valet_pin_needed"] is True


def test_speed_limit_mode(api):
    assert api.command(TIM, "speed_limit_set_limit", limit_mph=49) == (False, "out_of_range")
    assert api.command(TIM, "speed_limit_set_limit", limit_mph=91) == (False, "out_of_range")
    assert api.command(TIM, "speed_limit_set_limit", limit_mph=65) == (True, "")
    assert api.command(TIM, "speed_limit_deactivate", pin="1234") == (False, "pin_not_set")
    assert api.command(TIM, "speed_limit_activate", pin="12a4") == (False, "invalid_pin")
    assert api.command(TIM, "speed_limit_clear_pin", pin="1234") == (False, "pin_not_set")
    assert api.command(TIM, "speed_limit_activate", pin="4321") == (True, "")
    assert api.command(TIM, "speed_limit_activate", pin="1111") == (False, "incorrect_pin")
    mode = api.data(TIM)["vehicle_state"]["speed_limit_mode"]
    assert mode == {"active": True, "current_limit_mph": 65.0, "max_limit_mph": 90,
                    "min_limit_mph": 50, "pin_code_set": True}
    assert api.command(TIM, "speed_limit_deactivate", pin="0000") == (False, "incorrect_pin")
    assert api.command(TIM, "speed_limit_deactivate", pin="4321") == (True, "")
    assert api.data(TIM)["vehicle_state"]["speed_limit_mode"]["active"] is False
    assert api.command(TIM, "speed_limit_clear_pin", pin="43") == (False, "invalid_pin")
    assert api.command(TIM, "speed_limit_clear_pin", pin="1234") == (False, "incorrect_pin")
    assert api.command(TIM, "speed_limit_clear_pin", pin="4321") == (True, "")
    assert api.data(TIM)["vehicle_state"]["speed_limit_mode"]["pin_code_set"] is False
    assert api.command(TIM, "speed_limit_activate", pin="1111") == (True, "")   # a new PIN


def test_software_update_sentry_heaters_calendar(api):
    assert api.command(TIM, "cancel_software_update") == (False, "no_update_scheduled")
    assert api.command(TIM, "schedule_software_update", offset_sec=3600) == (True, "")
    assert api.data(TIM)["vehicle_state"]["software_update"]["status"] == "scheduled"
    assert api.command(TIM, "cancel_software_update") == (True, "")
    assert api.command(TIM, "set_sentry_mode", on=True) == (True, "")
    assert api.data(TIM)["vehicle_state"]["sentry_mode"] is True
    assert api.command(TIM, "remote_seat_heater_request", heater=1, level=3) == (True, "")
    assert api.data(TIM)["climate_state"]["seat_heater_right"] == 3
    assert api.command(TIM, "remote_seat_heater_request", heater=6, level=1) == (
        False, "invalid_heater")
    assert api.command(TIM, "remote_seat_heater_request", heater=0, level=4) == (
        False, "invalid_level")
    assert api.command(TIM, "remote_steering_wheel_heater_request", on=True) == (True, "")
    assert api.data(TIM)["climate_state"]["steering_wheel_heater"] is True
    assert api.command(TIM, "upcoming_calendar_entries", calendar_data={}) == (True, "")


@pytest.mark.parametrize("body, content_type", [
    (b"{broken", "application/json"), (b"[1]", "application/json"),
    (b"\xff\xfe", "application/json"), (b"on=maybe", "application/x-www-form-urlencoded"),
])
def test_bad_command_bodies_are_400_envelopes(api, body, content_type):
    reply = requests.post(api.base + f"api/1/vehicles/{TIM}/command/set_sentry_mode",
                          data=body, headers={**api.headers, "Content-Type": content_type})
    assert reply.status_code == 400
    assert set(reply.json()) == {"response", "error", "error_description"}


def test_missing_parameters_are_400(api):
    for name in ("set_charge_limit", "set_temps", "actuate_trunk", "remote_seat_heater_request",
                 "speed_limit_set_limit", "set_sentry_mode"):
        reply = api.post(f"api/1/vehicles/{TIM}/command/{name}", json={})
        assert reply.status_code == 400, name
        assert reply.json()["error"].startswith("invalid_request")


def test_in_service_car_refuses_commands(api, world):
    world.vehicles[0].data["in_service"] = True
    reply = api.post(f"api/1/vehicles/{TIM}/command/door_lock", json={})
    assert reply.status_code == 405
    assert reply.json()["error"] == "vehicle is currently in service"


def test_later_commands_amps_keeper_name_schedule(api, world):
    assert api.command(TIM, "set_charging_amps", charging_amps=10) == (True, "")
    assert api.data(TIM)["charge_state"]["charge_current_request"] == 10
    assert api.command(TIM, "set_charging_amps", charging_amps=99) == (False, "out_of_range")
    assert api.command(TIM, "set_climate_keeper_mode", climate_keeper_mode=2) == (True, "")
    assert api.data(TIM)["climate_state"]["climate_keeper_mode"] == "dog"
    assert api.command(TIM, "set_vehicle_name", vehicle_name="Bolt") == (True, "")
    assert api.get(f"api/1/vehicles/{TIM}").json()["response"]["display_name"] == "Bolt"
    assert api.command(TIM, "set_scheduled_charging", enable=True, time=120) == (True, "")
    charge = api.data(TIM)["charge_state"]
    assert charge["scheduled_charging_pending"] is True
    assert 0 < charge["scheduled_charging_start_time"] - world.clock.now() <= 86400
    assert api.command(TIM, "share", value={"android.intent.extra.TEXT": "Home"},
                       locale="en-US", timestamp_ms=1) == (True, "")


GARBAGE = [
    (b"{broken", "application/json"),
    (b"[" * 3000 + b"]" * 3000, "application/json"),
    (json.dumps({"percent": 10 ** 400, "on": [], "pin": {}, "lat": "NaN", "lon": None,
                 "which_trunk": 5, "vehicle_name": 7, "password": 12, "heater": 1.5,
                 "value": 3, "token": [], "grant_type": {}}).encode(), "application/json"),
    (b"\xff=\xfe&percent=%zz", "application/x-www-form-urlencoded"),
]


def test_no_route_answers_garbage_with_a_server_error(api):
    from teslasim.routes import owner_api

    for route in owner_api.ROUTES:
        path = route.path.replace("{vehicle_id}", TIM).replace("{group}", "charge_state")
        for method in route.methods - {"HEAD"}:
            for body, content_type in GARBAGE:
                reply = requests.request(method, api.base + path.lstrip("/"), data=body,
                                         headers={**api.headers, "Content-Type": content_type})
                assert reply.status_code < 500, (method, path, body[:30], reply.text)
                if reply.status_code >= 400:
                    assert set(reply.json()) == {"response", "error", "error_description"}
