"""Signing in to the Fleet API with an app's own credentials, and keeping the tokens fresh.

Against the simulator's 2026 rules over real sockets: the SSO's authorize page, the
Fleet token host over HTTP/2 with TLS 1.3, single-use refresh tokens.
"""
from __future__ import annotations

import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
from oauthlib.oauth2.rfc6749.errors import LoginRequired, UnauthorizedClientError

import teslapy
from tests.fleet.conftest import DEMO_APP, EMAIL, OPEN_APP, browser_sign_in


def query_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


def test_an_open_source_app_signs_in_with_pkce_and_no_secret(sim, make_fleet, register, key_file):
    register(key_file, OPEN_APP, "open.teslapy-demo.example.com")
    tesla = make_fleet(client_id=OPEN_APP, scopes="openid offline_access vehicle_device_data")
    assert tesla.app.client_secret is None
    url = tesla.authorization_url()
    query = query_of(url)
    assert url.startswith(sim.urls["sso_base_url"] + "oauth2/v3/authorize?")
    assert (query["client_id"], query["redirect_uri"], query["scope"]) == \
        (OPEN_APP, "http://localhost:8421/callback", "openid offline_access vehicle_device_data")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    callback = browser_sign_in(url, sim.ca_file)
    assert callback.startswith("http://localhost:8421/callback?code=")
    tesla.fetch_token(authorization_response=callback)
    mint = sim.world.token_mints[-1]
    assert (mint.grant_type, mint.http_version, mint.tls_version) == \
        ("authorization_code", "2", "TLSv1.3")
    record = sim.world.bearers[tesla.token["access_token"]]
    assert (record.kind, record.client_id) == ("fleet", OPEN_APP)
    assert record.scopes == {"openid", "offline_access", "vehicle_device_data"}
    assert [car["display_name"] for car in tesla.vehicle_list()] == \
        ["Tim's Tesla", "Nikola", "Road Runner"]


def test_an_app_with_a_secret_signs_in_and_a_wrong_secret_is_refused(sim, make_fleet, register,
                                                                     key_file, tmp_path):
    register(key_file)
    tesla = make_fleet()
    tesla.fetch_token(authorization_response=browser_sign_in(tesla.authorization_url(),
                                                             sim.ca_file))
    assert tesla.vehicle_list()
    cache = str(tmp_path / "other.json")
    wrong = make_fleet(client_secret="not-the-secret", cache_file=cache)
    with pytest.raises(UnauthorizedClientError) as refused:
        wrong.fetch_token(authorization_response=browser_sign_in(wrong.authorization_url(),
                                                                 sim.ca_file))
    assert refused.value.error == "unauthorized_client"
    assert not wrong.authorized and not (tmp_path / "other.json").exists()


def test_browser_sign_in_needs_the_registered_redirect_uri(make_fleet):
    with pytest.raises(ValueError, match="redirect_uri"):
        make_fleet(redirect_uri=None).authorization_url()
    with pytest.raises(ValueError, match="redirect URI"):
        make_fleet(redirect_uri="no scheme")


def test_the_secret_never_shows(make_fleet):
    tesla = make_fleet()
    assert "ta-secret" not in repr(tesla) and "ta-secret" not in repr(tesla.app)


def test_an_expired_token_is_refreshed_once_for_all_sessions_sharing_the_cache(sim, signed_in,
                                                                               make_fleet,
                                                                               register, key_file):
    register(key_file)
    first = signed_in()
    spent = first.sso_token["refresh_token"]
    sessions = [make_fleet() for _ in range(4)]           # other "processes", same cache
    sim.world.expire_bearers(EMAIL)
    refreshes_before = sum(mint.grant_type == "refresh_token" for mint in sim.world.token_mints)
    results, errors = [], []

    def use(tesla):
        try:
            results.append(len(tesla.vehicle_list()))
        except Exception as error:      # reported below
            errors.append(error)

    threads = [threading.Thread(target=use, args=(tesla,)) for tesla in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and results == [3, 3, 3, 3]
    refreshes = sum(mint.grant_type == "refresh_token" for mint in sim.world.token_mints)
    assert refreshes - refreshes_before == 1
    assert len({tesla.sso_token["refresh_token"] for tesla in sessions}) == 1
    assert sessions[0].sso_token["refresh_token"] != spent


def test_a_refresh_ends_the_old_access_token_and_the_other_session_adopts_the_new_one(
        sim, signed_in, make_fleet, register, key_file):
    register(key_file)
    first = signed_in()
    second = make_fleet()
    old_access = second.token["access_token"]
    first.refresh_token()
    assert sim.world.bearer_record(old_access) is None         # refreshing ended it
    assert second.vehicle_list()                              # 401, then the cached token
    assert second.token["access_token"] == first.token["access_token"]


def test_a_used_refresh_token_is_refused_with_login_required(sim, make_fleet):
    tesla = make_fleet()
    token = sim.fleet_refresh_token_for(EMAIL)
    tesla.refresh_token(refresh_token=token)
    with pytest.raises(LoginRequired):
        make_fleet(cache_file=tesla.cache_file + ".2").refresh_token(refresh_token=token)


def test_owner_api_and_fleet_tokens_of_one_email_keep_separate_cache_entries(sim, signed_in,
                                                                            tmp_path):
    fleet = signed_in()
    owner = teslapy.Tesla(EMAIL, cache_file=fleet.cache_file,
                          sso_base_url=sim.urls["sso_base_url"],
                          api_base_url=sim.urls["api_base_url"], verify=sim.ca_file)
    with owner:
        owner.refresh_token(refresh_token=sim.refresh_token_for(EMAIL))
    with open(fleet.cache_file, encoding="utf-8") as handle:
        cached = json.load(handle)
    assert set(cached) == {EMAIL, f"{EMAIL} fleet:{DEMO_APP}"}
    assert cached[f"{EMAIL} fleet:{DEMO_APP}"]["sso"]["refresh_token"] == \
        fleet.sso_token["refresh_token"]
    assert cached[EMAIL]["sso"]["refresh_token"] != fleet.sso_token["refresh_token"]
