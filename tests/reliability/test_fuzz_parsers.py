"""Every parser fed hostile input through the library's own calls, over real sockets.

Hypothesis draws what a server answers (token replies, error bodies, sign-in pages,
MFA replies), what a person pastes (the callback URL) and what the cache file holds. A
loopback server (:mod:`reliability.servers`) serves the drawn replies to the real
session, so each value goes through the path a user's call takes. Whatever is drawn,
the call ends with a result or an error of a documented type, loses no token and puts
no secret in an error message.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import teslapy
from teslapy import auth

from . import figures, servers
from .checks import DOCUMENTED, Outcome, bounded

EMAIL = "driver@example.com"
PASSWORD = "s3cret-Pa55word"
PASSCODE = "802417"                 # distinctive, so a fuzzed reply cannot hold it by chance
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
#: Every drawn value, by parser: how many, and how many ended in an undocumented error.
TALLY: dict = {}

# -- strategies -----------------------------------------------------------------------

json_scalars = (st.none() | st.booleans() | st.integers(-2**40, 2**40)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=12)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    blacklist_characters="\x7f"), max_size=40)
nested = st.integers(1, 200000).map(lambda depth: "[" * depth)
statuses = st.sampled_from([200, 201, 204, 301, 302, 400, 401, 403, 404, 408, 412, 418,
                            429, 500, 502, 503, 504]) | st.integers(200, 599)


def bodies(shaped) -> st.SearchStrategy:
    """Body bytes: a shaped JSON document, any JSON, any bytes, HTML, or nesting."""
    return st.one_of(shaped.map(json.dumps), json_values.map(json.dumps), st.binary(max_size=200),
                     st.text(max_size=100), nested,
                     st.just("<html><body><h1>502 Bad Gateway</h1></body></html>")
                     ).map(lambda text: text.encode("utf-8", "surrogatepass")
                           if isinstance(text, str) else text)


def maybe(values) -> st.SearchStrategy:
    return values | json_values


token_bodies = bodies(st.fixed_dictionaries({}, optional={
    "access_token": maybe(st.sampled_from(["eyJ.a.b", ""]) | st.text(max_size=20)),
    "refresh_token": maybe(st.text(max_size=20)),
    "expires_in": maybe(st.integers(-10, 10**9) | st.sampled_from(["28800", "NaN", "1e999"])),
    "token_type": maybe(st.just("Bearer")),
    "error": maybe(st.sampled_from(["invalid_grant", "login_required", "invalid_request",
                                    "unsupported_grant_type", ""])),
    "error_description": maybe(st.text(max_size=30)),
}))
error_bodies = bodies(st.fixed_dictionaries({}, optional={
    "response": json_values, "error": maybe(st.sampled_from([
        "vehicle unavailable", "forbidden, see https://developer.tesla.com/docs/fleet-api",
        "vehicle command protocol required", "invalid bearer token"])),
    "error_description": maybe(st.text(max_size=30))}))
reply_headers = st.fixed_dictionaries({}, optional={
    "Retry-After": header_text | st.sampled_from(["3600", "-1", "inf", "nan", "1e999",
                                                  "Wed, 21 Oct 2099 07:28:00 GMT"]),
    "Content-Type": st.sampled_from(["application/json", "text/html", "text/plain"]) | header_text,
    "Location": st.sampled_from(["/elsewhere", "\x80"]) | header_text,
})
HTML_PIECES = ['<input name="transaction_id" value="tx1">', '<input name="captcha">',
               '<input type="hidden" name="_csrf" value="c">', "<form>", "</form>", "<script>",
               "</script>", "<![", "<![CDATA[", "]]>", "<!--", "-->", "<!DOCTYPE", "&#x", "&#",
               "&amp;", "<input", 'value="', "'", ">", "<", "\n",
               'var messages = {"_": ["Recaptcha is required"]};\n',
               'var messages = {"_": "Invalid credentials"};\n', "var messages = {"]
html_pages = st.lists(st.sampled_from(HTML_PIECES) | st.text(max_size=15), max_size=25).map("".join)


# -- fixtures and checks --------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with servers.LoopbackServer() as running:
        yield running


@pytest.fixture(scope="module")
def evil():
    """A server no code, verifier or token may ever reach."""
    with servers.LoopbackServer() as running:
        yield running


def check(parser: str, outcome: Outcome, *also_documented: type) -> None:
    """The call ended, with a result or a documented error that keeps every secret."""
    error = outcome.error
    documented = error is None or (isinstance(error, DOCUMENTED + also_documented)
                                   and not isinstance(error, UnicodeError))
    calls, bad = TALLY.get(parser, (0, 0))
    TALLY[parser] = (calls + 1, bad + (outcome.hung or not documented))
    figures.record(f"fuzzed parser: {parser}", "%d calls, %d undocumented or hung" % TALLY[parser])
    assert not outcome.hung
    assert documented, f"{type(error).__name__}: {error}"
    if error is None:
        return
    for secret in (PASSWORD, PASSCODE, "refresh-1", "bearer-1"):
        assert secret not in str(error) and secret not in repr(error)


def cached_entry(cache_file: str) -> dict:
    with open(cache_file, encoding="utf-8") as handle:
        return json.load(handle)[EMAIL]


def fresh_directory(tmp_path) -> Path:
    """A directory of its own for one drawn example (they all share ``tmp_path``)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def same_json(first, second) -> bool:
    return json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def restart(server, *answers, otherwise=servers.reply(500)) -> None:
    server.reset()
    server.then(*answers)
    server.otherwise = otherwise


# -- the SSO token endpoint ---------------------------------------------------------------


@FUZZ
@given(status=statuses, body=token_bodies, headers=reply_headers)
@example(status=200, body='{"access_token": "\u20acuro", "expires_in": 60}'.encode(), headers={})
@example(status=200, body=b'{"access_token": "a\\nb", "expires_in": 60}', headers={})
@example(status=200, body=b'{"access_token": "eyJ.a.b", "expires_in": "1e999"}', headers={})
def test_any_token_reply_renews_or_fails_clearly_keeping_the_tokens(server, tmp_path, status,
                                                                     body, headers):
    cache_file = str(tmp_path / "cache.json")
    restart(server, servers.reply(status, body, headers),
            otherwise=servers.reply(200, b'{"response": []}'))
    with servers.session_on(server, cache_file, timeout=2) as tesla:
        held = dict(tesla.sso_token), dict(tesla.token)
        outcome = bounded(tesla.refresh_token)
        check("token reply", outcome)
        if outcome.error is not None:
            assert (tesla.sso_token, tesla.token) == held
            assert (cached_entry(cache_file)["sso"], cached_entry(cache_file)["ownerapi"]) == held
            return
        assert same_json(cached_entry(cache_file)["sso"], tesla.sso_token)
        assert math.isfinite(tesla.sso_token.get("expires_at", 0))   # comparable to others
        check("token reply", bounded(tesla.vehicle_list))      # the new token as a bearer


# -- error bodies of the Owner API ------------------------------------------------------


@FUZZ
@given(status=statuses, body=error_bodies, headers=reply_headers,
       call=st.sampled_from(["list", "data", "command"]))
@example(status=302, body=b"", headers={"Location": "\x80"}, call="list")
@example(status=429, body=b"{}", headers={"Retry-After": "inf"}, call="list")
@example(status=429, body=b"{}", headers={"Retry-After": "nan"}, call="command")
def test_any_api_reply_is_a_result_or_a_documented_error(server, tmp_path, status, body, headers,
                                                         call):
    restart(server, servers.reply(status, body, headers))
    with servers.session_on(server, str(tmp_path / "cache.json"), timeout=2) as tesla:
        car = teslapy.Vehicle({"id_s": "1", "display_name": "Fuzz"}, tesla)
        outcome = bounded({"list": tesla.vehicle_list, "data": car.get_vehicle_data,
                           "command": lambda: car.command("HONK_HORN")}[call])
    check("API reply", outcome)
    if status >= 400 and status != 401:
        assert isinstance(outcome.error, teslapy.HTTPError), outcome.describe()
    if isinstance(outcome.error, teslapy.RateLimitError):
        wait = outcome.error.retry_after
        assert wait is None or (math.isfinite(wait) and wait >= 0), wait


# -- the sign-in pages and MFA ------------------------------------------------------------


def signing_in(server, directory: Path) -> teslapy.Tesla:
    return teslapy.Tesla(EMAIL, PASSWORD, cache_file=str(directory / "cache.json"),
                         sso_base_url=server.url, api_base_url=server.url, timeout=2,
                         passcode_getter=lambda: PASSCODE,
                         factor_selector=lambda factors: factors[0],
                         captcha_solver=lambda image: "abc")


SIGN_IN_ERRORS = (ValueError, NotImplementedError)     # documented for the password sign-in
page_answers = st.builds(lambda status, page: servers.reply(status, page, content_type="text/html"),
                         st.sampled_from([200, 200, 200, 400, 403, 500]), html_pages)
next_answers = page_answers | st.builds(
    lambda location: servers.redirect(302, location),
    st.sampled_from([auth.REDIRECT_URI + "?code=c&state=s", "/oauth2/v3/authorize?again=1"])
    | header_text)


@FUZZ
@given(first=page_answers, after=st.lists(next_answers, max_size=3))
@example(first=servers.reply(200, '<input name="transaction_id" value="tx1">'),
         after=[servers.redirect(302, "\x80")])
def test_any_sign_in_page_signs_in_or_fails_clearly(server, tmp_path, first, after):
    restart(server, first, *after)
    directory = fresh_directory(tmp_path)
    with signing_in(server, directory) as tesla:
        outcome = bounded(tesla.fetch_token)
    check("sign-in page", outcome, *SIGN_IN_ERRORS)
    assert outcome.error is None or not (directory / "cache.json").exists()


@FUZZ
@given(factors=error_bodies | bodies(st.fixed_dictionaries({"data": st.lists(
           st.fixed_dictionaries({}, optional={"id": maybe(st.text(max_size=8)),
                                               "name": maybe(st.text(max_size=8)),
                                               "factorType": maybe(st.just("token:software"))}),
           max_size=3)})),
       verify=bodies(st.fixed_dictionaries({}, optional={
           "data": maybe(st.fixed_dictionaries({}, optional={"valid": json_values})),
           "error": maybe(st.fixed_dictionaries({}, optional={"message": json_values}))})),
       finish=next_answers)
def test_any_mfa_reply_signs_in_or_fails_clearly(server, tmp_path, factors, verify, finish):
    sign_in_form = servers.reply(200, '<form><input name="transaction_id" value="tx1"></form>',
                                 content_type="text/html")
    passcode_page = servers.reply(200, "<html><body>Enter your passcode</body></html>",
                                  content_type="text/html")
    restart(server, sign_in_form, passcode_page, servers.reply(200, factors),
            servers.reply(200, verify), finish)
    directory = fresh_directory(tmp_path)
    with signing_in(server, directory) as tesla:
        outcome = bounded(tesla.fetch_token)
    check("MFA reply", outcome, *SIGN_IN_ERRORS)
    assert outcome.error is None or not (directory / "cache.json").exists()


# -- the callback URL a person pastes ---------------------------------------------------------

query_values = st.text(max_size=20) | st.sampled_from(["", "%", "%zz", "&", "=", "#", "\x00"])


@FUZZ
@given(prefix=st.sampled_from([auth.REDIRECT_URI, auth.LEGACY_REDIRECT_URI, "", "https://x/"])
       | st.text(max_size=20),
       pairs=st.lists(st.tuples(st.sampled_from(["code", "state", "issuer", "error",
                                                 "error_description"]) | st.text(max_size=6),
                                query_values), max_size=6),
       own_state=st.booleans(), issuer=st.sampled_from(["none", "own", "evil", "text"]),
       encode=st.booleans())
def test_any_pasted_callback_gives_a_code_for_this_sign_in_or_a_clear_error(
        server, evil, tmp_path, prefix, pairs, own_state, issuer, encode):
    restart(server)
    evil.reset()
    with teslapy.Tesla(EMAIL, cache_file=str(tmp_path / "cache.json"), sso_base_url=server.url,
                       api_base_url=server.url, timeout=2) as tesla:
        state = dict(parse_qsl(urlsplit(tesla.authorization_url()).query))["state"]
        pairs = list(pairs) + ([("state", state)] if own_state else [])
        pairs += {"none": [], "own": [("issuer", server.url + "oauth2/v3")],
                  "evil": [("issuer", evil.url + "oauth2/v3")], "text": [("issuer", "x:y")]}[issuer]
        text = prefix + "?" + "&".join(
            (quote(key) + "=" + quote(value)) if encode else f"{key}={value}" for key, value in pairs)
        outcome = bounded(lambda: tesla.fetch_token(authorization_response=text))
    check("callback URL", outcome, ValueError)
    assert evil.requests == []                  # nothing goes to a host the sign-in did not name
    for request in server.requests:             # the code sent is the one pasted, for our state
        form = dict(parse_qsl(request.body.decode()))
        assert form["grant_type"] == "authorization_code" and form["code"]
        assert auth.parse_callback(text, state).code == form["code"]


# -- the cache file --------------------------------------------------------------------

cache_documents = st.dictionaries(
    st.sampled_from([EMAIL, "other@example.com"]) | st.text(max_size=10),
    maybe(st.fixed_dictionaries({}, optional={
        "url": maybe(st.just("http://127.0.0.1:9/")), "api_url": json_values,
        "sso": maybe(st.fixed_dictionaries({}, optional={
            "access_token": maybe(st.text(max_size=10)), "refresh_token": json_values,
            "expires_at": json_values})),
        "ownerapi": maybe(st.fixed_dictionaries({}, optional={
            "access_token": maybe(st.text(max_size=10)), "expires_in": json_values,
            "created_at": json_values}))})),
    max_size=3)


@FUZZ
@given(content=bodies(cache_documents))
@example(content=json.dumps({EMAIL: {"ownerapi": {"access_token": "\u20acuro"},
                                     "sso": {"access_token": "a b", "refresh_token": "r"}}}).encode())
def test_any_cache_file_is_used_ignored_or_moved_aside_never_lost(server, tmp_path, content):
    directory = fresh_directory(tmp_path)
    cache_file = directory / "cache.json"
    cache_file.write_bytes(content)
    restart(server, otherwise=servers.reply(200, b'{"response": []}'))
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):
        document = None
    with teslapy.Tesla(EMAIL, cache_file=str(cache_file), sso_base_url=server.url,
                       api_base_url=server.url, timeout=2) as tesla:
        outcome = bounded(lambda: tesla.authorized and tesla.vehicle_list())
        check("cache file", outcome)
        if not isinstance(document, dict) and content.strip():
            aside = [name for name in os.listdir(directory) if ".corrupt-" in name]
            assert len(aside) == 1 and (directory / aside[0]).read_bytes() == content
            return
        check("cache file", bounded(tesla.logout))
    if isinstance(document, dict) and cache_file.exists():
        kept = json.loads(cache_file.read_bytes())
        assert same_json(kept, {key: value for key, value in document.items() if key != EMAIL})
