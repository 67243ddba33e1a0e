"""Servers that misbehave on loopback: every call ends in time, with a documented error.

Each case starts a :class:`~reliability.servers.LoopbackServer` that answers every
request the same bad way and points a session at it as the Owner API and the SSO. The
session holds tokens (from its cache file) and no password. The storm runs every
misbehaviour against a read, a command and a refresh, with and without retries, and
counts what a user would suffer: calls that hang, errors of undocumented types, errors
other than the one the misbehaviour means, commands a server could have acted on twice,
and held tokens lost.
"""
from __future__ import annotations

import concurrent.futures
import json
from typing import NamedTuple, Tuple, Type

import pytest
import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

import teslapy
from teslapy import limits

from . import figures, servers
from .checks import Outcome, bounded

EMAIL = "driver@example.com"
#: Seconds a session waits for each piece of a reply: a reply that comes at all comes
#: far sooner, even while the storm runs its calls side by side on a busy machine.
TIMEOUT = 1.0
#: The storm's deadline: far beyond its longest calls that end otherwise (a read tried
#: three times with 0.6 s of backoff, thirty redirects), and beyond the timeout, so a
#: reply that never comes meets the read timeout first (and a read is retried).
DEADLINE = 2.5
#: The deadline of the tests of a reply trickled in: shorter than the timeout, so that
#: nothing but the deadline can end it (a byte comes every ``servers.TICK`` seconds).
SHORT_DEADLINE = 0.3


@pytest.fixture
def server():
    with servers.LoopbackServer() as running:
        yield running


def held_tokens(server, cache_file: str, **options) -> teslapy.Tesla:
    """A session holding tokens for ``server``, with this module's timeout and deadline."""
    return servers.session_on(server, cache_file, EMAIL,
                              **{"timeout": TIMEOUT, "deadline": DEADLINE, **options})


def held_tokens_short_deadline(server, cache_file: str, **options) -> teslapy.Tesla:
    """A session holding tokens for ``server`` whose replies end at ``SHORT_DEADLINE``."""
    return held_tokens(server, cache_file, deadline=SHORT_DEADLINE, **options)


def ended_at_the_deadline(outcome: Outcome) -> bool:
    return (isinstance(outcome.error, teslapy.ReadTimeout)
            and f"took longer than {SHORT_DEADLINE:g} s in all" in str(outcome.error))


@pytest.mark.parametrize("retry_after", ["3600", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_429_is_a_rate_limit_error_at_once_even_with_retries(server, tmp_path, retry_after):
    server.otherwise = servers.reply(429, b'{"error": "too many requests"}', {"Retry-After": retry_after})
    with held_tokens(server, str(tmp_path / "cache.json"), retry=2) as tesla:
        outcome = bounded(lambda: tesla.api("VEHICLE_LIST"))
    assert isinstance(outcome.error, teslapy.RateLimitError), outcome.describe()
    assert outcome.error.retry_after > 3000 and len(server.requests) == 1


def test_a_503_asking_to_wait_an_hour_is_retried_after_a_short_backoff(server, tmp_path):
    server.otherwise = servers.reply(503, b'{"error": "unavailable"}', {"Retry-After": "3600"})
    with held_tokens(server, str(tmp_path / "cache.json"), retry=2) as tesla:
        outcome = bounded(lambda: tesla.api("VEHICLE_LIST"))
    assert isinstance(outcome.error, teslapy.HTTPError), outcome.describe()
    assert "503 Server Error: unavailable" in str(outcome.error) and len(server.requests) == 3


def test_a_refresh_reply_trickled_in_ends_at_the_deadline_and_keeps_the_tokens(server, tmp_path):
    server.otherwise = servers.trickled_body()
    with held_tokens_short_deadline(server, str(tmp_path / "cache.json")) as tesla:
        held = dict(tesla.sso_token)
        outcome = bounded(tesla.refresh_token)
        assert ended_at_the_deadline(outcome), outcome.describe()
        assert tesla.sso_token == held


def test_a_token_minted_over_http2_and_trickled_in_ends_at_the_deadline(server, tmp_path):
    with servers.Http2Server(servers.trickling_app()) as sso:
        with held_tokens_short_deadline(server, str(tmp_path / "cache.json"), sso_url=sso.url,
                                        verify=sso.ca_file) as tesla:
            held = dict(tesla.sso_token)
            outcome = bounded(tesla.refresh_token)
            assert ended_at_the_deadline(outcome), outcome.describe()
            assert tesla.sso_token == held


@pytest.mark.parametrize("call", ["VEHICLE_LIST", "HONK_HORN", "refresh"])
def test_headers_trickled_in_end_at_the_deadline(server, tmp_path, call):
    server.otherwise = servers.trickled_headers()
    with held_tokens_short_deadline(server, str(tmp_path / "cache.json")) as tesla:
        held = dict(tesla.sso_token)
        outcome = bounded(tesla.refresh_token if call == "refresh"
                          else lambda: tesla.api(call, {"vehicle_id": "1"}))
        assert ended_at_the_deadline(outcome), outcome.describe()
        assert tesla.sso_token == held and len(server.requests) == 1


def test_a_body_without_end_stops_at_the_size_limit_not_the_memory(server, tmp_path):
    server.otherwise = servers.endless_body()
    with held_tokens(server, str(tmp_path / "cache.json"), deadline=None) as tesla:
        outcome = bounded(lambda: tesla.api("VEHICLE_LIST"))
    assert isinstance(outcome.error, teslapy.ResponseError), outcome.describe()
    assert f"is larger than {limits.MAX_REPLY_BYTES} bytes" in str(outcome.error)


# -- the storm: every misbehaviour against every kind of call ---------------------------------

ENVELOPE = b'{"response": null, "error": "internal_server_error", "error_description": ""}'
HTML_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


class Misbehaviour(NamedTuple):
    """How a server answers every request, and what a caller must then see."""

    name: str
    answer: servers.Answer
    expected: Tuple[Type[BaseException], ...]
    redirects: bool = False


TRANSPORT = (requests.ConnectionError, requests.Timeout)


def misbehaviours(elsewhere: str) -> list:
    """Every misbehaviour; ``elsewhere`` is another server a redirect may send the caller to."""
    return [
        Misbehaviour("500 with Tesla's envelope", servers.reply(500, ENVELOPE), (requests.HTTPError,)),
        Misbehaviour("502 HTML page", servers.reply(502, HTML_PAGE, content_type="text/html"),
                     (requests.HTTPError,)),
        Misbehaviour("503, Retry-After an hour", servers.reply(503, ENVELOPE, {"Retry-After": "3600"}),
                     (requests.HTTPError,)),
        Misbehaviour("429, Retry-After an hour", servers.reply(429, b"{}", {"Retry-After": "3600"}),
                     (teslapy.RateLimitError,)),
        Misbehaviour("429, Retry-After a date", servers.reply(
            429, b"{}", {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}), (teslapy.RateLimitError,)),
        Misbehaviour("429, Retry-After garbage", servers.reply(429, b"{}", {"Retry-After": "soon"}),
                     (teslapy.RateLimitError,)),
        Misbehaviour("401 to every token", servers.reply(401, b'{"error": "invalid bearer token"}'),
                     (requests.HTTPError, OAuth2Error)),
        Misbehaviour("TCP reset", servers.reset(), TRANSPORT),
        Misbehaviour("closed without a reply", servers.hang_up(), TRANSPORT),
        Misbehaviour("not HTTP", servers.raw(b"SSH-2.0-OpenSSH_9.6\r\n"), TRANSPORT),
        Misbehaviour("body cut short", servers.cut_short(200, b'{"response": []}', 5), TRANSPORT),
        Misbehaviour("no reply at all", servers.stall(), TRANSPORT),
        Misbehaviour("body trickled", servers.trickled_body(), TRANSPORT),
        Misbehaviour("headers trickled", servers.trickled_headers(), TRANSPORT),
        Misbehaviour("body without end", servers.endless_body(), (teslapy.ResponseError,) + TRANSPORT),
        Misbehaviour("nested JSON", servers.reply(200, b"[" * 100000), (teslapy.ResponseError,)),
        Misbehaviour("truncated JSON", servers.reply(200, b'{"response": {"state": "onl'),
                     (teslapy.ResponseError,)),
        Misbehaviour("JSON, not an object", servers.reply(200, b"[1, 2, 3]"), (teslapy.ResponseError,)),
        Misbehaviour("HTML page, 200", servers.reply(200, HTML_PAGE, content_type="text/html"),
                     (teslapy.ResponseError,)),
        Misbehaviour("empty 200", servers.reply(200, b""), (teslapy.ResponseError,)),
        Misbehaviour("307 to itself", servers.redirect(307, "/again"),
                     (requests.TooManyRedirects, teslapy.ResponseError), redirects=True),
        Misbehaviour("302 to another host", servers.redirect(302, elsewhere),
                     (teslapy.ResponseError,), redirects=True),
    ]


CALLS = {
    "read": lambda tesla: tesla.vehicle_list(),
    "command": lambda tesla: teslapy.Vehicle({"id_s": "1"}, tesla).command("HONK_HORN"),
    "refresh": lambda tesla: tesla.refresh_token(),
}
#: The misbehaviours whose calls last until the timeout or the deadline: they all wait
#: at once, while the others run eight at a time.
SLOW = {"no reply at all", "body trickled", "headers trickled"}


class Case(NamedTuple):
    misbehaviour: Misbehaviour
    call: str
    retry: int
    outcome: Outcome
    commands: int               # command requests a server could have acted on
    tokens_kept: bool


def run_case(misbehaviour_name: str, call: str, retry: int, directory) -> Case:
    with servers.LoopbackServer() as server, servers.LoopbackServer() as other:
        other.otherwise = servers.reply(200, b'{"response": null}')
        misbehaviour = next(item for item in misbehaviours(other.url + "elsewhere")
                            if item.name == misbehaviour_name)
        server.otherwise = misbehaviour.answer
        cache_file = str(directory / f"{abs(hash((misbehaviour_name, call, retry)))}.json")
        with held_tokens(server, cache_file, retry=retry) as tesla:
            held = dict(tesla.sso_token), dict(tesla.token)
            outcome = bounded(lambda: CALLS[call](tesla))
            kept = (dict(tesla.sso_token), dict(tesla.token)) == held
            with open(cache_file, encoding="utf-8") as handle:
                cached = json.load(handle)[EMAIL]
            kept = kept and (cached["sso"], cached["ownerapi"]) == held
        assert not any("authorization" in request.headers for request in other.requests)
    posted = [request for request in server.requests + other.requests
              if request.method == "POST" and "/command/" in request.target]
    commands = 0 if misbehaviour.redirects else len(posted)
    return Case(misbehaviour, call, retry, outcome, commands, kept)


def test_a_storm_of_misbehaving_servers_never_hangs_and_raises_only_what_is_documented(tmp_path):
    names = [item.name for item in misbehaviours("")]
    plan = [(name, call, retry) for name in names for call in CALLS for retry in (0, 2)]
    waiting = [case for case in plan if case[0] in SLOW]
    with concurrent.futures.ThreadPoolExecutor(len(waiting)) as waiters, \
            concurrent.futures.ThreadPoolExecutor(8) as pool:
        ended = waiters.map(lambda args: run_case(*args, tmp_path), waiting)
        cases = list(pool.map(lambda args: run_case(*args, tmp_path),
                              [case for case in plan if case[0] not in SLOW])) + list(ended)
    hangs = [case for case in cases if case.outcome.hung]
    undocumented = [case for case in cases if case.outcome.undocumented]
    unexpected = [case for case in cases if case.outcome.error is None
                  or not isinstance(case.outcome.error, case.misbehaviour.expected)]
    twice = [case for case in cases if case.commands > 1]
    lost = [case for case in cases if not case.tokens_kept]
    figures.record("misbehaving servers (loopback)",
                   f"{len(cases)} calls x {len(names)} misbehaviours: {len(hangs)} hangs, "
                   f"{len(undocumented)} undocumented types, {len(unexpected)} unexpected "
                   f"errors, {len(twice)} commands sent twice, {len(lost)} tokens lost")

    def show(found):
        return [(case.misbehaviour.name, case.call, case.retry, case.outcome.describe())
                for case in found]
    assert show(hangs) == []
    assert show(undocumented) == []
    assert show(unexpected) == [], "\n".join(map(str, show(unexpected)))
    assert show(twice) == [] and show(lost) == []
    limited = [case.outcome.error for case in cases
               if isinstance(case.outcome.error, teslapy.RateLimitError)]
    assert all(error.retry_after is None or error.retry_after >= 0 for error in limited)
