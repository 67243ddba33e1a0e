"""The CLI's Fleet API options: the demo's signed commands, command keys, registration."""
from __future__ import annotations

import contextlib
import json
import os
import stat

import pytest

import teslapy
from app_helpers import cli
from teslapy_apps import common
from teslapy_apps.common import ExitCode
from teslasim.server import running

TIM = "5YJ3E111111111111"
DOMAIN = "teslapy-demo.example.com"


@pytest.fixture
def demo_2026(monkeypatch):
    """Make ``--demo`` start the simulator under the 2026 rules; yields the started ones."""
    started = []

    @contextlib.contextmanager
    def cloud():
        with running(rules="2026") as simulator:
            started.append(simulator)
            yield simulator

    monkeypatch.setattr(common, "demo_cloud", cloud)
    return started


def test_the_2026_demo_signs_honk_with_a_key_it_paired(demo_2026):
    result = cli("--demo", "-f", TIM, "-w", "-c", "HONK_HORN")
    assert result.returncode == ExitCode.OK, result.stderr
    assert json.loads(result.stdout)[-1]["result"] is True
    [simulator] = demo_2026
    assert [(run.vin, run.name) for run in simulator.world.fleet.signed_runs] == \
        [(TIM, "honk_horn")]


def test_the_same_honk_unsigned_is_refused_under_the_2026_rules(sim_2026, tmp_path):
    with teslapy.Tesla("elon@tesla.com", cache_file=str(tmp_path / "cache.json"),
                       sso_base_url=sim_2026.urls["sso_base_url"],
                       api_base_url=sim_2026.urls["api_base_url"], verify=sim_2026.ca_file) as tesla:
        tesla.refresh_token(refresh_token=sim_2026.refresh_token_for("elon@tesla.com"))
        tim = next(car for car in tesla.vehicle_list() if car["vin"] == TIM)
        with pytest.raises(teslapy.CommandProtocolRequiredError):
            tim.command("HONK_HORN")


def test_fleet_on_the_2021_demo_signs_too(sim):
    result = cli("--demo", "--fleet", "-f", TIM, "-c", "LOCK")
    assert result.returncode == ExitCode.OK, result.stderr
    assert json.loads(result.stdout)[-1]["result"] is True


def test_create_key_prints_the_public_key_where_to_serve_it_and_the_pairing_link(tmp_path):
    path = str(tmp_path / "key.pem")
    result = cli("--create-key", path, "--domain", "Example.COM")
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert "https://example.com/.well-known/appspecific/com.tesla.3p.public-key.pem" \
        in result.stdout
    assert "https://tesla.com/_ak/example.com" in result.stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="ascii") as handle:
        assert "PRIVATE KEY" in handle.read() and "PRIVATE" not in result.stdout
    again = cli("--create-key", path, "--domain", "example.com")
    assert again.returncode == ExitCode.USAGE and "already exists" in again.stderr
    assert cli("--create-key", str(tmp_path / "other.pem")).returncode == ExitCode.USAGE


def test_register_then_sign_commands_with_a_key_file_against_the_simulator(sim_2026, tmp_path,
                                                                         monkeypatch):
    for name, value in sim_2026.env.items():
        monkeypatch.setenv(name, value)
    app = sim_2026.world.fleet.app("teslapy-demo")
    monkeypatch.setenv("TESLAPY_CLIENT_SECRET", app.client_secret)
    monkeypatch.chdir(tmp_path)
    assert cli("--create-key", "key.pem", "--domain", DOMAIN).returncode == ExitCode.OK
    fleet = ["--client-id", "teslapy-demo", "--domain", DOMAIN]
    registered = cli("--register", "--send-public-key", "--command-key", "key.pem", *fleet)
    assert registered.returncode == ExitCode.OK, registered.stderr
    assert json.loads(registered.stdout)["response"]["domain"] == DOMAIN
    with teslapy.TeslaFleet("elon@tesla.com", "teslapy-demo", app.client_secret) as tesla:
        tesla.refresh_token(refresh_token=sim_2026.fleet_refresh_token_for("elon@tesla.com"))
    unpaired = cli("-e", "elon@tesla.com", "--command-key", "key.pem", *fleet, "-f", TIM,
                   "-c", "LOCK")
    assert unpaired.returncode == ExitCode.REFUSED
    assert sim_2026.urls["fleet_pairing_url"] + DOMAIN in unpaired.stderr
    sim_2026.world.fleet.approve(DOMAIN, TIM)
    locked = cli("-e", "elon@tesla.com", "--command-key", "key.pem", *fleet, "-f", TIM,
                 "-c", "LOCK")
    assert locked.returncode == ExitCode.OK, locked.stderr
    assert sim_2026.world.vehicles[0].data["vehicle_state"]["locked"] is True
    unsigned = cli("-e", "elon@tesla.com", *fleet, "-f", TIM, "-c", "UNLOCK")
    assert unsigned.returncode != ExitCode.OK and "commands signed with" in unsigned.stderr


def test_the_fleet_api_needs_a_client_id(sim):
    result = cli("-e", "elon@tesla.com", "--fleet", "-l")
    assert result.returncode == ExitCode.USAGE and "--client-id" in result.stderr
