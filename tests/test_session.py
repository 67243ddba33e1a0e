"""The Tesla session against the simulator: settings, requests, errors, refresh and retries."""
from __future__ import annotations

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from urllib3.util.retry import Retry

import teslapy
from teslapy import HTTPError, InvalidGrantError, ResponseError, prompts
from teslasim import totp

PASSWORD = "starship"


def read(path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def by_name(items, name):
    return next(item for item in items if item["display_name"] == name)


def record_requests(tesla):
    """Collect every request the session sends (its prepared form), via a response hook."""
    seen = []
    tesla.hooks["response"].append(lambda response, *args, **kwargs: seen.append(response.request))
    return seen


# -- settings ------------------------------------------------------------------------------------


def test_hosts_default_to_tesla_then_env_then_arguments(monkeypatch, tmp_path):
    with teslapy.Tesla("a@b.c", cache_file=str(tmp_path / "c.json")) as tesla:
        assert tesla.sso_base_url == "https://auth.tesla.com/"
        assert tesla.api_base_url == "https://owner-api.teslamotors.com/"
        assert tesla.streaming_base_url == "wss://streaming.vn.teslamotors.com/streaming/"
        assert tesla.compositor_url == "https://static-assets.tesla.com/v1/compositor/"
        assert tesla.timeout == 10 and tesla.verify is True
        assert tesla.headers["User-Agent"] == "teslapy/" + teslapy.__version__
        assert tesla.passcode_getter is prompts.ask_passcode
        assert tesla.factor_selector is prompts.ask_factor
        assert tesla.captcha_solver is prompts.ask_captcha
        assert tesla.authenticator is prompts.ask_for_callback
    monkeypatch.setenv("TESLAPY_SSO_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("TESLAPY_API_BASE_URL", "http://127.0.0.1:2/")
    monkeypatch.setenv("TESLAPY_STREAMING_BASE_URL", "ws://127.0.0.1:3/streaming/")
    monkeypatch.setenv("TESLAPY_COMPOSITOR_URL", "http://127.0.0.1:4/v1/compositor/")
    with teslapy.Tesla("a@b.c", api_base_url="http://127.0.0.1:5/", verify=False,
                       proxy="http://127.0.0.1:6", user_agent="mine/1", timeout=3) as tesla:
        assert tesla.sso_base_url == "http://127.0.0.1:1/"
        assert tesla.api_base_url == "http://127.0.0.1:5/"
        assert tesla.streaming_base_url == "ws://127.0.0.1:3/streaming/"
        assert tesla.compositor_url == "http://127.0.0.1:4/v1/compositor/"
        assert tesla.verify is False and tesla.timeout == 3
        assert tesla.proxies == {"http": "http://127.0.0.1:6", "https": "http://127.0.0.1:6"}
        assert tesla.headers["User-Agent"] == "mine/1"


class ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-http forward proxy that records what passes through it."""

    seen: list = []

    def forward(self) -> None:
        target = urlsplit(self.path)                # a proxy gets the absolute URL
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
        self.seen.append((self.command, self.path, headers.get("User-Agent"), body))
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        try:
            path = target.path + ("?" + target.query if target.query else "")
            upstream.request(self.command, path, body=body or None, headers=headers)
            reply = upstream.getresponse()
            content = reply.read()
            self.send_response(reply.status, reply.reason)
            for name, value in reply.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(content)
        finally:
            upstream.close()

    do_GET = do_POST = forward

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ForwardProxy)
    ForwardProxy.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ForwardProxy.seen
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_the_proxy_and_user_agent_carry_the_login_and_the_api_calls(make_tesla, sim, proxy, world):
    url, seen = proxy
    secret = world.account("solo@tesla.com").factors[0].secret
    tesla = make_tesla("solo@tesla.com", PASSWORD, proxy=url, user_agent="probe/1",
                       passcode_getter=lambda: totp.passcode(secret, world.clock.now()))
    tesla.fetch_token()
    assert tesla.vehicle_list() == [] and tesla.authorized      # this account has no car
    paths = [urlsplit(target).path for _, target, _, _ in seen]
    assert paths == ["/oauth2/v3/authorize", "/oauth2/v3/authorize", "/oauth2/v3/authorize/mfa/factors",
                     "/oauth2/v3/authorize/mfa/verify", "/oauth2/v3/authorize", "/oauth2/v3/token",
                     "/oauth/token", "/api/1/vehicles"]
    assert {agent for _, _, agent, _ in seen} == {"probe/1"}
    # PKCE as RFC 7636 has it: the token request's verifier hashes to the authorize challenge
    authorize = dict(parse_qsl(urlsplit(seen[0][1]).query))
    verifier = dict(parse_qsl(seen[5][3].decode()))["code_verifier"]
    assert authorize["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
    digest = hashlib.sha256(verifier.encode()).digest()
    assert authorize["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_the_environment_s_proxy_is_read_once_when_the_session_is_made(make_tesla, sim, proxy, monkeypatch):
    url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY")
    tesla = make_tesla()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")     # later changes do not count
    tesla.fetch_token()
    assert tesla.vehicle_list()
    assert [urlsplit(target).path for _, target, _, _ in seen][-1] == "/api/1/vehicles"


def test_no_proxy_is_honoured(make_tesla, sim, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")     # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    tesla = make_tesla()
    tesla.fetch_token()
    assert tesla.vehicle_list()


def test_an_explicit_verify_holds_against_the_ca_bundle_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "env.pem"))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "curl.pem"))
    with teslapy.Tesla("a@b.c", verify=False, cache_file=str(tmp_path / "c.json")) as tesla:
        assert tesla.verify is False
    with teslapy.Tesla("a@b.c", verify="mine.pem", cache_file=str(tmp_path / "c.json")) as tesla:
        assert tesla.verify == "mine.pem"
    with teslapy.Tesla("a@b.c", cache_file=str(tmp_path / "c.json")) as tesla:
        assert tesla.verify == str(tmp_path / "env.pem")        # True: the environment's bundle
    monkeypatch.setenv("TESLAPY_CA_BUNDLE", str(tmp_path / "sim.pem"))
    with teslapy.Tesla("a@b.c", cache_file=str(tmp_path / "c.json")) as tesla:
        assert tesla.verify == str(tmp_path / "sim.pem")


def test_the_package_exports_its_classes_and_the_request_and_oauth_errors(tmp_path):
    import oauthlib.oauth2.rfc6749.errors as oauth_errors
    import requests.exceptions

    for name in ("Tesla", "Vehicle", "Product", "Battery", "SolarPanel", "JsonDict",
                 "VehicleError", "ProductError", "__version__"):
        assert name in teslapy.__all__ and hasattr(teslapy, name), name
    assert teslapy.HTTPError is requests.exceptions.HTTPError
    assert teslapy.ConnectionError is requests.exceptions.ConnectionError
    assert teslapy.CustomOAuth2Error is oauth_errors.CustomOAuth2Error
    assert teslapy.InvalidGrantError is oauth_errors.InvalidGrantError
    assert issubclass(teslapy.Battery, teslapy.Product) and issubclass(teslapy.Tesla, requests.Session)
    assert issubclass(teslapy.StreamError, teslapy.TeslaError)
    # the library never loads the simulator; what Tesla(...) does not need waits for first use
    later = ("teslasim", "oauthlib", "requests_oauthlib", "httpx", "cryptography", "websocket",
             "webbrowser", "html.parser", "selenium", "teslapy.streaming", "teslapy.vcp",
             "teslapy.login", "teslapy.compat")
    script = ("import sys, teslapy; teslapy.Tesla('a@b.c').close(); "
              f"print(sorted(m for m in sys.modules if m.startswith({later!r})))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=str(tmp_path), timeout=60,
                            env={**os.environ, "PYTHONPATH": str(Path(teslapy.__file__).parents[1])})
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_email_is_required():
    with pytest.raises(ValueError, match="email"):
        teslapy.Tesla("")


def test_retry_int_and_retry_instance_are_mounted_for_http_and_https(tmp_path):
    mine = Retry(total=4, backoff_factor=0)
    with teslapy.Tesla("a@b.c", retry=mine, cache_file=str(tmp_path / "c")) as tesla:
        assert tesla.get_adapter("https://x/").max_retries is mine
        assert tesla.get_adapter("http://x/").max_retries is mine
    with teslapy.Tesla("a@b.c", retry=2, cache_file=str(tmp_path / "c")) as tesla:
        retry = tesla.get_adapter("https://x/").max_retries
        assert (retry.total, retry.connect, retry.read) == (2, 2, 2)
        assert tesla.get_adapter("http://x/") is tesla.get_adapter("https://x/")


def test_retries_ride_over_server_errors(make_tesla, sim):
    tesla = make_tesla(retry=Retry(total=2, status_forcelist=[503], backoff_factor=0,
                                   raise_on_status=False))
    tesla.fetch_token()
    fault = sim.faults.add(service="api", path="^/api/1/vehicles$", status=503, times=2)
    assert len(tesla.vehicle_list()) == 3
    assert fault.hits == 2
    counted = make_tesla(retry=1)
    counted.fetch_token()
    fault = sim.faults.add(service="api", path="^/api/1/vehicles$", status=502, times=1)
    assert len(counted.vehicle_list()) == 3 and fault.hits == 1


def test_without_retries_a_server_error_is_raised(tesla, sim):
    sim.faults.add(service="api", path="^/api/1/vehicles$", status=503, times=1)
    with pytest.raises(HTTPError) as caught:
        tesla.vehicle_list()
    assert str(caught.value) == f"503 Server Error: Service Unavailable for url: {tesla.api_base_url}api/1/vehicles"
    assert caught.value.response.status_code == 503


# -- requests and replies ---------------------------------------------------------------------


def test_relative_urls_go_to_the_api_with_the_bearer_and_return_json_dicts(tesla):
    seen = record_requests(tesla)
    reply = tesla.get("api/1/vehicles")
    assert isinstance(reply, teslapy.JsonDict) and reply["count"] == 3
    assert isinstance(reply["response"][0], teslapy.JsonDict)
    assert str(reply).startswith('{\n    "response": [')        # prints as indented JSON
    assert seen[0].url == tesla.api_base_url + "api/1/vehicles"
    assert seen[0].headers["Authorization"] == "Bearer " + tesla.token["access_token"]
    assert seen[0].headers["User-Agent"].startswith("teslapy/")


def test_the_bearer_goes_only_to_the_api_host(tesla):
    seen = record_requests(tesla)
    response = tesla.get(tesla.compositor_url + "?model=m3&view=STUD_3QTR&size=64&options=PPSW",
                         serialize=False)
    assert response.status_code == 200
    assert "Authorization" not in seen[0].headers


def test_api_sends_get_arguments_as_query_and_others_as_json(tesla, world):
    seen = record_requests(tesla)
    car = by_name(tesla.vehicle_list(), "Tim's Tesla")
    tesla.api("VEHICLE_DATA", {"vehicle_id": car["id_s"]}, endpoints="charge_state", skip=None)
    assert seen[-1].url.endswith(f"/api/1/vehicles/{car['id_s']}/vehicle_data?endpoints=charge_state")
    reply = tesla.api("CHANGE_CHARGE_LIMIT", {"vehicle_id": car["id_s"]}, percent=80)
    assert reply["response"]["result"] is True
    assert json.loads(seen[-1].body) == {"percent": 80}
    assert seen[-1].headers["Content-Type"] == "application/json"
    data = tesla.api("VEHICLE_DATA", {"vehicle_id": car["id_s"]})["response"]
    assert data["charge_state"]["charge_limit_soc"] == 80


def test_api_logs_in_first_when_no_token_is_held(make_tesla):
    tesla = make_tesla()
    assert not tesla.authorized
    assert tesla.api("PRODUCT_LIST")["count"] == 5
    assert tesla.authorized


def test_products_are_split_by_kind(tesla):
    cars = tesla.vehicle_list()
    assert all(isinstance(car, teslapy.Vehicle) and car.tesla is tesla for car in cars)
    (battery,) = tesla.battery_list()
    assert isinstance(battery, teslapy.Battery) and battery["site_name"] == "Elon's House"
    (solar,) = tesla.solar_list()
    assert isinstance(solar, teslapy.SolarPanel) and solar["resource_type"] == "solar"
    assert battery.tesla is tesla and solar.tesla is tesla


def test_a_sleeping_car_gives_tesla_s_408_message(tesla):
    nikola = by_name(tesla.vehicle_list(), "Nikola")
    with pytest.raises(teslapy.VehicleUnavailableError) as caught:
        tesla.api("VEHICLE_DATA", {"vehicle_id": nikola["id_s"]})
    assert isinstance(caught.value, HTTPError) and caught.value.response.status_code == 408
    assert str(caught.value) == (
        '408 Client Error: vehicle unavailable: {:error=>"vehicle unavailable:"} for url: '
        f"{tesla.api_base_url}api/1/vehicles/{nikola['id_s']}/vehicle_data. "
        "The car is asleep or offline: wake it (sync_wake_up(), cli.py -w) and try again.")


def test_an_unknown_route_gives_the_error_envelope_text(tesla):
    with pytest.raises(HTTPError) as caught:
        tesla.get("api/1/no_such_thing")
    assert str(caught.value) == f"404 Client Error: not_found for url: {tesla.api_base_url}api/1/no_such_thing"


def test_error_text_joins_the_non_empty_values(tesla, sim):
    sim.faults.add(service="api", path="^/api/1/vehicles$", status=400,
                   body={"response": None, "error": "invalid_endpoint.", "error_description": "Try later..."})
    with pytest.raises(HTTPError) as caught:
        tesla.vehicle_list()
    assert str(caught.value).startswith("400 Client Error: invalid_endpoint. Try later for url: ")


def test_a_non_json_error_keeps_the_reason_phrase(tesla, sim):
    sim.faults.add(service="api", path="^/api/1/vehicles$", status=502, body="<html>upstream</html>")
    with pytest.raises(HTTPError, match="^502 Server Error: Bad Gateway for url: "):
        tesla.vehicle_list()


@pytest.mark.parametrize("body, message", [
    ("<html>maintenance</html>", "GET /api/1/vehicles: the reply (200, text/plain; charset=utf-8) is not JSON"),
    ({"response": "not a list"}, "VEHICLE_LIST: the reply holds no response list"),
    ({"count": 0}, "VEHICLE_LIST: the reply holds no response list"),
    ("", "GET /api/1/vehicles: the reply (200) is empty"),
    ([{"display_name": "x"}], "VEHICLE_LIST: the reply holds no response list"),
])
def test_a_broken_reply_is_a_clear_error_not_a_key_error(tesla, sim, body, message):
    sim.faults.add(service="api", path="^/api/1/vehicles$", status=200, body=body)
    with pytest.raises(ResponseError) as caught:
        tesla.vehicle_list()
    assert str(caught.value) == message


@pytest.mark.parametrize("status, body, error, message", [
    (200, "", ResponseError, "GET /api/1/vehicles/{id}/vehicle_data: the reply (200) is empty"),
    (200, "[1, 2", ResponseError, "GET /api/1/vehicles/{id}/vehicle_data: the reply (200, text/plain"),
    (500, "<html><body>Internal error</body></html>", HTTPError,
     "500 Server Error: Internal Server Error for url: "),
    (503, "", HTTPError, "503 Server Error: Service Unavailable for url: "),
])
def test_a_broken_reply_to_a_named_endpoint_is_a_typed_error(tesla, sim, status, body, error, message):
    car = by_name(tesla.vehicle_list(), "Tim's Tesla")
    sim.faults.add(service="api", path="/vehicle_data$", status=status, body=body)
    with pytest.raises(error) as caught:
        tesla.api("VEHICLE_DATA", {"vehicle_id": car["id_s"]})
    assert type(caught.value) is error
    assert str(caught.value).startswith(message.replace("{id}", car["id_s"]))
    assert caught.value.response.status_code == status


def test_serialize_false_returns_the_response(tesla):
    response = tesla.request("GET", "api/1/vehicles", serialize=False)
    assert response.status_code == 200 and response.json()["count"] == 3


def test_context_manager_closes_the_session(make_tesla):
    with make_tesla() as tesla:
        tesla.fetch_token()
        assert tesla.vehicle_list()
        pools = tesla.get_adapter(tesla.api_base_url).poolmanager.pools
        assert len(pools) == 1                # a kept-alive connection to the API
    assert len(pools) == 0                    # closed on leaving the block
    assert tesla.authorized               # tokens stay with the object; only connections close


def test_the_timeout_applies_to_the_login_and_to_api_calls(make_tesla, sim):
    tesla = make_tesla(timeout=0.2)
    slow_sso = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=None, delay=1)
    with pytest.raises(teslapy.ReadTimeout):
        tesla.fetch_token()
    assert slow_sso.hits == 1 and not tesla.authorized
    tesla.fetch_token()
    slow_api = sim.faults.add(service="api", path="^/api/1/vehicles$", status=None, delay=1)
    with pytest.raises(teslapy.ReadTimeout):
        tesla.vehicle_list()
    assert slow_api.hits == 1


# -- expiry and refresh -----------------------------------------------------------------------------


def count_token_calls(sim):
    """A pass-through fault that only counts calls to the SSO token endpoint."""
    return sim.faults.add(service=None, path="/oauth2/v3/token$", status=None, times=None)


def test_an_expired_cached_token_is_refreshed_before_use(make_tesla, sim, cache_file):
    make_tesla().fetch_token()
    data = read(cache_file)
    old = data["elon@tesla.com"]
    old["ownerapi"]["created_at"] -= old["ownerapi"]["expires_in"] + 10     # expired 10 s ago
    with open(cache_file, "w") as handle:
        json.dump(data, handle)
    token_calls = count_token_calls(sim)
    later = make_tesla("elon@tesla.com", "")
    assert later.token_expired()
    assert len(later.vehicle_list()) == 3
    assert token_calls.hits == 1
    assert later.token["access_token"] != old["ownerapi"]["access_token"]
    assert not later.token_expired()
    saved = read(cache_file)["elon@tesla.com"]
    assert saved["ownerapi"] == later.token
    assert saved["sso"]["refresh_token"] != old["sso"]["refresh_token"]     # rotated and kept


@pytest.mark.parametrize("lifetime, age, expired", [
    (28800, 28800 - 61, False), (28800, 28800 - 59, True),      # the last minute of 8 hours
    (20, 17.5, False), (20, 18.5, True),                        # the last tenth of 20 s
])
def test_a_token_is_renewed_in_its_last_minute_or_last_tenth_of_its_life(make_tesla, lifetime, age, expired):
    tesla = make_tesla()
    tesla.token = {"access_token": "a", "expires_in": lifetime, "created_at": time.time() - age}
    assert tesla.token_expired() is expired


def test_a_token_the_server_expired_is_refreshed_once_and_the_call_retried(tesla, sim, world):
    before = tesla.token["access_token"]
    world.expire_bearers()
    token_calls = count_token_calls(sim)
    assert len(tesla.vehicle_list()) == 3
    assert token_calls.hits == 1 and tesla.token["access_token"] != before


def test_a_401_that_refreshing_does_not_cure_is_raised_after_one_retry(tesla, sim):
    refused = sim.faults.add(service="api", path="^/api/1/vehicles$", status=401, times=None,
                             body={"response": None, "error": "invalid bearer token", "error_description": ""})
    token_calls = count_token_calls(sim)
    with pytest.raises(HTTPError, match="^401 Client Error: invalid bearer token for url: "):
        tesla.vehicle_list()
    assert refused.hits == 2 and token_calls.hits == 1


def test_valid_access_token_logs_in_or_refreshes_as_needed(make_tesla):
    tesla = make_tesla()
    first = tesla.valid_access_token()
    assert first == tesla.token["access_token"]
    assert tesla.valid_access_token() == first              # still valid: no new token
    tesla.token = {**tesla.token, "created_at": 1}
    second = tesla.valid_access_token()
    assert second != first and not tesla.token_expired()


def test_refresh_tokens_rotate_and_the_used_one_dies_after_the_grace_period(tesla, world, cache_file):
    used = tesla.sso_token["refresh_token"]
    tesla.refresh_token()
    fresh = tesla.sso_token["refresh_token"]
    assert fresh != used
    world.clock.advance(world.settings.refresh_grace_period + 1)
    working = dict(tesla.token), dict(tesla.sso_token)
    tesla.sso_token = {**tesla.sso_token, "refresh_token": used}
    with pytest.raises(InvalidGrantError, match="already been used"):
        tesla.refresh_token()
    assert tesla.token == working[0]                           # the working token is untouched
    assert read(cache_file)["elon@tesla.com"]["sso"]["refresh_token"] == fresh
    tesla.sso_token = working[1]
    tesla.refresh_token()                                      # the rotated one works
    assert tesla.vehicle_list()


def test_a_failed_refresh_keeps_the_working_tokens(tesla, sim, cache_file):
    before_cache = read(cache_file)
    before = dict(tesla.token), dict(tesla.sso_token)
    sim.faults.add(service="sso", path="/oauth2/v3/token$", status=503, times=1)
    with pytest.raises(HTTPError, match="^503 Server Error: Service Unavailable"):
        tesla.refresh_token()
    assert (tesla.token, tesla.sso_token) == before
    assert read(cache_file) == before_cache
    assert len(tesla.vehicle_list()) == 3                     # the old token still works
    tesla.refresh_token()
    assert tesla.token["access_token"] != before[0]["access_token"]


def test_a_failed_exchange_during_refresh_keeps_the_owner_token_and_the_rotated_sso_token(tesla, sim, cache_file):
    owner_before = dict(tesla.token)
    used = tesla.sso_token["refresh_token"]
    sim.faults.add(service="api", path="^/oauth/token$", status=500, times=1)
    with pytest.raises(HTTPError, match="^500 Server Error"):
        tesla.refresh_token()
    assert tesla.token == owner_before
    assert tesla.sso_token["refresh_token"] != used
    saved = read(cache_file)["elon@tesla.com"]
    assert saved["ownerapi"] == owner_before and saved["sso"]["refresh_token"] != used
    sim.world.clock.advance(sim.world.settings.refresh_grace_period + 1)
    tesla.refresh_token()                                     # the kept rotated token works
    assert tesla.token["access_token"] != owner_before["access_token"]


@pytest.mark.parametrize("body, error", [
    ([], ResponseError), ("<html>maintenance</html>", ResponseError),
    ({"token_type": "Bearer"}, teslapy.MissingTokenError),
])
def test_a_broken_refresh_reply_keeps_the_working_tokens(tesla, sim, cache_file, body, error):
    before_cache = read(cache_file)
    before = dict(tesla.token), dict(tesla.sso_token)
    sim.faults.add(service="sso", path="/oauth2/v3/token$", status=200, body=body)
    with pytest.raises(error):
        tesla.refresh_token()
    assert (tesla.token, tesla.sso_token) == before
    assert read(cache_file) == before_cache
    assert len(tesla.vehicle_list()) == 3


REFUSED_REFRESH = {"error": "invalid_grant", "error_description": "The refresh_token is revoked"}


def test_a_refused_refresh_token_means_a_new_login_when_the_password_is_known(tesla, sim, cache_file):
    old = dict(tesla.token)
    tesla.token = {**old, "created_at": 1}                      # expired: needs a refresh
    refused = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=400,
                             body=REFUSED_REFRESH, times=1)
    assert len(tesla.vehicle_list()) == 3
    assert refused.hits == 1                                    # the refresh was refused ...
    assert tesla.token["access_token"] != old["access_token"]   # ... and a login followed
    assert read(cache_file)["elon@tesla.com"]["ownerapi"] == tesla.token


def test_a_refused_refresh_token_without_a_password_raises_and_keeps_the_cache(tesla, make_tesla, sim, cache_file):
    cached_only = make_tesla("elon@tesla.com", None)
    cached_only.token = {**cached_only.token, "created_at": 1}
    before = read(cache_file)
    sim.faults.add(service="sso", path="/oauth2/v3/token$", status=400, body=REFUSED_REFRESH)
    with pytest.raises(InvalidGrantError, match="revoked"):
        cached_only.vehicle_list()
    assert read(cache_file) == before


def test_refresh_without_a_refresh_token_is_a_value_error(make_tesla):
    with pytest.raises(ValueError, match="No refresh token is held for elon@tesla.com"):
        make_tesla().refresh_token()


def test_another_process_s_refresh_is_adopted_instead_of_refreshing_again(make_tesla, sim):
    first = make_tesla()
    first.fetch_token()
    second = make_tesla("elon@tesla.com", "")
    assert second.authorized
    expired = {**first.token, "created_at": 1}
    second.token = expired
    first.refresh_token()                                      # "another process" refreshes
    token_calls = count_token_calls(sim)
    assert second.vehicle_list()
    assert token_calls.hits == 0 and second.token == first.token


def test_a_token_with_unknown_expiry_is_used_until_the_api_refuses_it(tesla, sim, world):
    tesla.token = {key: value for key, value in tesla.token.items() if key != "expires_in"}
    assert not tesla.token_expired()
    token_calls = count_token_calls(sim)
    assert tesla.vehicle_list() and token_calls.hits == 0
    world.expire_bearers()
    assert tesla.vehicle_list() and token_calls.hits == 1


def test_a_refresh_reply_without_a_refresh_token_keeps_the_old_one(tesla, sim):
    old = tesla.sso_token["refresh_token"]
    owner_before = dict(tesla.token)
    sim.faults.add(service="sso", path="/oauth2/v3/token$", status=200,
                   body={"access_token": "not-a-bearer-the-api-knows", "token_type": "Bearer",
                         "expires_in": 28800})
    with pytest.raises(HTTPError, match="^401 Client Error"):    # the exchange refuses that token
        tesla.refresh_token()
    assert tesla.sso_token["access_token"] == "not-a-bearer-the-api-knows"
    assert tesla.sso_token["refresh_token"] == old and tesla.token == owner_before
    tesla.refresh_token()                                          # the kept refresh token works
    assert tesla.token["access_token"] != owner_before["access_token"]


def test_threads_hitting_an_expired_token_together_refresh_it_once(tesla, sim, world):
    world.expire_bearers()
    token_calls = count_token_calls(sim)
    results, barrier = [], threading.Barrier(4)

    def call():
        barrier.wait()
        results.append(len(tesla.vehicle_list()))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [3, 3, 3, 3]
    assert token_calls.hits == 1


# -- a reply trickled in is bounded by the deadline -------------------------------------------


class Trickle(http.server.BaseHTTPRequestHandler):
    """Answers with headers at once, then one byte of the body every 0.02 s (0.4 s in all)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"response": "slow"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def test_a_trickled_reply_ends_at_the_deadline_not_after_every_byte(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with teslapy.Tesla("a@b.c", cache_file=str(tmp_path / "c.json"), api_base_url=base,
                           timeout=1) as tesla:
            tesla.deadline = 0.1
            with pytest.raises(requests.ReadTimeout, match=r"took longer than 0.1 s in all"):
                tesla.get("status", withhold_token=True)
            tesla.deadline = None
            assert tesla.get("status", withhold_token=True) == {"response": "slow"}
    finally:
        server.shutdown()
        server.server_close()


def test_no_repr_shows_a_secret(tesla):
    car = tesla.vehicle_list()[0]
    assert car["tokens"] and all(token not in repr(car) for token in car["tokens"])
    assert repr(car).startswith("Vehicle({") and "'tokens': '***'" in repr(car)
    assert tesla.token["access_token"] not in repr(tesla.api("PRODUCT_LIST"))


def test_a_rate_limited_refresh_keeps_the_token_and_never_signs_in(tesla, sim):
    held = dict(tesla.token), dict(tesla.sso_token)
    limited = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=429,
                             headers={"Retry-After": "30"}, times=None)
    signs_in = sim.faults.add(service="sso", path="/oauth2/v3/authorize$", status=None, times=None)
    with pytest.raises(teslapy.RateLimitError) as caught:
        tesla.refresh_token()
    assert caught.value.retry_after == 30.0
    tesla.token["created_at"] = 1                      # expired: the next call must renew
    with pytest.raises(teslapy.RateLimitError):
        tesla.vehicle_list()
    assert limited.hits == 2 and signs_in.hits == 0
    assert tesla.sso_token == held[1]


def test_a_custom_store_gets_its_lock_around_every_renewal(make_tesla, sim, tmp_path):
    import contextlib

    store: dict = {}
    events = []

    @contextlib.contextmanager
    def lock():
        events.append("lock")
        yield
        events.append("unlock")

    tesla = make_tesla(cache_loader=lambda: json.loads(json.dumps(store)),
                       cache_dumper=lambda data: store.update(json.loads(json.dumps(data))),
                       cache_lock=lock)
    tesla.fetch_token()
    events.clear()
    tesla.token["created_at"] = 1
    assert tesla.vehicle_list()
    assert events == ["lock", "unlock"]
    assert store["elon@tesla.com"]["ownerapi"]["access_token"] == tesla.token["access_token"]
