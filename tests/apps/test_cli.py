"""The command line app: its ``main`` run in this process with its own streams, against
the running simulator (and --demo), plus a few subprocesses for the real entry points
(``python cli.py``, ``python -m teslapy_apps.cli``, ``teslapy``) and a real terminal."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import teslapy
from app_helpers import (
    CLI, DEMO_EMAIL, DEMO_PASSWORD, DEVICE_2_SECRET, MFA_EMAIL, REPO, Answers, TerminalOutput,
    app_env, app_process, cli, closed_port_url, exit_status, interrupt, on_terminal,
    press_ctrl_c, sso_without_http2, totp,
)
from teslapy import prompts
from teslapy_apps import cli as cli_app
from teslapy_apps import signin
from teslapy_apps.common import ExitCode

NIKOLA_VIN = "5YJSA1E2XHF123456"
BATTERY_SITE = "111110110110"
SOLAR_SITE = "222220220220"
SOLAR_NAME = "Barn Roof"


def results(result) -> list:
    """The run's results: stdout is exactly one JSON array."""
    document = json.loads(result.stdout)
    assert isinstance(document, list), result.stdout
    return document


def only_result(result, product: str, action: str):
    """The result of the run's only item, checking its tags."""
    [item] = results(result)
    assert (item["product"], item["action"]) == (product, action), item
    return item["result"]


def assert_clean_failure(result, code: ExitCode, *fragments: str) -> str:
    """A failure is one line on stderr, the given exit code, no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture
def account(sim_env):
    """Run the cli as elon@tesla.com against the test's simulator; the token cache is
    cache.json in the test's temporary working directory."""
    def run(*args, email=DEMO_EMAIL, password=DEMO_PASSWORD, **kwargs):
        base = ["-e", email] + (["-p", password] if password is not None else [])
        return cli(*base, *args, **kwargs)
    return run


@pytest.fixture
def terminal(sim_env, tmp_path):
    """Start ``python cli.py ARGS`` on a pseudo-terminal, against the test's simulator."""
    def spawn(*args):
        return on_terminal(CLI, *args, cwd=str(tmp_path), env=app_env(sim_env))
    return spawn


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path, monkeypatch):
    """The default cache.json lands in the test's own directory."""
    monkeypatch.chdir(tmp_path)


# -- the parser ---------------------------------------------------------------------

def test_parser_has_every_flag_of_the_original_usage():
    usage = " ".join(cli_app.build_parser().format_usage().split())
    for flag in ("-e EMAIL", "-p [PASSWORD]", "-t PASSCODE", "-u FACTOR", "-f FILTER",
                 "-a API", "-k KEYVALUE", "-c COMMAND", "[-l]", "[-o]", "[-v]", "[-w]",
                 "[-g]", "[-b]", "[-n]", "[-m]", "[-s]", "[-d]", "[-r]", "[--service]",
                 "[--verify]", "--proxy PROXY", "[--demo]", "[--json-lines]", "-R TOKEN",
                 "--browser [selenium]", "[--logout]"):
        assert flag in usage
    args = cli_app.build_parser().parse_args(
        ["-e", "a@b.c", "-k", "which_trunk=front", "-k", "percent=80", "-k", "on=True",
         "-k", "temp=21.5", "-k", "pin='0042'", "--verify", "--proxy", "http://p:3128"])
    assert dict(args.keyvalue) == {"which_trunk": "front", "percent": 80, "on": True,
                                   "temp": 21.5, "pin": "0042"}
    assert args.verify is False and args.proxy == "http://p:3128"
    assert cli_app.build_parser().parse_args(["-e", "a@b.c", "-p"]).password == ""


LITERALS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() |
    st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner), max_leaves=6)
KEYS = st.text(min_size=1).filter(lambda key: "=" not in key)


@given(KEYS, LITERALS)
def test_keyvalue_reads_python_literals(key, value):
    assert cli_app.parse_keyvalue("%s=%r" % (key, value)) == (key, value)


WORDS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_ =/.-]*", fullmatch=True).filter(
    lambda text: text not in ("True", "False", "None"))


@given(KEYS, WORDS)
def test_keyvalue_keeps_other_values_as_text(key, text):
    assert cli_app.parse_keyvalue(key + "=" + text) == (key, text)


@given(st.text().filter(lambda text: "=" not in text or text.startswith("=")))
def test_keyvalue_without_a_key_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="key=value"):
        cli_app.parse_keyvalue(text)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() |
    st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8)


@given(st.lists(st.fixed_dictionaries({"product": st.text(), "result": JSON_VALUES}),
                max_size=5))
def test_results_are_one_json_array_or_one_object_a_line(items):
    array, lines = io.StringIO(), io.StringIO()
    for stream, as_lines in ((array, False), (lines, True)):
        out = cli_app.Results(stream, as_lines)
        for item in items:
            out.add(item)
        out.close()
    assert json.loads(array.getvalue()) == items
    assert [json.loads(line) for line in lines.getvalue().splitlines()] == items


def test_help_explains_signing_in_selection_output_and_every_exit_code():
    result = cli("--help")
    assert result.returncode == 0
    for text in ("vehicles only:", "batteries/solar only:", "4 car asleep",
                 "one JSON array", "--json-lines", "highest of their codes",
                 "signing in:", "-R - reads it from stdin", "--logout forgets"):
        assert text in result.stdout
    codes = " ".join(result.stdout.split("exit codes:")[1].split("example:")[0].split())
    for code in ExitCode:
        assert re.search(r"(^|, )%d " % code, codes), code


def test_the_readme_lists_every_exit_code():
    readme = (REPO / "README.md").read_text("utf-8")
    assert sorted(int(code) for code in re.findall(r"^  \| (\d+) \| ", readme,
                                                    re.MULTILINE)) == sorted(ExitCode)


def test_no_action_prints_the_help_and_exits_2():
    result = cli("--demo")
    assert result.returncode == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("usage:") and "exit codes:" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("-l",), "-e (or use --demo)"),
    (("--demo", "-k", "novalue", "-c", "LOCK"), "key=value"),
    (("--demo", "-k", "percent=80", "-l"), "-k gives parameters to -a or -c"),
    (("--demo", "-c", "LOKC"), "unknown endpoint name LOKC (did you mean LOCK"),
    (("--demo", "-a", "no_such_thing"), "unknown endpoint name no_such_thing"),
])
def test_usage_errors_exit_2_before_logging_in(args, message):
    result = cli(*args)
    assert result.returncode == ExitCode.USAGE
    assert message in result.stderr and result.stdout == ""


# -- --demo -------------------------------------------------------------------------

def test_demo_get_goes_past_the_asleep_car_and_names_it():
    result = cli("--demo", "-g")
    assert result.returncode == ExitCode.VEHICLE_UNAVAILABLE
    tim, nikola, runner = results(result)
    assert tim["product"] == "Tim's Tesla" and tim["action"] == "get"
    assert tim["result"]["charge_state"]["battery_level"] == 44
    assert nikola["product"] == "Nikola" and "result" not in nikola
    assert nikola["error"]["code"] == ExitCode.VEHICLE_UNAVAILABLE
    assert nikola["error"]["message"] == "Nikola is asleep or offline: wake it up with -w"
    assert nikola["error"]["detail"].startswith("408 ")
    assert runner["product"] == "Road Runner" and runner["result"]["state"] == "online"
    assert result.stderr == "Nikola is asleep or offline: wake it up with -w\n"


def test_demo_quick_start_prints_every_cars_data(demo_cars_wake_at_once):
    result = cli("--demo", "-w", "-g")           # the README's quick start
    assert result.returncode == 0, result.stderr
    items = results(result)
    assert [(item["product"], item["action"]) for item in items] == [
        (name, action) for name in ("Tim's Tesla", "Nikola", "Road Runner")
        for action in ("wake", "get")]
    for item in items[1::2]:
        assert item["result"]["display_name"] == item["product"]
        assert item["result"]["charge_state"]["battery_level"] > 0
    assert result.stderr == ""


def test_the_demo_signs_commands_where_an_unsigned_one_is_refused_in_words(
        demo_cars_wake_at_once, sim_2026, sim_env_2026, tmp_path, monkeypatch):
    signed = cli("--demo", "-c", "HONK_HORN", "-f", "Tim's Tesla")       # a paired key signs it
    assert signed.returncode == ExitCode.OK, signed.stderr
    assert results(signed)[0]["result"] is True
    monkeypatch.chdir(tmp_path)                                      # the Owner API, 2026 rules
    for vehicle in sim_2026.world.vehicles:
        vehicle.wake_delay = 0
    token = sim_2026.refresh_token_for("elon@tesla.com")
    refused = cli("-e", "elon@tesla.com", "-R", token, "-c", "HONK_HORN", "-f", "Tim's Tesla")
    assert_clean_failure(refused, ExitCode.COMMAND_PROTOCOL_REQUIRED,
                         "Tim's Tesla accepts only commands signed with Tesla's Vehicle "
                         "Command Protocol", "cli.py --fleet --command-key KEY")
    assert results(refused)[0]["error"]["detail"].startswith("403 ")
    obeyed = cli("-e", "elon@tesla.com", "-f", "Nikola", "-w", "-c", "HONK_HORN")  # a 2017 Model S
    assert obeyed.returncode == ExitCode.OK, obeyed.stderr
    assert results(obeyed)[1] == {"product": "Nikola", "action": "command",
                                  "endpoint": "HONK_HORN", "result": True}


def test_demo_password_sign_in_meets_the_recaptcha():
    result = cli("--demo", "-p", DEMO_PASSWORD, "-l")
    assert_clean_failure(result, ExitCode.RECAPTCHA_REQUIRED, "reCAPTCHA",
                         "sign in again with --browser or -R TOKEN")
    assert result.stdout == ""


def test_demo_signs_in_a_china_account_on_the_china_hosts():
    result = cli("--demo", "-e", "cn@tesla.cn", "-l")
    assert only_result(result, "Shanghai Express", "list")["vin"].startswith("LRW")


def test_demo_runs_the_readme_example(demo_cars_wake_at_once):
    result = cli("--demo", "-f", "Nikola", "-w", "-a", "ACTUATE_TRUNK",
                 "-k", "which_trunk=front")
    assert result.returncode == 0, result.stderr
    wake, trunk = results(result)
    assert wake == {"product": "Nikola", "action": "wake", "result": "online"}
    assert trunk["endpoint"] == "ACTUATE_TRUNK"
    assert trunk["result"]["response"]["result"] is True


# -- against the running simulator ------------------------------------------------------

def test_list_prints_every_product_in_order(account, tmp_path):
    result = account("-l")
    assert result.returncode == 0, result.stderr
    items = results(result)
    assert [item["product"] for item in items] == [
        "Tim's Tesla", "Nikola", "Road Runner", "Elon's House", SOLAR_NAME]
    assert [item["result"].get("resource_type") for item in items[3:]] == ["battery",
                                                                          "solar"]
    assert (tmp_path / "cache.json").exists()


def test_json_lines_print_one_object_a_line(account):
    result = account("-l", "-o", "--json-lines")
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(item["product"], item["action"]) for item in items[:2]] == [
        ("Tim's Tesla", "list"), ("Tim's Tesla", "option")]
    assert len(items) == 3 * 2 + 2


def test_password_only_logs_in_and_caches_the_token(account, tmp_path):
    result = account()
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == "Logged in as elon@tesla.com.\n"
    again = account("-f", "Nikola", "-l", password=None)
    assert only_result(again, "Nikola", "list")["vin"] == NIKOLA_VIN


def test_missing_cached_token_is_explained(account):
    other = account("-l", email="solo@tesla.com", password=None)
    assert_clean_failure(other, ExitCode.LOGIN_FAILED, "No cached token", "-p")
    assert other.stdout == ""


def test_filter_matches_vin_id_and_energy_site(account, world):
    assert only_result(account("-f", NIKOLA_VIN, "-l"), "Nikola", "list")["vin"] == NIKOLA_VIN
    by_id = account("-f", str(world.vehicles[2].id), "-l")
    assert only_result(by_id, "Road Runner", "list")["display_name"] == "Road Runner"
    data = only_result(account("-f", BATTERY_SITE, "-b"), "Elon's House", "battery")
    assert data["site_name"] == "Elon's House" and "power_reading" in data
    assert "solar_power" in only_result(account("-f", SOLAR_SITE, "-b"),
                                        SOLAR_NAME, "battery")


def test_filter_matching_nothing_or_wrong_kind(account):
    nothing = account("-f", "no-such-car", "-l")
    assert_clean_failure(nothing, ExitCode.NOT_FOUND, "no-such-car")
    assert results(nothing) == []
    assert_clean_failure(account("-f", BATTERY_SITE, "-g"), ExitCode.NOT_FOUND,
                         "-g applies to vehicles")
    assert_clean_failure(account("-f", "Nikola", "-b"), ExitCode.NOT_FOUND, "-b")
    assert_clean_failure(account("-f", BATTERY_SITE, "-c", "LOCK"), ExitCode.NOT_FOUND,
                         "-c LOCK applies to vehicles, and none is selected")


def test_an_endpoint_is_called_on_the_products_it_is_for(account):
    result = account("-a", "SITE_CONFIG")
    assert result.returncode == 0, result.stderr
    assert [item["product"] for item in results(result)] == [
        "Elon's House", SOLAR_NAME]


def test_vehicle_reads(account):
    result = account("-f", "Tim's Tesla", "-o", "-v", "--service", "-n", "-m")
    assert result.returncode == 0, result.stderr
    items = results(result)
    assert [item["action"] for item in items] == ["option", "vin", "service", "nearby",
                                                  "mobile"]
    options, vin, service, nearby, mobile = (item["result"] for item in items)
    assert isinstance(options, list) and options and all(isinstance(o, str) for o in options)
    assert vin["make"] == "Model 3"
    assert isinstance(service, dict)
    assert "superchargers" in nearby
    assert mobile is True


def test_an_error_ends_that_products_actions_and_the_worst_code_wins(account, world):
    world.vehicles[0].data["vehicle_state"]["is_user_present"] = False
    result = account("-o", "-c", "MEDIA_TOGGLE_PLAYBACK", "-f", "Tim's Tesla")
    assert result.returncode == ExitCode.REFUSED
    everyone = account("-o", "-g", "-c", "MEDIA_TOGGLE_PLAYBACK", "--json-lines")
    assert everyone.returncode == ExitCode.REFUSED        # 5 (refused) beats 4 (asleep)
    items = [json.loads(line) for line in everyone.stdout.splitlines()]
    done = [(item["product"], item["action"], "error" in item) for item in items]
    assert done == [
        ("Tim's Tesla", "option", False), ("Tim's Tesla", "get", False),
        ("Tim's Tesla", "command", True),
        ("Nikola", "option", False), ("Nikola", "get", True),      # no command after it
        ("Road Runner", "option", False), ("Road Runner", "get", False),
        ("Road Runner", "command", False)]
    assert everyone.stderr.splitlines() == [
        "Tim's Tesla refused: nobody is in the car (user_not_present)",
        "Nikola is asleep or offline: wake it up with -w"]
    assert all("{:error" not in item["error"]["message"] for item in items if "error" in item)


def test_wake_then_get(account, world):
    world.vehicles[1].wake_delay = 0
    result = account("-f", "Nikola", "-w", "-g")
    assert result.returncode == 0, result.stderr
    wake, get = results(result)
    assert wake["result"] == "online"
    assert get["result"]["gui_settings"]["gui_temperature_units"] == "F"
    assert result.stderr == ""              # no progress when stderr is not a terminal


def test_waking_shows_progress_on_a_terminal(account, world):
    world.vehicles[1].wake_delay = 0
    screen = TerminalOutput()
    result = account("-f", "Nikola", "-w", stderr=screen)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("\rWaking Nikola | 0 s")
    *frames, wiped, after = result.stderr.split("\r")
    assert wiped.strip() == "" and after == ""      # the progress line is wiped at the end


def test_readme_example_opens_the_frunk(account, world):
    assert world.vehicles[0].data["vehicle_state"]["ft"] == 0
    result = account("-f", "Tim's Tesla", "-w", "-a", "ACTUATE_TRUNK",
                     "-k", "which_trunk=front")
    assert result.returncode == 0, result.stderr
    assert results(result)[1]["result"]["response"]["result"] is True
    assert world.vehicles[0].data["vehicle_state"]["ft"] != 0


def test_commands_change_the_car_and_take_literal_parameters(account, world):
    lock = account("-f", "Tim's Tesla", "-c", "LOCK")
    assert only_result(lock, "Tim's Tesla", "command") is True
    assert world.vehicles[0].data["vehicle_state"]["locked"] is True
    limit = account("-f", "Tim's Tesla", "-c", "CHANGE_CHARGE_LIMIT", "-k", "percent=80")
    assert limit.returncode == 0, limit.stderr
    assert world.vehicles[0].data["charge_state"]["charge_limit_soc"] == 80


def test_refused_command_is_told_in_words(account, world):
    world.vehicles[0].data["vehicle_state"]["is_user_present"] = False
    result = account("-f", "Tim's Tesla", "-c", "MEDIA_TOGGLE_PLAYBACK")
    assert_clean_failure(result, ExitCode.REFUSED, "Tim's Tesla refused: nobody is in the "
                         "car (user_not_present)")
    [item] = results(result)
    assert item["endpoint"] == "MEDIA_TOGGLE_PLAYBACK"
    assert item["error"] == {"code": 5, "detail": "user_not_present", "message":
                             "Tim's Tesla refused: nobody is in the car (user_not_present)"}


FLEET_ONLY = {"response": None, "error": "Endpoint is only available on fleetapi. Visit "
              "https://developer.tesla.com/docs for more info", "error_description": ""}
FORBIDDEN = {"response": None, "error": "forbidden, see https://developer.tesla.com/docs/"
             "fleet-api", "error_description": ""}


@pytest.mark.parametrize("status, body, headers, code, message", [
    (429, None, {"Retry-After": "30"}, ExitCode.RATE_LIMITED,
     "Tesla is rate limiting this account: wait before calling again (about 30 s)"),
    (412, FLEET_ONLY, {}, ExitCode.FLEET_API_REQUIRED,
     "Tesla answers this request only on its Fleet API now"),
    (403, FORBIDDEN, {}, ExitCode.TOKEN_REJECTED,
     "Tesla refused the token: it was not minted the way Tesla's app mints it (over "
     "HTTP/2 with TLS 1.3): sign in again with --browser or -R TOKEN"),
    (503, None, {}, ExitCode.API_ERROR, "Tesla's service failed (503 Server Error: "),
])
def test_service_refusals_are_told_in_words(account, sim, status, body, headers, code,
                                            message):
    sim.faults.add(service="api", path=r"/vehicle_data$", status=status, body=body,
                   headers=headers, times=None)
    ends_the_run = code in cli_app.ENDS_THE_RUN
    result = account("-g") if ends_the_run else account("-f", "Tim's Tesla", "-g")
    assert_clean_failure(result, code, message)
    [item] = results(result)            # the others would fail the same way: not tried
    assert item["error"]["detail"].startswith(str(status))
    assert item["error"]["code"] == code


def test_remote_start_uses_the_password(account, world):
    assert only_result(account("-f", "Tim's Tesla", "-s"), "Tim's Tesla", "start") is True
    assert world.vehicles[0].data["vehicle_state"]["remote_start"] is True


def test_remote_start_with_a_cached_token_asks_for_the_password(account):
    assert account("-f", "Nikola", "-l").returncode == 0
    result = account("-s", password=None)
    assert_clean_failure(result, ExitCode.LOGIN_FAILED, "-s needs the account password", "-p")
    [item] = results(result)        # a login failure ends the run: one car, not three
    assert item["product"] == "Tim's Tesla" and item["error"]["code"] == 3


def test_energy_product_api_and_command(account):
    config = account("-f", BATTERY_SITE, "-a", "SITE_CONFIG")
    assert only_result(config, "Elon's House", "api")["response"]["site_name"] == \
        "Elon's House"
    changed = account("-f", BATTERY_SITE, "-c", "BACKUP_RESERVE",
                      "-k", "backup_reserve_percent=30")
    assert only_result(changed, "Elon's House", "command") == "Updated"
    data = only_result(account("-f", BATTERY_SITE, "-b"), "Elon's House", "battery")
    assert data["backup"]["backup_reserve_percent"] == 30


def test_product_command_not_accepted(account):
    # A read endpoint used as a command has no "code": the product did not accept it.
    result = account("-f", BATTERY_SITE, "-c", "SITE_CONFIG")
    assert_clean_failure(result, ExitCode.REFUSED, "Elon's House did not accept it:",
                         "SITE_CONFIG")


def test_wrong_password(account):
    result = account("-l", password="Not-The-Passw0rd")
    assert_clean_failure(result, ExitCode.LOGIN_FAILED, "Login failed")
    assert "Not-The-Passw0rd" not in result.stderr and result.stdout == ""


def test_debug_shows_the_traceback_without_the_password(account):
    result = account("-d", "-l", password="Wr0ng-Secret")
    assert result.returncode == ExitCode.LOGIN_FAILED
    assert "Traceback" in result.stderr and "DEBUG" in result.stderr
    assert "Wr0ng-Secret" not in result.stdout + result.stderr


SECRET_MARKS = (DEMO_PASSWORD, "eyJ", "qts-", "access_token", "refresh_token")


def test_debug_output_holds_no_secret(demo_cars_wake_at_once):
    result = cli("--demo", "-d", "-f", "Nikola", "-w", "-s")
    assert result.returncode == 0, result.stderr
    assert "teslapy.session" in result.stderr      # the library's debug log is there
    for mark in SECRET_MARKS:
        assert mark not in result.stdout + result.stderr, mark


def test_mfa_with_factor_and_passcode(account):
    result = account("-u", "Device #2", "-t", totp(DEVICE_2_SECRET), "-l", email=MFA_EMAIL)
    assert only_result(result, "Second Signal", "list")["display_name"] == "Second Signal"


def test_mfa_with_wrong_passcode(account):
    code = totp(DEVICE_2_SECRET)
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    result = account("-u", "Device #2", "-t", wrong, "-l", email=MFA_EMAIL)
    assert_clean_failure(result, ExitCode.LOGIN_FAILED, "Login failed")
    assert wrong not in result.stderr


@pytest.fixture
def refused_url():
    """An http URL on loopback that refuses every connection, for the test's length."""
    with closed_port_url() as url:
        yield url


def test_network_down(monkeypatch, refused_url):
    down = refused_url
    monkeypatch.setenv("TESLAPY_SSO_BASE_URL", down)
    monkeypatch.setenv("TESLAPY_API_BASE_URL", down)
    result = cli("-e", DEMO_EMAIL, "-p", DEMO_PASSWORD, "-l")
    host = down.split("//")[1].rstrip("/")
    line = assert_clean_failure(result, ExitCode.NETWORK, "Cannot reach %s" % host,
                                "Connection refused", "check the network")
    assert "authorize" not in line          # no request URL (it holds the login state)


def test_proxy_is_used(account, monkeypatch, refused_url):
    monkeypatch.setenv("NO_PROXY", "")
    assert_clean_failure(account("-l", "--proxy", refused_url), ExitCode.NETWORK,
                         "Cannot reach")


def test_verify_flag_still_works_over_http(account):
    assert account("--verify", "-f", "Nikola", "-l").returncode == 0


def test_password_from_stdin_without_a_terminal(sim_env):
    result = cli("-e", DEMO_EMAIL, "-p", "-f", "Nikola", "-l",
                 stdin=Answers([DEMO_PASSWORD]))
    assert only_result(result, "Nikola", "list")["vin"] == NIKOLA_VIN
    assert DEMO_PASSWORD not in result.stdout + result.stderr
    ended = cli("-e", DEMO_EMAIL, "-p", "-l", stdin=Answers([]))
    assert_clean_failure(ended, ExitCode.LOGIN_FAILED, "-p without a value", "pipe it in")


def test_login_questions_go_to_stderr_and_a_mistyped_factor_asks_again(sim_env):
    answers = Answers(["3", "Device #9", "Device #2", lambda: totp(DEVICE_2_SECRET)])
    result = cli("-e", MFA_EMAIL, "-p", DEMO_PASSWORD, "-l", stdin=answers)
    assert only_result(result, "Second Signal", "list")["display_name"] == "Second Signal"
    assert "2) Device #2" in result.stderr
    assert result.stderr.count("Please enter a number from 1 to 2.") == 2
    assert result.stderr.count("Passcode: ") == 1


def test_login_input_end_and_cancel_are_explained(sim_env):
    ended = cli("-e", MFA_EMAIL, "-p", DEMO_PASSWORD, "-l", stdin=Answers([]))
    assert ended.returncode == ExitCode.LOGIN_FAILED and "Traceback" not in ended.stderr
    assert ended.stderr.strip().splitlines()[-1].startswith("Input ended before a login")
    cancelled = cli("-e", MFA_EMAIL, "-p", DEMO_PASSWORD, "-l", stdin=Answers([""]))
    assert cancelled.returncode == ExitCode.LOGIN_FAILED
    assert cancelled.stderr.strip().endswith("Login cancelled.")


def read_captcha(path: str) -> str:
    """The characters a person reads in the captcha: its text elements in order."""
    root = ElementTree.parse(path).getroot()
    return "".join(node.text or "" for node in root.iter("{http://www.w3.org/2000/svg}text"))


def test_captcha_is_saved_for_the_user_and_asked_on_stderr(sim_env):
    stderr, seen = io.StringIO(), []

    def answer():
        path = re.search(r"open (\S+\.svg) to see it", stderr.getvalue()).group(1)
        seen.append((path, oct(os.stat(path).st_mode & 0o777)))
        return read_captcha(path)

    result = cli("-e", "captcha@tesla.com", "-p", DEMO_PASSWORD, "-l",
                 stdin=Answers(["", answer]), stderr=stderr)
    assert result.returncode == ExitCode.NOT_FOUND, result.stderr     # in, no products
    assert "No products on this account" in result.stderr
    assert result.stderr.count("Captcha: ") == 2          # the empty answer asked again
    [(path, mode)] = seen
    assert mode == "0o600" and not os.path.exists(path)


def test_ctrl_c_at_a_question_exits_130(sim_env):
    result = cli("-e", DEMO_EMAIL, "-p", "-l", stdin=Answers([KeyboardInterrupt()]))
    assert result.returncode == ExitCode.INTERRUPTED
    assert result.stderr == "Interrupted.\n" and result.stdout == ""


def test_stream_of_a_parked_car_prints_json_lines_until_it_ends(account, world):
    world.settings.stream_idle_timeout = 0.2
    result = account("-f", "Tim's Tesla", "-g", "-r")
    assert result.returncode == 0, result.stderr
    get, *updates = [json.loads(line) for line in result.stdout.splitlines()]
    assert get["action"] == "get" and updates
    assert {update["action"] for update in updates} == {"stream"}
    assert {"speed", "est_lat", "est_lng", "soc", "shift_state"} <= set(updates[0]["result"])
    assert result.stderr == "Streaming Tim's Tesla (online); Ctrl-C stops.\n"


# -- signing in today (the 2026 simulator) ---------------------------------------------

def cached_accounts(path) -> set:
    return set(json.loads(path.read_text())) if path.exists() else set()


def test_browser_sign_in_reads_the_pasted_address_and_mints_over_http2(
        sim_env_2026, sim_2026, browser, tmp_path):
    answers = Answers([lambda: browser.landed[-1]])
    result = cli("-e", DEMO_EMAIL, "--browser", "-f", "Nikola", "-l", stdin=answers,
                 open_url=browser)
    assert only_result(result, "Nikola", "list")["vin"] == NIKOLA_VIN
    [url] = browser.opened                      # opened once, in the person's browser
    assert url.startswith(sim_2026.urls["sso_base_url"] + "oauth2/v3/authorize?")
    assert prompts.BROWSER_STEPS.format(url=url) in result.stderr     # on stderr ...
    assert result.stderr.rstrip().endswith("URL after signing in (empty to cancel):")
    code = parse_qs(urlsplit(browser.landed[-1]).query)["code"][0]
    assert code not in result.stdout + result.stderr            # the pasted code: nowhere
    mint = sim_2026.world.token_mints[-1]
    assert (mint.grant_type, mint.http_version, mint.tls_version, mint.marked) == (
        "authorization_code", "2", "TLSv1.3", False)
    assert cached_accounts(tmp_path / "cache.json") == {DEMO_EMAIL}


def test_browser_sign_in_is_a_new_sign_in_even_with_a_token_cached(sim_env_2026, sim_2026,
                                                                   browser):
    assert cli("-e", DEMO_EMAIL, "-R", sim_2026.refresh_token_for(DEMO_EMAIL)).returncode == 0
    result = cli("-e", DEMO_EMAIL, "--browser", stdin=Answers([lambda: browser.landed[-1]]),
                 open_url=browser)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("Logged in as elon@tesla.com.\n")
    assert [m.grant_type for m in sim_2026.world.token_mints] == ["refresh_token",
                                                                  "authorization_code"]


def test_browser_sign_in_cancelled_or_mistyped_is_one_line(sim_env_2026, browser,
                                                           tmp_path):
    cancelled = cli("-e", DEMO_EMAIL, "--browser", "-l", stdin=Answers([""]),
                    open_url=browser)
    assert cancelled.returncode == ExitCode.LOGIN_FAILED
    assert cancelled.stderr.endswith(": Login cancelled.\n")          # the prompt's line
    page = cli("-e", DEMO_EMAIL, "--browser", "-l", open_url=browser,
               stdin=Answers([lambda: browser.opened[-1]]))     # the page's own address
    assert page.returncode == ExitCode.LOGIN_FAILED
    assert page.stderr.endswith("): Login failed: The URL holds no authorization code: "
                                "copy the address the browser was sent to after signing "
                                "in (it starts with tesla://auth/callback?code=)\n")
    assert not (tmp_path / "cache.json").exists()


def test_refresh_token_from_argv_signs_in_and_stays_out_of_the_output(sim_env_2026,
                                                                      sim_2026, tmp_path):
    token = sim_2026.refresh_token_for(DEMO_EMAIL)
    result = cli("-e", DEMO_EMAIL, "-R", token)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == "Logged in as elon@tesla.com.\n"
    assert [(m.grant_type, m.http_version, m.tls_version) for m in
            sim_2026.world.token_mints] == [("refresh_token", "2", "TLSv1.3")]
    later = cli("-e", DEMO_EMAIL, "-f", "Nikola", "-l")          # from the cache
    assert only_result(later, "Nikola", "list")["vin"] == NIKOLA_VIN
    assert cached_accounts(tmp_path / "cache.json") == {DEMO_EMAIL}


def test_refresh_token_from_stdin(sim_env_2026, sim_2026):
    token = sim_2026.refresh_token_for(DEMO_EMAIL)
    result = cli("-e", DEMO_EMAIL, "-R", "-", "-f", "Nikola", "-l", stdin=Answers([token]))
    assert only_result(result, "Nikola", "list")["vin"] == NIKOLA_VIN
    assert token not in result.stdout + result.stderr
    empty = cli("-e", DEMO_EMAIL, "-R", "-", "-l", stdin=Answers([]))
    assert_clean_failure(empty, ExitCode.LOGIN_FAILED, "-R - reads the refresh token from "
                         "the terminal or stdin, and none came")


def test_a_spent_refresh_token_is_its_own_failure_and_nothing_is_cached(
        sim_env_2026, sim_2026, tmp_path):
    token = sim_2026.refresh_token_for(DEMO_EMAIL)
    with teslapy.Tesla(DEMO_EMAIL, cache_file=str(tmp_path / "other.json")) as elsewhere:
        elsewhere.refresh_token(refresh_token=token)        # another app used it first
    result = cli("-e", DEMO_EMAIL, "-R", token, "-l")
    assert_clean_failure(result, ExitCode.LOGIN_EXPIRED, "Tesla no longer accepts this "
                         "sign-in", "sign in again with --browser or -R TOKEN")
    assert token not in result.stderr
    assert not (tmp_path / "cache.json").exists()


def test_no_http2_to_the_sso_is_its_own_failure(monkeypatch, tmp_path):
    with sso_without_http2() as (sso_url, ca_file):
        monkeypatch.setenv("TESLAPY_SSO_BASE_URL", sso_url)
        monkeypatch.setenv("TESLAPY_CA_BUNDLE", ca_file)
        result = cli("-e", DEMO_EMAIL, "-R", "some-refresh-token", "-l")
    assert_clean_failure(result, ExitCode.HTTP2_UNAVAILABLE, "did not speak HTTP/2",
                         "no token was minted")
    assert not (tmp_path / "cache.json").exists()


def test_logout_forgets_only_this_account_and_prints_the_sign_out_address(
        sim_env_2026, sim_2026, tmp_path):
    for email in (DEMO_EMAIL, "solo@tesla.com"):
        assert cli("-e", email, "-R", sim_2026.refresh_token_for(email)).returncode == 0
    opened = []
    result = cli("-e", DEMO_EMAIL, "--logout")
    sign_out = sim_2026.urls["sso_base_url"] + "oauth2/v3/logout?client_id=ownerapi"
    assert result.returncode == 0 and result.stdout == sign_out + "\n"
    assert result.stderr.startswith("Logged out of elon@tesla.com: its tokens are "
                                    "forgotten here; other accounts keep theirs.")
    assert cached_accounts(tmp_path / "cache.json") == {"solo@tesla.com"}
    again = cli("-e", "solo@tesla.com", "--logout", "--browser",
                open_url=lambda url: opened.append(url) or True)
    assert again.stdout == sign_out + "\n" and opened == [sign_out]
    assert "Tesla's sign-out page is open in the browser." in again.stderr
    assert cached_accounts(tmp_path / "cache.json") == set()
    gone = cli("-e", DEMO_EMAIL, "-l")
    assert_clean_failure(gone, ExitCode.LOGIN_FAILED, "No cached token", "--browser",
                         "-R TOKEN")


@pytest.mark.parametrize("args, message", [
    (("--logout", "-l"), "--logout only forgets the tokens"),
    (("--logout", "-R", "x"), "--logout only forgets the tokens"),
    (("-p", "x", "-R", "y"), "not allowed with argument"),
    (("--browser", "-R", "y"), "not allowed with argument"),
    (("--browser", "chrome"), "invalid choice: 'chrome'"),
])
def test_sign_in_usage_errors(args, message):
    result = cli("-e", DEMO_EMAIL, *args)
    assert result.returncode == ExitCode.USAGE
    assert message in result.stderr and result.stdout == ""


def test_browser_selenium_needs_the_selenium_extra(monkeypatch):
    monkeypatch.setattr(cli_app, "chrome_available", lambda: False)
    result = cli("-e", DEMO_EMAIL, "--browser=selenium")
    assert result.returncode == ExitCode.USAGE
    assert "pip install 'teslapy[selenium]'" in result.stderr


def test_browser_selenium_signs_in_in_a_chrome_window(sim_env_2026, sim_2026, monkeypatch):
    if not signin.chrome_available():
        pytest.skip("Selenium or teslapy.selenium_auth is not installed")
    from teslapy.selenium_auth import find_browser
    if find_browser() is None or shutil.which("chromedriver") is None:
        pytest.skip("needs Chromium and chromedriver (apt install chromium chromium-driver)")
    from selenium.webdriver.common.by import By

    from browser.loopback import LoopbackAuthenticator

    def fill_in(driver):
        driver.find_element(By.NAME, "credential").send_keys(DEMO_PASSWORD)
        driver.find_element(By.ID, "form-submit-continue").click()

    made = []

    def headless_window(ca_file=None):          # the app's window, without a screen
        made.append(ca_file)
        return LoopbackAuthenticator(headless=True, timeout=60, ca_file=ca_file,
                                     on_open=fill_in)

    monkeypatch.setattr(signin, "chrome_authenticator", headless_window)
    result = cli("-e", DEMO_EMAIL, "--browser=selenium", "-f", "Nikola", "-l")
    assert only_result(result, "Nikola", "list")["vin"] == NIKOLA_VIN
    assert made == [None]           # TESLAPY_CA_BUNDLE names the simulator's CA
    assert sim_2026.world.token_mints[-1].grant_type == "authorization_code"


# -- the real entry points, in subprocesses -------------------------------------------------

def test_stream_stops_on_ctrl_c_with_130(sim_env, tmp_path):
    command = [sys.executable, CLI, "-e", DEMO_EMAIL, "-p", DEMO_PASSWORD, "-f", "Road Runner",
               "-r"]
    with app_process(command, cwd=str(tmp_path), env=app_env(sim_env)) as process:
        first = process.stdout.readline()
        assert first, process.stderr.read()
        update = json.loads(first)
        assert update["product"] == "Road Runner" and update["action"] == "stream"
        rest, errors = interrupt(process)
    assert process.returncode == ExitCode.INTERRUPTED, errors
    assert "Traceback" not in errors
    assert errors.splitlines() == ["Streaming Road Runner (online); Ctrl-C stops.",
                                   "Interrupted."]
    for line in rest.splitlines():
        json.loads(line)


def test_module_output_is_one_document_for_a_json_reader(tmp_path):
    with subprocess.Popen([sys.executable, "-m", "teslapy_apps.cli", "--demo", "-g"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=app_env()) as cli_run:
        reader = subprocess.run([sys.executable, "-m", "json.tool"], stdin=cli_run.stdout,
                                capture_output=True, text=True, timeout=60)
        errors = cli_run.stderr.read().decode()
    assert cli_run.returncode == ExitCode.VEHICLE_UNAVAILABLE, errors
    assert reader.returncode == 0, reader.stderr
    assert [item["product"] for item in json.loads(reader.stdout)] == [
        "Tim's Tesla", "Nikola", "Road Runner"]


def test_password_prompt_does_not_echo_and_ctrl_c_exits_130(terminal):
    child = terminal("-e", DEMO_EMAIL, "-p", "-f", "Nikola", "-l")
    interrupted = terminal("-e", DEMO_EMAIL, "-p", "-l")    # starts meanwhile; waits
    child.expect("Password: ")
    child.sendline(DEMO_PASSWORD)
    assert exit_status(child) == 0, child.before
    assert DEMO_PASSWORD not in child.before
    assert '"product": "Nikola"' in child.before
    interrupted.expect("Password: ")
    press_ctrl_c(interrupted)
    assert exit_status(interrupted) == ExitCode.INTERRUPTED
    assert "Interrupted." in interrupted.before and "Traceback" not in interrupted.before


def test_refresh_token_prompt_does_not_echo(terminal, sim):
    token = sim.refresh_token_for(DEMO_EMAIL)
    child = terminal("-e", DEMO_EMAIL, "-R", "-", "-f", "Nikola", "-l")
    child.expect("Refresh token: ")
    child.sendline(token)
    assert exit_status(child) == 0, child.before
    assert token not in child.before and '"product": "Nikola"' in child.before


#: The system's browser in the test: a command that writes down the address it is given,
#: in the file named after it, and ends.
RECORDING_BROWSER = 'echo "$1" > "$2.part" && mv "$2.part" "$2"'


def test_browser_sign_in_opens_the_browser_the_system_names(sim_env_2026, sim_2026,
                                                            tmp_path, browser):
    opened = tmp_path / "opened.txt"
    command = shlex.join(["sh", "-c", RECORDING_BROWSER, "browser"]) + " %s " + \
        shlex.quote(str(opened))
    env = app_env(dict(sim_env_2026, BROWSER=command))
    with subprocess.Popen([sys.executable, CLI, "-e", DEMO_EMAIL, "--browser", "-f",
                           "Nikola", "-l"], cwd=str(tmp_path), env=env, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        browser(written(opened, process).strip())       # the person signs in there
        out, errors = process.communicate(browser.landed[-1] + "\n", timeout=60)
    assert process.returncode == 0, errors
    assert [item["product"] for item in json.loads(out)] == ["Nikola"]
    [url] = browser.opened
    assert url.startswith(sim_2026.urls["sso_base_url"] + "oauth2/v3/authorize?")
    assert "Sign in to Tesla in your browser:" in errors
    assert "No browser could be opened" not in errors


def written(path: Path, process: subprocess.Popen) -> str:
    """What the test's browser wrote to ``path``, once it has (the app waits meanwhile)."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no browser was opened"
        time.sleep(0.02)
    return path.read_text()


def test_teslapy_console_command_is_the_same_cli(monkeypatch):
    command = Path(sys.executable).parent / "teslapy"
    if not command.exists():
        pytest.skip("the teslapy console script is not installed in this environment")
    monkeypatch.setenv("COLUMNS", "80")     # the help's width, here and in the subprocesses
    with contextlib.ExitStack() as stack:   # side by side, each waiting on its own
        runs = [stack.enter_context(app_process(args, env=app_env(), stdin=subprocess.DEVNULL))
                for args in ([str(command), "--demo", "-f", "Nikola", "-l"],
                             [str(command), "--help"])]
        (listed, errors), (help_text, _) = [run.communicate(timeout=60) for run in runs]
    assert runs[0].returncode == 0, errors
    assert [item["product"] for item in json.loads(listed)] == ["Nikola"]
    assert help_text.startswith("usage: teslapy ")
    assert help_text.split("Tesla Owner API CLI")[1] == \
        cli("--help").stdout.split("Tesla Owner API CLI")[1]
