"""The command line app, run in subprocesses as users run it: --demo, and against the
separately running simulator with a real login and token cache."""
from __future__ import annotations

import subprocess
import sys

import pexpect
import pytest

from app_helpers import (
    CLI, DEMO_EMAIL, DEMO_PASSWORD, DEVICE_2_SECRET, MFA_EMAIL, app_env, app_process,
    closed_port_url, interrupt, json_documents, run_cli, totp,
)
from teslapy_apps import cli
from teslapy_apps.common import ExitCode


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
    def run(*args, email=DEMO_EMAIL, password=DEMO_PASSWORD, env=None, **kwargs):
        base = ["-e", email] + (["-p", password] if password is not None else [])
        return run_cli(*base, *args, env={**sim_env, **(env or {})}, **kwargs)
    return run


@pytest.fixture
def terminal(sim_env, tmp_path):
    """Start ``python cli.py ARGS`` on a pseudo-terminal, against the test's simulator."""
    def spawn(*args):
        return pexpect.spawn(sys.executable, [CLI, *args], cwd=str(tmp_path),
                             env=app_env(sim_env), encoding="utf-8", timeout=30)
    return spawn


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path, monkeypatch):
    """The default cache.json lands in the test's own directory."""
    monkeypatch.chdir(tmp_path)


# -- the parser ---------------------------------------------------------------------

def test_parser_has_every_flag_of_the_original_usage():
    usage = cli.build_parser().format_usage()
    for flag in ("-e EMAIL", "-p [PASSWORD]", "-t PASSCODE", "-u FACTOR", "-f FILTER",
                 "-a API", "-k KEYVALUE", "-c COMMAND", "[-l]", "[-o]", "[-v]", "[-w]",
                 "[-g]", "[-b]", "[-n]", "[-m]", "[-s]", "[-d]", "[-r]", "[--service]",
                 "[--verify]", "--proxy PROXY", "[--demo]"):
        assert flag in usage
    args = cli.build_parser().parse_args(
        ["-e", "a@b.c", "-k", "which_trunk=front", "-k", "percent=80", "-k", "on=True",
         "-k", "temp=21.5", "-k", "pin='0042'", "--verify", "--proxy", "http://p:3128"])
    assert dict(args.keyvalue) == {"which_trunk": "front", "percent": 80, "on": True,
                                   "temp": 21.5, "pin": "0042"}
    assert args.verify is False and args.proxy == "http://p:3128"
    assert cli.build_parser().parse_args(["-e", "a@b.c", "-p"]).password == ""


def test_help_explains_selection_and_exit_codes():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "vehicles only:" in result.stdout and "batteries/solar only:" in result.stdout
    assert "4 car asleep" in result.stdout


def test_missing_email_or_bad_keyvalue_is_a_usage_error():
    assert run_cli("-l").returncode == ExitCode.USAGE
    result = run_cli("--demo", "-k", "novalue")
    assert result.returncode == ExitCode.USAGE and "key=value" in result.stderr


# -- --demo -------------------------------------------------------------------------

def test_demo_get_prints_the_demo_cars_data():
    result = run_cli("--demo", "-f", "Tim's Tesla", "-g")
    assert result.returncode == 0, result.stderr
    [data] = json_documents(result.stdout)
    assert data["display_name"] == "Tim's Tesla"
    assert data["charge_state"]["battery_level"] == 44
    assert data["gui_settings"]["gui_temperature_units"] == "C"


def test_demo_runs_the_readme_example():
    result = run_cli("--demo", "-f", "Tim's Tesla", "-w", "-a", "ACTUATE_TRUNK",
                     "-k", "which_trunk=front")
    assert result.returncode == 0, result.stderr
    [reply] = json_documents(result.stdout)
    assert reply["response"]["result"] is True


# -- against the running simulator ------------------------------------------------------

def test_list_prints_every_product_in_order(account, tmp_path):
    result = account("-l")
    assert result.returncode == 0, result.stderr
    products = json_documents(result.stdout)
    assert [p.get("display_name") for p in products[:3]] == [
        "Tim's Tesla", "Nikola", "Road Runner"]
    assert [p.get("resource_type") for p in products[3:]] == ["battery", "solar"]
    assert (tmp_path / "cache.json").exists()


def test_cached_token_is_reused_and_missing_one_is_explained(account):
    assert account("-l").returncode == 0
    again = account("-f", "Nikola", "-l", password=None)
    assert again.returncode == 0, again.stderr
    assert [p["vin"] for p in json_documents(again.stdout)] == ["5YJSA1E2XHF123456"]
    other = account("-l", email="solo@tesla.com", password=None)
    assert_clean_failure(other, ExitCode.LOGIN_FAILED, "No cached token", "-p")


def test_filter_matches_vin_id_and_energy_site(account, world):
    by_vin = account("-f", "5YJSA1E2XHF123456", "-l")
    assert [p["display_name"] for p in json_documents(by_vin.stdout)] == ["Nikola"]
    by_id = account("-f", str(world.vehicles[2].id), "-l")
    assert [p["display_name"] for p in json_documents(by_id.stdout)] == ["Road Runner"]
    battery = account("-f", "111110110110", "-b")
    assert battery.returncode == 0, battery.stderr
    [data] = json_documents(battery.stdout)
    assert data["site_name"] == "Elon's House" and "power_reading" in data
    solar = account("-f", "222220220220", "-b")
    assert solar.returncode == 0, solar.stderr
    [site] = json_documents(solar.stdout)
    assert "solar_power" in site


def test_filter_matching_nothing_or_wrong_kind(account):
    assert_clean_failure(account("-f", "no-such-car", "-l"), ExitCode.NOT_FOUND,
                         "no-such-car")
    assert_clean_failure(account("-f", "111110110110", "-g"), ExitCode.NOT_FOUND,
                         "-g applies to vehicles")
    assert_clean_failure(account("-f", "Nikola", "-b"), ExitCode.NOT_FOUND, "-b")


def test_vehicle_reads(account):
    result = account("-f", "Tim's Tesla", "-o", "-v", "--service", "-n", "-m")
    assert result.returncode == 0, result.stderr
    options, vin, service, nearby, mobile = json_documents(result.stdout)
    assert isinstance(options, list) and options and all(isinstance(o, str) for o in options)
    assert vin["make"] == "Model 3"
    assert isinstance(service, dict)
    assert "superchargers" in nearby
    assert mobile is True


def test_asleep_car_without_wake_gives_408(account):
    result = account("-f", "Nikola", "-g")
    line = assert_clean_failure(result, ExitCode.VEHICLE_UNAVAILABLE, "408",
                                "vehicle unavailable", "wake")
    assert "http://" not in line            # Tesla's message, not the request URL


def test_wake_then_get(account, world):
    world.vehicles[1].wake_delay = 0
    result = account("-f", "Nikola", "-w", "-g")
    assert result.returncode == 0, result.stderr
    [data] = json_documents(result.stdout)
    assert data["state"] == "online" and data["gui_settings"]["gui_temperature_units"] == "F"


def test_readme_example_opens_the_frunk(account, world):
    assert world.vehicles[0].data["vehicle_state"]["ft"] == 0
    result = account("-f", "Tim's Tesla", "-w", "-a", "ACTUATE_TRUNK",
                     "-k", "which_trunk=front")
    assert result.returncode == 0, result.stderr
    assert json_documents(result.stdout)[0]["response"]["result"] is True
    assert world.vehicles[0].data["vehicle_state"]["ft"] != 0


def test_commands_change_the_car_and_take_literal_parameters(account, world):
    lock = account("-f", "Tim's Tesla", "-c", "LOCK")
    assert lock.returncode == 0, lock.stderr
    assert json_documents(lock.stdout) == [True]
    assert world.vehicles[0].data["vehicle_state"]["locked"] is True
    limit = account("-f", "Tim's Tesla", "-c", "CHANGE_CHARGE_LIMIT", "-k", "percent=80")
    assert limit.returncode == 0, limit.stderr
    assert world.vehicles[0].data["charge_state"]["charge_limit_soc"] == 80


def test_refused_command(account, world):
    world.vehicles[0].data["vehicle_state"]["is_user_present"] = False
    result = account("-f", "Tim's Tesla", "-c", "MEDIA_TOGGLE_PLAYBACK")
    assert_clean_failure(result, ExitCode.REFUSED, "user_not_present")


def test_remote_start_uses_the_password(account, world):
    result = account("-f", "Tim's Tesla", "-s")
    assert result.returncode == 0, result.stderr
    assert json_documents(result.stdout) == [True]
    assert world.vehicles[0].data["vehicle_state"]["remote_start"] is True


def test_remote_start_with_a_cached_token_asks_for_the_password(account):
    assert account("-f", "Nikola", "-l").returncode == 0
    result = account("-f", "Tim's Tesla", "-s", password=None)
    assert_clean_failure(result, ExitCode.LOGIN_FAILED, "-s needs the account password", "-p")


def test_energy_product_api_and_command(account):
    config = account("-f", "111110110110", "-a", "SITE_CONFIG")
    assert config.returncode == 0, config.stderr
    assert json_documents(config.stdout)[0]["response"]["site_name"] == "Elon's House"
    changed = account("-f", "111110110110", "-c", "BACKUP_RESERVE",
                      "-k", "backup_reserve_percent=30")
    assert changed.returncode == 0, changed.stderr
    assert json_documents(changed.stdout) == ["Updated"]
    data = json_documents(account("-f", "111110110110", "-b").stdout)[0]
    assert data["backup"]["backup_reserve_percent"] == 30


def test_product_command_not_accepted(account):
    # A read endpoint used as a command has no "code": the product did not accept it.
    result = account("-f", "111110110110", "-c", "SITE_CONFIG")
    assert_clean_failure(result, ExitCode.REFUSED, "Product error:", "SITE_CONFIG")


def test_wrong_password(account):
    result = account("-l", password="Not-The-Passw0rd")
    assert_clean_failure(result, ExitCode.LOGIN_FAILED, "Login failed")
    assert "Not-The-Passw0rd" not in result.stderr


def test_debug_shows_the_traceback(account):
    result = account("-d", "-l", password="wrong")
    assert result.returncode == ExitCode.LOGIN_FAILED
    assert "Traceback" in result.stderr and "DEBUG" in result.stderr


SECRET_MARKS = (DEMO_PASSWORD, "eyJ", "qts-", "access_token", "refresh_token")


def test_debug_output_holds_no_secret():
    result = run_cli("--demo", "-d", "-f", "Tim's Tesla", "-l", "-s")
    assert result.returncode == 0, result.stderr
    assert "teslapy.session" in result.stderr      # the library's debug log is there
    for mark in SECRET_MARKS:
        assert mark not in result.stdout + result.stderr, mark


def test_debug_failure_holds_no_secret(account):
    result = account("-d", "-l", password="Wr0ng-Secret")
    assert result.returncode == ExitCode.LOGIN_FAILED
    assert "Traceback" in result.stderr
    assert "Wr0ng-Secret" not in result.stdout + result.stderr


def test_mfa_with_factor_and_passcode(account):
    result = account("-u", "Device #2", "-t", totp(DEVICE_2_SECRET), "-l", email=MFA_EMAIL)
    assert result.returncode == 0, result.stderr
    assert [p["display_name"] for p in json_documents(result.stdout)] == ["Second Signal"]


def test_mfa_with_wrong_passcode(account):
    code = totp(DEVICE_2_SECRET)
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    result = account("-u", "Device #2", "-t", wrong, "-l", email=MFA_EMAIL)
    assert_clean_failure(result, ExitCode.LOGIN_FAILED, "Login failed")
    assert wrong not in result.stderr


def test_network_down():
    down = closed_port_url()
    env = {"TESLAPY_SSO_BASE_URL": down, "TESLAPY_API_BASE_URL": down}
    result = run_cli("-e", DEMO_EMAIL, "-p", DEMO_PASSWORD, "-l", env=env)
    host = down.split("//")[1].rstrip("/")
    line = assert_clean_failure(result, ExitCode.NETWORK, "Cannot reach %s" % host,
                                "Connection refused", "check the network")
    assert "authorize" not in line          # no request URL (it holds the login state)


def test_proxy_is_used(account):
    result = account("-l", "--proxy", closed_port_url(), env={"NO_PROXY": "", "no_proxy": ""})
    assert_clean_failure(result, ExitCode.NETWORK, "Cannot reach")


def test_verify_flag_still_works_over_http(account):
    assert account("--verify", "-f", "Nikola", "-l").returncode == 0


def test_password_prompt_does_not_echo(terminal):
    child = terminal("-e", DEMO_EMAIL, "-p", "-f", "Nikola", "-l")
    child.expect("Password: ")
    child.sendline(DEMO_PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert DEMO_PASSWORD not in child.before
    assert '"display_name": "Nikola"' in child.before


def test_password_from_stdin_without_a_terminal(sim_env):
    result = run_cli("-e", DEMO_EMAIL, "-p", "-f", "Nikola", "-l", env=sim_env,
                     stdin=DEMO_PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert [p["display_name"] for p in json_documents(result.stdout)] == ["Nikola"]
    assert DEMO_PASSWORD not in result.stdout + result.stderr
    ended = run_cli("-e", DEMO_EMAIL, "-p", "-l", env=sim_env, stdin="")
    assert_clean_failure(ended, ExitCode.LOGIN_FAILED, "-p without a value", "pipe it in")


def test_login_questions_go_to_stderr_and_input_end_is_explained(sim_env, tmp_path):
    answers = "2\n%s\n" % totp(DEVICE_2_SECRET)
    result = run_cli("-e", MFA_EMAIL, "-p", DEMO_PASSWORD, "-l", env=sim_env, stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "Device #2" in result.stderr
    assert [p["display_name"] for p in json_documents(result.stdout)] == ["Second Signal"]
    (tmp_path / "cache.json").unlink()          # ask again
    ended = run_cli("-e", MFA_EMAIL, "-p", DEMO_PASSWORD, "-l", env=sim_env, stdin="")
    assert ended.returncode == ExitCode.LOGIN_FAILED and "Traceback" not in ended.stderr
    assert ended.stderr.strip().splitlines()[-1].startswith("Input ended before a login")
    cancelled = run_cli("-e", MFA_EMAIL, "-p", DEMO_PASSWORD, "-l", env=sim_env,
                        stdin="\n")
    assert cancelled.returncode == ExitCode.LOGIN_FAILED
    assert cancelled.stderr.strip().endswith("Login cancelled.")


def read_captcha(svg: str) -> str:
    """The characters a person reads in the captcha: its text elements in order."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(svg)
    return "".join(node.text or "" for node in root.iter("{http://www.w3.org/2000/svg}text"))


def test_captcha_is_saved_for_the_user_and_answered_on_the_terminal(terminal):
    import os

    child = terminal("-e", "captcha@tesla.com", "-p", DEMO_PASSWORD, "-l")
    child.expect(r"open (\S+\.svg) to see it")
    path = child.match.group(1)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with open(path, encoding="utf-8") as handle:
        answer = read_captcha(handle.read())
    child.expect("Captcha: ")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.NOT_FOUND, child.before     # logged in: no products
    assert "No products on this account" in child.before
    assert not os.path.exists(path)


def test_ctrl_c_at_the_password_prompt(terminal):
    child = terminal("-e", DEMO_EMAIL, "-p", "-l")
    child.expect("Password: ")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.INTERRUPTED
    assert "Interrupted." in child.before and "Traceback" not in child.before


def test_stream_prints_updates_and_stops_on_ctrl_c(sim_env, tmp_path):
    command = [sys.executable, CLI, "-e", DEMO_EMAIL, "-p", DEMO_PASSWORD, "-f", "Road Runner",
               "-r"]
    with app_process(command, cwd=str(tmp_path), env=app_env(sim_env)) as process:
        first = process.stdout.readline()
        assert first, process.stderr.read()
        update = json_documents(first)[0]
        assert {"speed", "est_lat", "est_lng", "soc", "shift_state"} <= set(update)
        rest, errors = interrupt(process)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    assert "Streaming Road Runner (online); Ctrl-C stops." in errors
    assert "Streaming stopped." in errors
    for line in rest.splitlines():
        json_documents(line)


def test_teslapy_console_command_is_the_same_cli():
    from pathlib import Path

    command = Path(sys.executable).parent / "teslapy"
    if not command.exists():
        pytest.skip("the teslapy console script is not installed in this environment")
    result = subprocess.run([str(command), "--demo", "-f", "Nikola", "-l"],
                            capture_output=True, text=True, timeout=60, env=app_env())
    assert result.returncode == 0, result.stderr
    assert [p["display_name"] for p in json_documents(result.stdout)] == ["Nikola"]
    help_text = subprocess.run([str(command), "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    assert help_text.startswith("usage: teslapy ")
    assert help_text.split("Tesla Owner API CLI")[1] == \
        run_cli("--help").stdout.split("Tesla Owner API CLI")[1]
