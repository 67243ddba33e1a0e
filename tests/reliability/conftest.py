"""Fixtures of the reliability suite; its figures travel in the reports (see ``figures``).

Every test here carries the ``reliability`` mark: ``pytest -m "not reliability"`` runs
the rest of the suite alone.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import figures

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "reliability: the reliability suite (tests/reliability)")


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def worker_env(monkeypatch) -> dict:
    """The environment of a child process: this checkout's packages, no proxies."""
    env = {key: value for key, value in os.environ.items() if "PROXY" not in key.upper()}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the figures a test recorded to the report of its call."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        report.user_properties.extend((figures.REPORT_KEY, pair) for pair in figures.take())
