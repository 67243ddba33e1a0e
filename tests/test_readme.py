"""The README's Python examples run as written against the simulator."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_examples() -> list[str]:
    """The README's complete Python examples (those that import what they use)."""
    return [block for block in BLOCK.findall(README.read_text("utf-8"))
            if block.startswith("import teslapy")]


def run_example(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=str(cwd), capture_output=True,
                          text=True, timeout=60)


def test_the_readme_has_the_examples_this_test_runs():
    firsts = [block.splitlines()[1] for block in python_examples()]
    assert firsts == [
        "",                                                    # a first script
        "from teslasim.server import running",                 # the simulator in Python
    ]


def test_the_first_script_then_the_cached_examples_run(sim_env, world, tmp_path):
    first, in_process = python_examples()
    # The simulator-in-Python example needs nothing of the others: it runs meanwhile, in
    # a directory of its own (for a token cache of its own).
    apart = tmp_path / "apart"
    apart.mkdir()
    meanwhile = subprocess.Popen([sys.executable, "-c", in_process], cwd=str(apart),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = run_example(first, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2019.32.11.1 d39e85a\n"
    assert world.vehicles[0].data["vehicle_state"]["ft"] != 0     # the frunk opened
    # The vehicle and energy examples use the token the first script cached; they run
    # one after the other in one interpreter.
    cached = [block for block in BLOCK.findall(README.read_text("utf-8"))
              if block.startswith("with teslapy.Tesla('elon@tesla.com') as tesla:")]
    assert len(cached) >= 3
    done = run_example("import teslapy\n" + "\n".join(cached), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "car.png").read_bytes().startswith(b"\x89PNG")
    out, errors = meanwhile.communicate(timeout=60)
    assert meanwhile.returncode == 0, errors
    assert out == "[\"Tim's Tesla\", 'Nikola', 'Road Runner']\n"



SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
ROOT = README.parent


def wait_for_ready(path: Path, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while not (path.exists() and "ready" in path.read_text()):
        assert time.monotonic() < end, "the simulator did not start"
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_fleet_walkthrough_signs_a_command_that_changes_the_simulated_car(tmp_path):
    """The README's step-by-step Fleet API commands, run by bash in a fresh directory."""
    [block] = [block for block in SHELL_BLOCK.findall(README.read_text("utf-8"))
               if "# terminal 1" in block]
    first, rest = block.split("\n", 1)
    (tmp_path / "cli.py").symlink_to(ROOT / "cli.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    server = subprocess.Popen(["bash", "-c", first], cwd=str(tmp_path), env=env,
                              stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_ready(tmp_path / "sim.env")
        done = subprocess.run(["bash", "-e", "-c", rest], cwd=str(tmp_path), env=env,
                              capture_output=True, text=True, timeout=120)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(20)
    assert done.returncode == 0, done.stderr
    assert "Key added" in done.stdout                                  # the owner approved
    assert "False\nTrue\n" in done.stdout                              # LOCK, signed
    assert '"endpoint": "UNLOCK",\n    "result": true' in done.stdout    # the CLI, signed
