"""kill -9 during cache saves: the file stays whole, no account is lost, no temporary file stays.

A child process saves the token cache in a loop (the save every renewal makes) and is
killed with SIGKILL at a random moment of its saving (seeded), ``KILLS`` times. After
each kill the file must be one JSON object holding every account, each with the tokens
of a save that finished, never older than after the kill before; then the next save (a
real refresh of the demo account against the simulator) must remove any temporary file
the killed writer left.
"""
from __future__ import annotations

import glob
import json
import os
import random
import subprocess
import sys
import time

import teslapy

from . import figures
from .save_forker import ACCOUNTS

KILLS = 200
SEED = 20261202
#: Seconds from the start of a child's saving within which it is killed: a save takes
#: several milliseconds (the file is large and synced to disk), so the kill lands in
#: any part of the first save or two.
KILL_WITHIN = 0.015
EMAIL = "elon@tesla.com"


class Forker:
    """The fork server of :mod:`reliability.save_forker`, one command at a time."""

    def __init__(self, cache_file: str, env: dict) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reliability.save_forker", cache_file], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer, f"the fork server ended after {command!r}"
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)
        self.process.stdout.close()


def numbers(cache: dict) -> dict:
    """Each driver account's token number, from its Owner API access token."""
    return {email: int(cache[email]["ownerapi"]["access_token"].split("-")[1]) for email in ACCOUNTS}


def read(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def leftovers(cache_file: str) -> list:
    directory, name = os.path.split(cache_file)
    return glob.glob(os.path.join(directory, f".{name}.*.tmp"))


def test_kill_9_during_saves_loses_nothing_and_leaves_nothing_behind(sim, tmp_path, worker_env):
    cache_file = str(tmp_path / "cache.json")
    rng = random.Random(SEED)
    tesla = teslapy.Tesla(EMAIL, "starship", cache_file=cache_file,
                          sso_base_url=sim.urls["sso_base_url"], api_base_url=sim.urls["api_base_url"])
    forker = Forker(cache_file, worker_env)
    intact = left_behind = removed = 0
    try:
        tesla.fetch_token()
        assert forker.ask("seed") == "seeded"
        last = numbers(read(cache_file))
        for kill in range(KILLS):
            child = forker.ask(f"fork {(kill + 1) * 10**6}")
            time.sleep(rng.uniform(0.0, KILL_WITHIN))
            assert forker.ask(f"kill {child}") == "killed"
            cache = read(cache_file)                        # whole JSON, after every kill
            assert sorted(cache) == sorted(ACCOUNTS + [EMAIL])
            now = numbers(cache)
            assert all(now[email] >= last[email] for email in ACCOUNTS), (last, now)
            last = now
            intact += 1
            if leftovers(cache_file):
                left_behind += 1
                tesla.refresh_token()                       # the next save
                assert leftovers(cache_file) == []
                removed += 1
        tesla.refresh_token()
        assert tesla.vehicle_list()                         # the demo account's identity works
    finally:
        forker.close()
        tesla.close()
    figures.record("kill -9 during cache saves",
                   f"{intact}/{KILLS} files intact with all {len(ACCOUNTS) + 1} accounts; "
                   f"{left_behind} kills left a temporary file, {removed}/{left_behind} removed "
                   "by the next save")
    assert left_behind > 0, "no kill landed in a save: the test did not test anything"
