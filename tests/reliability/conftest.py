"""Fixtures of the reliability suite, and the table of figures it prints at the end."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .figures import FIGURES

ROOT = Path(__file__).resolve().parents[2]


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
