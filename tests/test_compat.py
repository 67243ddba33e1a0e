"""TeslaPy 1.5 scripts run unchanged: its public surface, name by name, and its README's examples.

The surface below is written from the original README and the behaviour it describes
(every constructor argument, method and attribute a script may use), checked with
``inspect`` against teslapy. The examples are the original README's, written out as
tests and run against the simulator's 2021 rules, where the password sign-in works.
"""
from __future__ import annotations

import inspect
import json
import logging
import time

import pytest
import requests.exceptions

import teslapy
from teslasim import totp

PASSWORD = "starship"

#: Tesla's constructor, as TeslaPy 1.5 takes it: positional names in this order.
TESLA_ARGUMENTS = ["email", "password", "passcode_getter", "factor_selector", "captcha_solver",
                   "verify", "proxy", "retry", "user_agent", "cache_file", "cache_loader",
                   "cache_dumper"]
TESLA_DEFAULTS = {"verify": True, "proxy": None, "retry": 0, "cache_file": "cache.json",
                  "cache_loader": None, "cache_dumper": None}
#: name -> the parameters a TeslaPy 1.5 script passes, in order (with defaults where it had them).
METHODS = {
    teslapy.Tesla: {"fetch_token": [], "refresh_token": [], "vehicle_list": [],
                    "battery_list": [], "api": ["name", "path_vars"], "request": ["method", "url"],
                    "get": ["url"], "post": ["url"], "close": []},
    teslapy.Vehicle: {"api": ["name"], "get_vehicle_summary": [], "sync_wake_up": [],
                      "option_code_list": [], "get_vehicle_data": [],
                      "get_nearby_charging_sites": [], "get_service_scheduling_data": [],
                      "mobile_enabled": [], "compose_image": [], "dist_units": ["miles"],
                      "temp_units": ["celcius"], "decode_vin": [], "remote_start_drive": [],
                      "command": ["name"], "stream": ["callback", "retry", "indefinitely"]},
    teslapy.Product: {"api": ["name"], "get_history_data": [], "get_calendar_history_data": [],
                      "command": ["name"]},
    teslapy.Battery: {"get_battery_data": [], "set_operation": ["mode"],
                      "set_backup_reserve_percent": ["percent"]},
    teslapy.SolarPanel: {"get_site_data": []},
}
HISTORY_ARGUMENTS = {"kind": "savings", "period": "day", "start_date": None, "end_date": None,
                     "installation_timezone": None, "timezone": None, "tariff": None}


def test_the_package_names_of_teslapy_1_5():
    for name in ("Tesla", "Vehicle", "Product", "Battery", "SolarPanel", "VehicleError",
                 "ProductError", "BASE_URL", "SSO_BASE_URL", "STREAMING_BASE_URL", "CLIENT_ID",
                 "SSO_CLIENT_ID", "HTMLForm", "PasswdFilter"):
        assert name in teslapy.__all__ and hasattr(teslapy, name), name
    assert teslapy.BASE_URL == "https://owner-api.teslamotors.com/"
    assert teslapy.SSO_BASE_URL == "https://auth.tesla.com/"
    assert teslapy.STREAMING_BASE_URL == "wss://streaming.vn.teslamotors.com/streaming/"
    assert teslapy.SSO_CLIENT_ID == "ownerapi" and len(teslapy.CLIENT_ID) == 64
    import oauthlib.oauth2.rfc6749.errors as oauth_errors

    for module in (requests.exceptions, oauth_errors):
        for name, value in vars(module).items():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and not name.startswith("_") and name != "CompatJSONDecodeError"):
                assert getattr(teslapy, name) is value and name in teslapy.__all__, name


def test_the_constructor_takes_teslapy_1_5_arguments_in_order():
    parameters = list(inspect.signature(teslapy.Tesla).parameters.values())
    assert [p.name for p in parameters[:len(TESLA_ARGUMENTS)]] == TESLA_ARGUMENTS
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters[:len(TESLA_ARGUMENTS)])
    for name, default in TESLA_DEFAULTS.items():
        assert inspect.signature(teslapy.Tesla).parameters[name].default == default, name


@pytest.mark.parametrize("cls, method, arguments",
                         [(cls, method, arguments) for cls, methods in METHODS.items()
                          for method, arguments in methods.items()])
def test_each_method_takes_its_teslapy_1_5_arguments(cls, method, arguments):
    parameters = list(inspect.signature(getattr(cls, method)).parameters)[1:]
    assert parameters[:len(arguments)] == arguments


@pytest.mark.parametrize("method", ["get_history_data", "get_calendar_history_data"])
def test_history_methods_keep_their_defaults(method):
    parameters = inspect.signature(getattr(teslapy.Product, method)).parameters
    assert {name: parameters[name].default for name in HISTORY_ARGUMENTS} == HISTORY_ARGUMENTS


def test_vehicle_class_attributes():
    assert teslapy.Vehicle.COLS[:3] == ["speed", "odometer", "soc"]
    assert teslapy.Vehicle.codes["MDL3"] == "Model 3"


# -- behaviour scripts rely on ------------------------------------------------------------------


def test_expires_at_is_a_number_and_authorized_an_attribute(make_tesla, sim):
    tesla = make_tesla()
    assert tesla.expires_at == 0 and not tesla.authorized
    tesla.fetch_token()
    assert tesla.expires_at > time.time() and tesla.authorized
    tesla.expires_at = time.time() - 1                  # a script forcing a refresh
    old = tesla.token["access_token"]
    assert tesla.vehicle_list() and tesla.token["access_token"] != old
    signed_in = sim.faults.add(service="sso", path="/oauth2/v3/authorize$", status=None, times=None)
    tesla.authorized = False                            # a script forcing a new sign-in
    tesla.fetch_token()
    assert signed_in.hits >= 1 and tesla.authorized


def test_endpoints_and_sso_base(make_tesla, sim):
    tesla = make_tesla()
    assert tesla.endpoints["VEHICLE_LIST"] == {"TYPE": "GET", "URI": "api/1/vehicles", "AUTH": True}
    assert tesla.sso_base == sim.urls["sso_base_url"]


def test_a_script_setting_base_url_reaches_its_proxy(sim, tmp_path, monkeypatch):
    monkeypatch.setattr(teslapy, "BASE_URL", sim.urls["api_base_url"])
    monkeypatch.setattr(teslapy, "SSO_BASE_URL", sim.urls["sso_base_url"])
    with teslapy.Tesla("elon@tesla.com", PASSWORD, cache_file=str(tmp_path / "c.json")) as tesla:
        assert tesla.api_base_url == sim.urls["api_base_url"]
        tesla.fetch_token()
        assert tesla.vehicle_list()


def test_request_with_data_sends_json(tesla, sim):
    car = tesla.vehicle_list()[0]
    reply = tesla.request("POST", f"api/1/vehicles/{car['id_s']}/command/set_charge_limit",
                          data={"percent": 70})
    assert reply["response"]["result"] is True
    assert sim.world.vehicles[0].data["charge_state"]["charge_limit_soc"] == 70


def test_temp_units_takes_the_original_spelling(tesla):
    car = tesla.vehicle_list()[0]
    car.get_vehicle_data()
    assert car.temp_units(celcius=21) == car.temp_units(21) == car.temp_units(celsius=21) == "21.0 C"


def test_stream_keeps_its_callback(tesla):
    car = tesla.vehicle_list()[0]
    assert car.callback is None


def test_html_form_reads_a_page_s_inputs():
    form = teslapy.HTMLForm('<form><input name="a" value="1"><input name="b"></form>')
    assert form == {"a": "1", "b": ""} and form.form is form


def test_passwd_filter_hides_the_password(caplog):
    logger = logging.getLogger("a.script")
    logger.addFilter(teslapy.PasswdFilter("hunter2"))
    with caplog.at_level(logging.INFO, logger="a.script"):
        logger.info("posting %s", "identity=a&credential=hunter2")
    assert "hunter2" not in caplog.text and "credential=********" in caplog.text


# -- the original README's examples, as written ---------------------------------------------------


def test_basic_usage(sim_env, world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with teslapy.Tesla('elon@tesla.com', 'starship') as tesla:
        tesla.fetch_token()
        vehicles = tesla.vehicle_list()
        vehicles[0].sync_wake_up()
        vehicles[0].command('ACTUATE_TRUNK', which_trunk='front')
        version = vehicles[0].get_vehicle_data()['vehicle_state']['car_version']
    assert version == "2019.32.11.1 d39e85a" and world.vehicles[0].data["vehicle_state"]["ft"]


def test_a_passcode_getter_and_a_factor_selector_by_name(sim_env, world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secret = next(f.secret for f in world.account("mfa@tesla.com").factors if f.name == "Device #1")
    passcode = lambda: totp.passcode(secret, world.clock.now())  # noqa: E731 - as the README has it
    with teslapy.Tesla('mfa@tesla.com', 'starship', passcode, lambda _: 'Device #1') as tesla:
        tesla.fetch_token()
        assert tesla.authorized


def test_a_captcha_solver_as_an_attribute(sim_env, tmp_path, monkeypatch):
    import xml.etree.ElementTree as ElementTree

    monkeypatch.chdir(tmp_path)

    def solve_captcha(svg):
        with open('captcha.svg', 'wb') as f:
            f.write(svg)
        root = ElementTree.fromstring(svg)             # a person reading the picture
        return "".join(node.text or "" for node in root.iter("{http://www.w3.org/2000/svg}text"))

    with teslapy.Tesla('captcha@tesla.com', 'starship') as tesla:
        tesla.captcha_solver = solve_captcha
        tesla.fetch_token()
        assert tesla.authorized


def test_basic_exception_handling(tesla, capsys):
    vehicles = tesla.vehicle_list()
    asleep = [v for v in vehicles if v["state"] == "asleep"]
    try:
        asleep[0].command('HONK_HORN')
    except teslapy.HTTPError as e:
        print(e)
    assert capsys.readouterr().out.startswith("408 Client Error: vehicle unavailable")
