"""A storm of faults planned in the simulator, against every kind of call a session makes.

Each step plans one fault (:class:`teslasim.faults.FaultPlan`) on the path one call
uses (the vehicle list, vehicle data, a command, the SSO token endpoint, the Owner API
token exchange, the renewal after the API refused an expired token), makes the call
and counts what a user would suffer. Steps run in a seeded random order, so a fault
meets a session left in any state by the one before. After each step, with no fault,
the session must still work from its tokens (no password is known: a lost refresh
token cannot be made up for by a login): its refresh token must still refresh where the
step tried one, and the cache must hold what the session holds.

A delayed fault holds its request until the call has ended (the client gave up), then
releases it; a request let through is served by then, before the step goes on.

The simulator plays 2021's rules, where a used refresh token still works for 30 s: a
refresh reply lost after the SSO rotated the token ("served after the client gave up")
is then survived. Under strict single-use rotation no lone client can survive that one
(the new refresh token existed only in the lost reply).
"""
from __future__ import annotations

import json
import random
from typing import NamedTuple, Tuple, Type

import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

import teslapy

from . import figures
from .checks import HANG_AFTER, Outcome, bounded

EMAIL = "elon@tesla.com"
SEED = 8
TIMEOUT = 0.5
#: The longest a delayed fault holds its request: far beyond the client's timeout, as
#: the test releases the request once the call has ended.
STALL = 10 * TIMEOUT
HTML_PAGE = "<html><head><title>Service Unavailable</title></head><body>maintenance</body></html>"
TRANSPORT = (requests.ConnectionError, requests.Timeout)


class Kind(NamedTuple):
    """A fault (``FaultPlan.add`` arguments) and the errors a caller may then see."""

    fault: dict
    expected: Tuple[Type[BaseException], ...]
    passes_through: bool = False        # the service still runs the request after the fault


KINDS = {
    "500": Kind({"status": 500}, (requests.HTTPError,)),
    "502 HTML page": Kind({"status": 502, "body": HTML_PAGE}, (requests.HTTPError,)),
    "503": Kind({"status": 503}, (requests.HTTPError,)),
    "504": Kind({"status": 504}, (requests.HTTPError,)),
    "429, Retry-After an hour": Kind({"status": 429, "headers": {"Retry-After": "3600"}},
                                     (teslapy.RateLimitError,)),
    "401": Kind({"status": 401}, (requests.HTTPError, OAuth2Error)),
    "400 invalid_grant": Kind({"status": 400, "body": {"error": "invalid_grant",
                                                       "error_description": "revoked"}},
                              (requests.HTTPError, OAuth2Error)),
    "connection dropped": Kind({"status": None, "drop": True}, TRANSPORT),
    "no reply in time": Kind({"status": 503, "delay": STALL}, TRANSPORT),
    "served after the client gave up": Kind({"status": None, "delay": STALL}, TRANSPORT,
                                            passes_through=True),
    "truncated JSON": Kind({"status": 200, "body": '{"response": {"state": "onl'},
                           (teslapy.ResponseError,)),
    "nested JSON": Kind({"status": 200, "body": "[" * 100000}, (teslapy.ResponseError,)),
    "JSON, not an object": Kind({"status": 200, "body": [1, 2, 3]}, (teslapy.ResponseError,)),
    "HTML page, 200": Kind({"status": 200, "body": HTML_PAGE}, (teslapy.ResponseError,)),
    "empty 200": Kind({"status": 200, "body": ""}, (teslapy.ResponseError,)),
}

TOKEN_ENDPOINT = {"service": "sso", "path": "/oauth2/v3/token$"}
#: Each call: where its fault goes, and what it does (with the session and the car).
CALLS = {
    "vehicle list": ({"service": "api", "path": "/api/1/vehicles$"},
                     lambda sim, tesla, car: tesla.vehicle_list()),
    "vehicle data": ({"service": "api", "path": "/vehicle_data$"},
                     lambda sim, tesla, car: car.get_vehicle_data()),
    "command": ({"service": "api", "path": "/command/honk_horn$"},
                lambda sim, tesla, car: car.command("HONK_HORN")),
    "refresh": (TOKEN_ENDPOINT, lambda sim, tesla, car: tesla.refresh_token()),
    "token exchange": ({"service": "api", "path": "/oauth/token$"},
                       lambda sim, tesla, car: tesla.refresh_token()),
    "renewal after a 401": (TOKEN_ENDPOINT, lambda sim, tesla, car: (
        sim.world.expire_bearers(EMAIL), car.get_vehicle_data())),
}


class Step(NamedTuple):
    kind: str
    call: str
    outcome: Outcome
    commands_run: int           # command requests that reached the car
    still_works: Outcome        # the calls without a fault that follow
    cache_in_step: bool         # the cache holds the session's tokens


def read_entry(cache_file: str) -> dict:
    with open(cache_file, encoding="utf-8") as handle:
        return json.load(handle)[EMAIL]


def still_works(tesla, car, renewed: bool) -> object:
    """The car's data from the tokens held, after a refresh if one was tried in the step."""
    if renewed:
        tesla.refresh_token()
    return car.get_vehicle_data()


def run_step(sim, tesla, car, cache_file: str, kind_name: str, call_name: str) -> Step:
    kind, (target, call) = KINDS[kind_name], CALLS[call_name]
    sim.faults.clear()
    fault = sim.faults.add(times=1, **target, **kind.fault)
    commands = sim.faults.add(path="/command/", status=None, times=None)
    renewals = sim.faults.add(**TOKEN_ENDPOINT, status=None, times=None)
    outcome = bounded(lambda: call(sim, tesla, car))
    fault.release()                                     # the client has given up by now
    if kind.passes_through:                             # let the service run it first
        assert fault.wait_served(HANG_AFTER), f"{kind_name} / {call_name}: never served"
    renewed = renewals.hits + (fault.hits if target is TOKEN_ENDPOINT else 0) > 0
    ran_anyway = kind.passes_through and "/command/" in target["path"]
    commands_run = commands.hits + (fault.hits if ran_anyway else 0)
    sim.faults.clear()
    works = bounded(lambda: still_works(tesla, car, renewed))
    entry = read_entry(cache_file)
    in_step = entry["sso"] == tesla.sso_token and entry["ownerapi"] == tesla.token
    return Step(kind_name, call_name, outcome, commands_run, works, in_step)


def test_a_storm_of_planned_faults_never_hangs_loses_no_token_and_sends_each_command_once(
        sim, make_tesla, cache_file):
    make_tesla().fetch_token()                              # signed in once, with the password
    first_mint = len(sim.world.token_mints)
    tesla = make_tesla(EMAIL, None, timeout=TIMEOUT, retry=2)
    car = next(car for car in tesla.vehicle_list() if car["state"] == "online")
    plan = [(kind, call) for kind in KINDS for call in CALLS]
    random.Random(SEED).shuffle(plan)
    steps = [run_step(sim, tesla, car, cache_file, kind, call) for kind, call in plan]

    hangs = [step for step in steps if step.outcome.hung or step.still_works.hung]
    undocumented = [step for step in steps if step.outcome.undocumented]
    unexpected = [step for step in steps if step.outcome.error is not None
                  and not isinstance(step.outcome.error, KINDS[step.kind].expected)]
    twice = [step for step in steps if step.commands_run > 1]
    lost = [step for step in steps if step.still_works.error is not None or not step.cache_in_step]
    logins = sum(mint.grant_type == "authorization_code"
                 for mint in sim.world.token_mints[first_mint:])
    figures.record("fault storm (simulator's fault plan)",
                   f"{len(steps)} faulted calls: {len(hangs)} hangs, {len(undocumented)} "
                   f"undocumented types, {len(unexpected)} unexpected errors, {len(twice)} "
                   f"commands sent twice, {len(lost)} tokens lost, {logins} logins")

    def show(found):
        return "\n".join(f"{step.kind} / {step.call}: {step.outcome.describe()} then "
                         f"{step.still_works.describe()}" for step in found)
    assert show(hangs) == ""
    assert show(undocumented) == ""
    assert show(unexpected) == ""
    assert show(twice) == ""
    assert show(lost) == ""
    assert logins == 0
    failed = [step for step in steps if step.outcome.error is not None]
    assert len(failed) > len(steps) // 2, "most faults must reach the caller"
