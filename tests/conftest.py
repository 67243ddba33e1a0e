"""Fixtures: one simulated Tesla cloud per test session, a fresh world per test."""
from __future__ import annotations

import os

import pytest
from hypothesis import settings

import teslapy
from teslasim.server import running
from teslasim.state import World

from reliability import figures

#: No time limit per example: a check that an example ran fast would be a timed assertion,
#: and the tests share the machine's cores with each other.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

DEMO_EMAIL = "elon@tesla.com"
DEMO_PASSWORD = "starship"
ENV_NAMES = (
    "TESLAPY_SSO_BASE_URL", "TESLAPY_API_BASE_URL",
    "TESLAPY_STREAMING_BASE_URL", "TESLAPY_COMPOSITOR_URL", "TESLAPY_SSO_CN_BASE_URL",
    "TESLAPY_API_CN_BASE_URL", "TESLAPY_STREAMING_CN_BASE_URL", "TESLAPY_CA_BUNDLE",
    "TESLAPY_DEMO_REFRESH_TOKEN", "TESLAPY_DEMO_FLEET_REFRESH_TOKEN",
    "TESLAPY_FLEET_NA_BASE_URL", "TESLAPY_FLEET_EU_BASE_URL", "TESLAPY_FLEET_CN_BASE_URL",
    "TESLAPY_FLEET_AUTH_BASE_URL", "TESLAPY_FLEET_PAIRING_URL", "TESLAPY_CLIENT_SECRET",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No test reaches a proxy, a real Tesla host or the caller's settings."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") + ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def live_server():
    """The simulator served by Hypercorn on loopback ports for the whole session."""
    with running() as simulator:
        yield simulator


@pytest.fixture(scope="session")
def live_server_2026():
    """The simulator under the 2026 rules (TLS + HTTP/2 at the SSO) for the whole session."""
    with running(rules="2026") as simulator:
        yield simulator


@pytest.fixture
def sim_2026(live_server_2026):
    """The 2026 simulator with a fresh demo world and no faults."""
    live_server_2026.reset()
    return live_server_2026


@pytest.fixture
def sim(live_server):
    """The running simulator with a fresh demo world and no faults."""
    live_server.reset()
    return live_server


@pytest.fixture
def world(sim) -> World:
    """The fresh demo world the simulator serves in this test."""
    return sim.world


def _use_env(simulator, monkeypatch) -> dict:
    for name, value in simulator.env.items():
        monkeypatch.setenv(name, value)
    return dict(simulator.env)


@pytest.fixture
def sim_env(sim, monkeypatch):
    """The TESLAPY_* variables pointing at the simulator, set for this test."""
    return _use_env(sim, monkeypatch)


@pytest.fixture
def sim_env_2026(sim_2026, monkeypatch):
    """The TESLAPY_* variables of the 2026 simulator (its CA included), set for this test."""
    return _use_env(sim_2026, monkeypatch)


@pytest.fixture
def cache_file(tmp_path):
    return str(tmp_path / "cache.json")


@pytest.fixture
def make_tesla(sim, cache_file):
    """Build ``Tesla`` objects aimed at the simulator; all are closed after the test."""
    made = []

    def make(email=DEMO_EMAIL, password=DEMO_PASSWORD, *args, **kwargs):
        kwargs.setdefault("cache_file", cache_file)
        kwargs.setdefault("sso_base_url", sim.urls["sso_base_url"])
        kwargs.setdefault("api_base_url", sim.urls["api_base_url"])
        kwargs.setdefault("streaming_base_url", sim.urls["streaming_base_url"])
        kwargs.setdefault("compositor_url", sim.urls["compositor_url"])
        tesla = teslapy.Tesla(email, password, *args, **kwargs)
        made.append(tesla)
        return tesla

    yield make
    for tesla in made:
        tesla.close()


@pytest.fixture
def tesla(make_tesla):
    """A ``Tesla`` logged in to the demo account, with its cache in a temp dir."""
    session = make_tesla()
    session.fetch_token()
    return session


def pytest_configure(config):
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


#: The reliability suite's figures as the reports bring them: what was measured -> figure.
REPORTED_FIGURES: dict = {}


def pytest_runtest_logreport(report):
    for key, value in report.user_properties:
        if key == figures.REPORT_KEY:
            what, figure = value
            REPORTED_FIGURES[what] = figure


def pytest_terminal_summary(terminalreporter):
    if not REPORTED_FIGURES:
        return
    terminalreporter.section("reliability figures")
    width = max(len(what) for what in REPORTED_FIGURES)
    for what, figure in REPORTED_FIGURES.items():
        terminalreporter.write_line(f"{what.ljust(width)}  {figure}")
