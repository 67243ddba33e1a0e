"""The package's types hold: ``mypy --strict teslapy`` is clean (teslapy ships ``py.typed``)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_finds_nothing():
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                           "teslapy"], cwd=str(ROOT), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_type_checkers_see_the_re_exported_names():
    source = (ROOT / "teslapy" / "__init__.py").read_text("utf-8")
    assert "globals().update" not in source
    import teslapy

    assert all(name in dir(teslapy) for name in teslapy.__all__)
