"""The README's Python examples run as written against the simulator."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
    done = run_example(first, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2019.32.11.1 d39e85a\n"
    assert world.vehicles[0].data["vehicle_state"]["ft"] != 0     # the frunk opened
    # The vehicle and energy examples use the token the first script cached.
    for block in BLOCK.findall(README.read_text("utf-8")):
        if block.startswith("with teslapy.Tesla('elon@tesla.com') as tesla:"):
            done = run_example("import teslapy\n" + block, tmp_path)
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr
    assert (tmp_path / "car.png").read_bytes().startswith(b"\x89PNG")
    done = run_example(in_process, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[\"Tim's Tesla\", 'Nikola', 'Road Runner']\n"
