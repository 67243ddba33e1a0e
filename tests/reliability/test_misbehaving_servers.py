"""Servers that misbehave on loopback: every call ends in time, with a documented error.

Each case starts a :class:`~reliability.servers.LoopbackServer` that answers every
request the same bad way and points a session at it as the Owner API and the SSO. The
session holds tokens (from its cache file) and no password.
"""
from __future__ import annotations

import json
import time

import pytest

import teslapy
from teslapy import limits

from . import servers
from .checks import bounded

EMAIL = "driver@example.com"
TIMEOUT = 0.5
DEADLINE = 1.0


@pytest.fixture
def server():
    with servers.LoopbackServer() as running:
        yield running


def held_tokens(server, cache_file: str, **options) -> teslapy.Tesla:
    """A session with cached tokens for ``server`` (the SSO token is the bearer), no password."""
    now = time.time()
    owner = {"access_token": "bearer-1", "token_type": "Bearer", "expires_in": 28800,
             "created_at": int(now)}
    sso = {**owner, "refresh_token": "refresh-1", "expires_at": now + 28800}
    with open(cache_file, "w", encoding="utf-8") as handle:
        json.dump({EMAIL: {"url": server.url, "sso": sso, "ownerapi": owner,
                           "api_url": server.url}}, handle)
    options = {"timeout": TIMEOUT, "deadline": DEADLINE, **options}
    return teslapy.Tesla(EMAIL, cache_file=cache_file, sso_base_url=server.url,
                         api_base_url=server.url, **options)


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
    with held_tokens(server, str(tmp_path / "cache.json")) as tesla:
        held = dict(tesla.sso_token)
        outcome = bounded(tesla.refresh_token)
        assert isinstance(outcome.error, teslapy.ReadTimeout), outcome.describe()
        assert f"took longer than {DEADLINE:g} s in all" in str(outcome.error)
        assert tesla.sso_token == held


@pytest.mark.parametrize("call", ["VEHICLE_LIST", "HONK_HORN", "refresh"])
def test_headers_trickled_in_end_at_the_deadline(server, tmp_path, call):
    server.otherwise = servers.trickled_headers()
    with held_tokens(server, str(tmp_path / "cache.json")) as tesla:
        held = dict(tesla.sso_token)
        outcome = bounded(tesla.refresh_token if call == "refresh"
                          else lambda: tesla.api(call, {"vehicle_id": "1"}))
        assert isinstance(outcome.error, teslapy.ReadTimeout), outcome.describe()
        assert f"took longer than {DEADLINE:g} s in all" in str(outcome.error)
        assert tesla.sso_token == held and len(server.requests) == 1


def test_a_body_without_end_stops_at_the_size_limit_not_the_memory(server, tmp_path):
    server.otherwise = servers.endless_body()
    with held_tokens(server, str(tmp_path / "cache.json"), deadline=None) as tesla:
        outcome = bounded(lambda: tesla.api("VEHICLE_LIST"))
    assert isinstance(outcome.error, teslapy.ResponseError), outcome.describe()
    assert f"is larger than {limits.MAX_REPLY_BYTES} bytes" in str(outcome.error)
