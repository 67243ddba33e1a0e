"""``import teslapy`` against ``import requests``, each in a fresh interpreter.

Run: ``python benchmarks/bench_import.py [rounds]`` (default 21 rounds)

``Tesla`` is a ``requests.Session``, so ``import requests`` is the floor. Each round
starts three interpreters per import, alternating, and keeps the fastest of each. The
import statement alone is timed (the interpreter's start-up is left out), in CPU
seconds: other work on a shared machine stretches wall time at random. The
interpreters write and read byte code in a private cache (as an installed package
would), warmed before timing. The figure is the median of the per-round ratios with its
spread.

Then it lists the modules ``import teslapy`` loads beyond ``import requests`` and checks
that none of those that wait for first use are among them. With ``--instructions`` (and valgrind installed) the same
imports are also counted in machine instructions under cachegrind, which other work on
the machine cannot disturb: (instructions of the import) / (those of ``import requests``),
each less an interpreter that imports neither.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleaved import ratio_line  # noqa: E402

GOAL = 1.1
TRIES = 3
#: Modules ``import teslapy`` must leave for first use.
ON_FIRST_USE = ("oauthlib", "requests_oauthlib", "httpx", "h2", "cryptography", "websocket",
                "webbrowser", "html.parser", "selenium", "teslapy.streaming", "teslapy.vcp",
                "teslapy.selenium_auth", "teslapy.login", "teslapy.compat", "teslasim")
TIMED = """
import sys, time
sys.path.insert(0, {root!r})
started = time.process_time()
__import__(sys.argv[1])
print(time.process_time() - started)
"""
LOADED = """
import sys
sys.path.insert(0, {root!r})
import requests
before = set(sys.modules)
import teslapy
print(" ".join(sorted(set(sys.modules) - before)))
"""


def _environment(cache: str) -> Dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _run(code: str, args: List[str], env: Dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code.format(root=str(ROOT)), *args],
                          env=env, cwd=str(ROOT), capture_output=True, text=True, check=True)
    return done.stdout.strip()


def import_seconds(module: str, env: Dict[str, str]) -> float:
    """CPU seconds ``import module`` takes in a new interpreter."""
    return float(_run(TIMED, [module], env))


def instructions(code: str, env: Dict[str, str]) -> int:
    """Machine instructions a new interpreter runs for ``code`` (valgrind's cachegrind)."""
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                           "--cachegrind-out-file=/dev/null", sys.executable, "-c", code],
                          env={**env, "PYTHONHASHSEED": "0"}, cwd=str(ROOT),
                          capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    assert found, done.stderr
    return int(found.group(1).replace(",", ""))


def instruction_ratio(env: Dict[str, str]) -> float:
    """Instructions of ``import teslapy`` over those of ``import requests``, less start-up."""
    prelude = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
    base, floor, ours = (instructions(prelude + line, env)
                         for line in ("", "import requests", "import teslapy"))
    return (ours - base) / (floor - base)


def compare(rounds: int, env: Dict[str, str]) -> Dict[str, List[float]]:
    """Per-round import times of requests and teslapy: in each round the best of
    ``TRIES`` interpreters each, in alternating order (the best, because other work on
    the machine only ever adds time)."""
    times: Dict[str, List[float]] = {"requests": [], "teslapy": []}
    for index in range(rounds):
        best = {"requests": float("inf"), "teslapy": float("inf")}
        for attempt in range(TRIES):
            order = ["requests", "teslapy"] if (index + attempt) % 2 == 0 \
                else ["teslapy", "requests"]
            for module in order:
                best[module] = min(best[module], import_seconds(module, env))
        for module, seconds in best.items():
            times[module].append(seconds)
    return times


def main(argv: List[str]) -> int:
    count = "--instructions" in argv
    args = [arg for arg in argv[1:] if arg != "--instructions"]
    rounds = int(args[0]) if args else 21
    with tempfile.TemporaryDirectory(prefix="teslapy-pyc-") as cache:
        env = _environment(cache)
        for module in ("requests", "teslapy"):      # compile the byte code
            import_seconds(module, env)
        times = compare(rounds, env)
        print(ratio_line("import teslapy", times["teslapy"], times["requests"],
                         "import requests", GOAL))
        print(f"  medians: teslapy {statistics.median(times['teslapy']) * 1000:.1f} ms, "
              f"requests {statistics.median(times['requests']) * 1000:.1f} ms (CPU)")
        if count:
            print(f"  in instructions: {instruction_ratio(env):.3f}x import requests")
        loaded = _run(LOADED, [], env).split()
    heavy = [name for name in loaded
             if any(name == module or name.startswith(module + ".") for module in ON_FIRST_USE)]
    others = [name for name in loaded if not name.startswith("teslapy")]
    print(f"loaded beyond requests: {len(loaded)} modules, not teslapy's: "
          f"{' '.join(others) or 'none'}")
    print(f"loaded that should wait for first use: {' '.join(heavy) or 'none'}")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
