"""One refresh per expiry when clients share a cache and refresh tokens are single use.

Eight clients (processes, or threads in one process) call the Owner API of the simulator
while access tokens live ``LIFETIME`` seconds, until tokens have expired ``EXPIRIES``
times; no client knows the password. The simulator refuses a refresh token used before
(the 2021 rules without their grace period, or the 2026 rules), so two clients
refreshing the same token would show as a refused request and a failed call. What the
simulator saw is counted: every request to its token endpoint, every token it minted,
every refresh token it issued.
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time

import teslapy

from . import figures, rotation
from .stores import SharedStore

EMAIL = "elon@tesla.com"
PASSWORD = "starship"
CLIENTS = 8
#: Seconds an access token lives: teslapy renews it in the last tenth of its life,
#: counted from ``created_at`` in whole seconds, so about once a second.
LIFETIME = 2
#: A run lasts until the simulator has answered ``EXPIRIES`` token requests, then
#: ``AFTER`` seconds more, in which every client goes on with the last token; at most
#: ``LIMIT`` seconds (tokens that do not expire then fail the checks).
EXPIRIES = 2
AFTER = 0.5
LIMIT = 20.0
#: A token is renewed in the last quarter of its life at the earliest (teslapy: the last
#: tenth), plus the second ``created_at`` may lose by being whole seconds.
EARLIEST_RENEWAL = 0.25 * LIFETIME + 1.0


def strict_rotation(world) -> None:
    """Short-lived tokens and refresh tokens that work once only."""
    world.settings.refresh_grace_period = 0
    world.settings.access_token_lifetime = LIFETIME
    world.settings.owner_token_lifetime = LIFETIME


class Counters:
    """What the simulator sees from now on: token requests, sign-in pages, mints."""

    def __init__(self, sim) -> None:
        self.world = sim.world
        self.token_requests = sim.faults.add(path="/oauth2/v3/token$", status=None, times=None)
        self.sign_in_pages = sim.faults.add(path="/oauth2/v3/authorize", status=None, times=None)
        self.first_mint = len(sim.world.token_mints)

    def mints(self, grant_type: str) -> list:
        return [mint for mint in self.world.token_mints[self.first_mint:]
                if mint.grant_type == grant_type]


def hosts(sim) -> dict:
    return {"sso_base_url": sim.urls["sso_base_url"], "api_base_url": sim.urls["api_base_url"]}


def run(counters: Counters) -> None:
    """Return when the clients should stop: ``AFTER`` seconds after the simulator has
    answered ``EXPIRIES`` token requests, or after ``LIMIT`` seconds."""
    counters.token_requests.wait_served(LIMIT, count=EXPIRIES)
    time.sleep(AFTER)


def run_processes(config: dict, env: dict, counters: Counters) -> list:
    """Start ``CLIENTS`` processes, let them call together for a run; their tallies."""
    command = [sys.executable, "-m", "reliability.rotation", json.dumps(config)]
    workers = [subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(CLIENTS)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.communicate(timeout=30)[1]
        until = time.time() + 2 * LIMIT             # should no stop come
        for worker in workers:
            worker.stdin.write(f"go {until}\n")
            worker.stdin.flush()
        run(counters)
        for worker in workers:
            with contextlib.suppress(BrokenPipeError):     # ended: its error shows below
                worker.stdin.write("stop\n")
                worker.stdin.flush()
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert [worker.returncode for worker in workers] == [0] * CLIENTS, [err for _, err in outputs]
    return [json.loads(out.splitlines()[-1]) for out, _ in outputs]


def run_threads(sessions: list, counters: Counters) -> list:
    """``CLIENTS`` threads over ``sessions`` (several threads per session) for a run."""
    tallies: list = []
    until, stop = time.time() + 2 * LIMIT, threading.Event()
    threads = [threading.Thread(target=lambda tesla=sessions[index % len(sessions)]:
                                tallies.append(rotation.call_until(tesla, until, stop)))
               for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    run(counters)
    stop.set()
    for thread in threads:
        thread.join(60)
    assert len(tallies) == CLIENTS
    return tallies


def check_one_refresh_per_expiry(counters: Counters, tallies: list, what: str) -> None:
    calls = sum(tally["calls"] for tally in tallies)
    failures = [failure for tally in tallies for failure in tally["failures"]]
    refreshes = counters.mints("refresh_token")
    logins = len(counters.mints("authorization_code")) + counters.sign_in_pages.hits
    requests_per_expiry = counters.token_requests.hits / max(len(refreshes), 1)
    figures.record(what, f"{len(refreshes)} expiries, {counters.token_requests.hits} refresh "
                         f"requests ({requests_per_expiry:.2f} per expiry), {len(failures)} of "
                         f"{calls} calls failed, {logins} logins")
    assert failures == []
    assert logins == 0
    assert len(refreshes) >= 2, "the tokens should have expired during the run"
    assert counters.token_requests.hits == len(refreshes), "a refresh token was sent twice"
    grants = [grant for grant in counters.world.refresh_grants.values() if grant.email == EMAIL]
    assert sum(grant.used_at is None for grant in grants) == 1, "a rotated token was dropped"
    minted = [mint for mint in counters.world.token_mints if mint.email == EMAIL]
    for before, after in zip(minted, minted[1:]):
        left = before.at + LIFETIME - after.at
        assert left <= EARLIEST_RENEWAL, f"refreshed with {left:.2f} s of life left"


def test_eight_processes_sharing_the_cache_file_refresh_once_per_expiry(sim, tmp_path, worker_env):
    strict_rotation(sim.world)
    cache_file = str(tmp_path / "cache.json")
    with teslapy.Tesla(EMAIL, PASSWORD, cache_file=cache_file, **hosts(sim)) as first:
        first.fetch_token()
    counters = Counters(sim)
    tallies = run_processes({"email": EMAIL, "hosts": hosts(sim), "cache_file": cache_file},
                            worker_env, counters)
    check_one_refresh_per_expiry(counters, tallies, "8 processes, one cache file (2021, no grace)")


def test_eight_processes_sharing_a_custom_store_refresh_once_per_expiry(sim_2026, tmp_path, worker_env):
    sim = sim_2026
    strict_rotation(sim.world)
    store = SharedStore(str(tmp_path))
    with teslapy.Tesla(EMAIL, verify=sim.ca_file, **hosts(sim), **store.hooks()) as first:
        first.refresh_token(refresh_token=sim.refresh_token_for(EMAIL))
    counters = Counters(sim)
    config = {"email": EMAIL, "hosts": hosts(sim), "verify": sim.ca_file, "store": str(tmp_path)}
    tallies = run_processes(config, worker_env, counters)
    check_one_refresh_per_expiry(counters, tallies, "8 processes, custom store + cache_lock (2026)")


def test_eight_threads_in_one_process_refresh_once_per_expiry(sim_2026, tmp_path):
    sim = sim_2026
    strict_rotation(sim.world)
    config = {"email": EMAIL, "hosts": hosts(sim), "verify": sim.ca_file,
              "cache_file": str(tmp_path / "cache.json")}
    with rotation.session(config) as first:
        first.refresh_token(refresh_token=sim.refresh_token_for(EMAIL))
    counters = Counters(sim)
    sessions = [rotation.session(config) for _ in range(CLIENTS // 2)]
    try:
        tallies = run_threads(sessions, counters)
    finally:
        for tesla in sessions:
            tesla.close()
    check_one_refresh_per_expiry(counters, tallies, "8 threads, 4 sessions, one cache file (2026)")
