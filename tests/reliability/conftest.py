"""Fixtures of the reliability suite, and the table of figures it prints at the end.

Every test here carries the ``reliability`` mark: ``pytest -m "not reliability"`` runs
the rest of the suite alone (the reliability suite takes about a minute).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .figures import FIGURES

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


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    width = max(len(what) for what in FIGURES)
    for what, figure in FIGURES.items():
        terminalreporter.write_line(f"{what.ljust(width)}  {figure}")
