"""The server itself: apps and URLs, reset, a second simulator, and ``python -m teslasim``."""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from teslasim.__main__ import export_lines, main
from teslasim.server import Simulator, running
from teslasim.state import World

ENV_NAMES = ["TESLAPY_SSO_BASE_URL", "TESLAPY_API_BASE_URL", "TESLAPY_STREAMING_BASE_URL",
             "TESLAPY_COMPOSITOR_URL", "TESLAPY_SSO_CN_BASE_URL", "TESLAPY_API_CN_BASE_URL",
             "TESLAPY_STREAMING_CN_BASE_URL", "TESLAPY_FLEET_NA_BASE_URL",
             "TESLAPY_FLEET_EU_BASE_URL", "TESLAPY_FLEET_CN_BASE_URL",
             "TESLAPY_FLEET_AUTH_BASE_URL", "TESLAPY_FLEET_PAIRING_URL"]


def test_urls_and_env_describe_eleven_listeners(sim):
    assert list(sim.env) == ENV_NAMES
    assert sim.env["TESLAPY_API_BASE_URL"] == sim.urls["api_base_url"]
    assert sim.env["TESLAPY_SSO_CN_BASE_URL"] == sim.urls["sso_cn_base_url"]
    assert sim.env["TESLAPY_STREAMING_CN_BASE_URL"] == sim.urls["streaming_cn_base_url"]
    assert sim.rules.era == "2021" and sim.ca_file is None
    assert sim.urls["streaming_base_url"].startswith("ws://127.0.0.1:")
    assert sim.urls["streaming_base_url"].endswith("/streaming/")
    assert sim.urls["compositor_url"].endswith("/v1/compositor/")
    ports = {url.split(":")[2].split("/")[0] for url in sim.urls.values()}
    assert len(ports) == 11
    assert sim.apps["api_cn"].state.region == "cn" and sim.apps["api"].state.region == "global"
    assert sim.urls["fleet_pairing_url"] == sim.urls["fleet_na_base_url"] + "_ak/"
    assert [sim.apps[name].state.fleet_region for name in ("fleet_na", "fleet_eu", "fleet_cn")] \
        == ["na", "eu", "cn"] and not sim.apps["api"].state.fleet
    for service, app in sim.apps.items():
        assert app.state.world is sim.world and app.state.urls is sim.urls


def test_reset_swaps_the_world_on_every_app(sim):
    old = sim.world
    new = sim.reset()
    assert new is not old and sim.world is new
    assert all(app.state.world is new for app in sim.apps.values())
    custom = World({"accounts": [{"email": "a@b.c", "password": "p", "user_id": 1}]})
    assert sim.reset(custom) is custom
    assert sim.apps["api"].state.world is custom


def test_sso_unknown_path_is_an_envelope_not_a_trace(sim):
    reply = requests.get(sim.urls["sso_base_url"] + "no/such/page")
    assert reply.status_code == 404
    assert reply.json()["error"] == "not_found"


def test_a_second_simulator_runs_beside_and_stops_cleanly():
    before = threading.active_count()
    fleet = {"accounts": [{"email": "x@y.z", "password": "pw", "user_id": 7}],
             "settings": {"access_token_lifetime": 60}}
    with running(World(fleet)) as other:
        assert requests.get(other.urls["api_base_url"] + "status").text == "ok"
        assert other.world.settings.access_token_lifetime == 60
        url = other.urls["api_base_url"]
    assert threading.active_count() == before
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "status", timeout=2)


def test_fixed_port_in_use_raises_oserror(sim):
    taken = int(sim.urls["api_base_url"].rsplit(":", 1)[1].strip("/"))
    with pytest.raises(OSError):
        Simulator(port=taken - 2)      # P+2 would be the running api port


def signs_in(sso: str, email: str, password: str) -> bool:
    """True when the SSO accepts these credentials (a code comes back)."""
    session = requests.Session()
    page = session.get(sso + "oauth2/v3/authorize", timeout=5, params={
        "response_type": "code", "client_id": "ownerapi", "state": "s",
        "redirect_uri": "https://auth.tesla.com/void/callback",
        "code_challenge": "c" * 43, "code_challenge_method": "S256"})
    transaction_id = re.search(r'name="transaction_id" value="([^"]+)"', page.text).group(1)
    reply = session.post(sso + "oauth2/v3/authorize", allow_redirects=False, timeout=5, data={
        "transaction_id": transaction_id, "identity": email, "credential": password})
    return reply.status_code == 302 and "code=" in reply.headers["Location"]


def start_teslasim(*args: str) -> tuple[subprocess.Popen, list[str]]:
    """``python -m teslasim ARGS``, and the lines it printed up to ``ready``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESLAPY_")}
    process = subprocess.Popen([sys.executable, "-m", "teslasim", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    lines: list[str] = []
    while not lines or lines[-1] not in ("ready", ""):
        lines.append(process.stdout.readline().rstrip("\n"))
    return process, lines[:-1]


def stop_teslasim(process: subprocess.Popen) -> tuple[str, str]:
    """Send SIGINT and return what else the process wrote (stdout, stderr)."""
    try:
        process.send_signal(signal.SIGINT)
        return process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def run_main(args: list[str]) -> int:
    """``python -m teslasim ARGS`` run in this process, for arguments it refuses before
    serving: its exit status."""
    try:
        return main(args)
    except SystemExit as exit:
        return int(exit.code or 0)


def shell_env(lines: list[str]) -> dict:
    """What a POSIX shell has in its environment after evaluating ``lines``, in their order."""
    script = "\n".join(lines) + "\nenv -0\n"
    out = subprocess.run(["sh", "-c", script], capture_output=True, check=True,
                         env={"PATH": os.environ["PATH"]}).stdout.decode()
    values = dict(item.split("=", 1) for item in out.split("\0") if item.startswith("TESLAPY_"))
    names = [line.split()[1].split("=", 1)[0] for line in lines]
    assert sorted(names) == sorted(values)
    return {name: values[name] for name in names}


def test_python_m_teslasim_prints_exports_serves_and_stops_on_sigint(tmp_path):
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps({"accounts": [
        {"email": "own@fleet.test", "password": "pw", "user_id": 5}]}))
    process, lines = start_teslasim("--port", "0", "--fleet", str(fleet))
    try:
        assert all(line.startswith("export TESLAPY_") for line in lines)
        values = shell_env(lines)
        assert list(values) == ENV_NAMES        # no demo account: no demo refresh token
        assert requests.get(values["TESLAPY_API_BASE_URL"] + "status", timeout=5).text == "ok"
        assert signs_in(values["TESLAPY_SSO_BASE_URL"], "own@fleet.test", "pw")
        assert not signs_in(values["TESLAPY_SSO_BASE_URL"], "elon@tesla.com", "starship")
    finally:
        out, err = stop_teslasim(process)
    assert process.returncode == 0
    assert out == "" and "Traceback" not in err


def test_python_m_teslasim_2026_prints_the_ca_and_a_demo_refresh_token():
    process, lines = start_teslasim("--rules", "2026", "--mint-requires", "h2")
    try:
        values = shell_env(lines)
        assert list(values) == ENV_NAMES + ["TESLAPY_CA_BUNDLE", "TESLAPY_DEMO_REFRESH_TOKEN",
                                            "TESLAPY_DEMO_FLEET_REFRESH_TOKEN"]
        assert values["TESLAPY_SSO_BASE_URL"].startswith("https://127.0.0.1:")
        token_url = values["TESLAPY_SSO_BASE_URL"] + "oauth2/v3/token"
        body = {"grant_type": "refresh_token", "client_id": "ownerapi",
                "refresh_token": values["TESLAPY_DEMO_REFRESH_TOKEN"]}
        reply = requests.post(token_url, data=body, verify=values["TESLAPY_CA_BUNDLE"],
                              timeout=5)
        assert reply.status_code == 200 and reply.json()["token_type"] == "Bearer"
        again = requests.post(token_url, data=body, verify=values["TESLAPY_CA_BUNDLE"],
                              timeout=5)
        assert again.status_code == 401 and again.json()["error"] == "login_required"
    finally:
        out, err = stop_teslasim(process)
    assert process.returncode == 0 and "Traceback" not in err
    assert not os.path.exists(values["TESLAPY_CA_BUNDLE"])


@pytest.mark.parametrize("args, message", [
    (["--rules", "2030"], "invalid choice: '2030'"),
    (["--mint-requires", "h3"], "unknown minting requirement(s) 'h3'"),
])
def test_python_m_teslasim_rejects_unknown_rules(args, message, capsys):
    assert run_main(args) == 2
    out, err = capsys.readouterr()
    assert message in err and out == ""


@given(st.dictionaries(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True),
                       st.text(st.characters(blacklist_categories=("Cs",),
                                             blacklist_characters="\x00"))))
def test_export_lines_give_a_shell_the_values_unchanged(env):
    for line, (name, value) in zip(export_lines(env), env.items()):
        assert shlex.split(line) == ["export", f"{name}={value}"]


def test_python_m_teslasim_rejects_a_bad_fleet(tmp_path, capsys):
    bad = tmp_path / "fleet.json"
    bad.write_text("{not json")
    assert run_main(["--fleet", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "cannot load fleet" in err and out == ""


def test_kept_alive_connections_survive_replies_that_ignore_the_body(sim):
    session = requests.Session()
    body = b"[" * 3000 + b"]" * 3000
    for _ in range(40):
        assert session.get(sim.urls["sso_base_url"] + "captcha", data=body).status_code == 200
        assert session.post(sim.urls["api_base_url"] + "api/1/vehicles/1/wake_up",
                            data=body).status_code == 401
        assert session.get(sim.urls["api_base_url"] + "status", json={}).text == "ok"


def test_oversized_bodies_are_refused_with_an_envelope(sim):
    reply = requests.post(sim.urls["api_base_url"] + "oauth/token", data=b"x" * (2 << 20))
    assert reply.status_code == 413
    assert reply.json()["error"] == "request_entity_too_large"


def test_a_plain_reset_goes_back_to_the_rules_the_simulator_started_with(sim_2026):
    from teslasim.rules import Rules

    custom = sim_2026.reset(World.demo(rules=Rules.named("2026", ["tls1.3"])))
    assert custom.rules.mint_requires == frozenset({"tls1.3"})
    assert sim_2026.reset().rules.mint_requires == frozenset({"h2", "tls1.3"})
