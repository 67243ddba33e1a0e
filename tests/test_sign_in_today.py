"""Signing in the ways that work against Tesla today, as a user of ``Tesla`` sees them.

The browser sign-in (an authenticator, or ``authorization_url()`` then
``fetch_token(authorization_response=...)``), importing a refresh token, logging out,
the token updater, the typed refusals and the China hosts, against the simulator over
real sockets. Here the "browser" is a small script that fills in the sign-in form the
way a person would; the sign-in in a real Chromium is in ``tests/browser/``.
"""
from __future__ import annotations

import json
import os
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

import teslapy
from teslapy import auth

PASSWORD = "starship"


def sign_in_like_a_browser(url: str, email: str = "elon@tesla.com", password: str = PASSWORD) -> str:
    """Open ``url``, fill in the sign-in form and return where the SSO sends the browser."""
    with requests.Session() as browser:
        page = browser.get(url, timeout=5)
        page.raise_for_status()
        form = auth.parse_form(page.text)
        form.update(identity=email, credential=password)
        reply = browser.post(page.url, data=form, allow_redirects=False, timeout=5)
        assert reply.status_code == 302, reply.text[:300]
        return reply.headers["Location"]


def cached(cache_file: str) -> dict:
    with open(cache_file, encoding="utf-8") as handle:
        return json.load(handle)


# -- the browser sign-in -------------------------------------------------------------------


def test_without_a_password_the_sign_in_happens_in_the_browser(make_tesla, sim, cache_file):
    opened = []

    def browser(url: str) -> str:
        opened.append(url)
        return sign_in_like_a_browser(url)

    tesla = make_tesla("elon@tesla.com", None, authenticator=browser)
    token = tesla.fetch_token()
    (url,) = opened
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(sim.urls["sso_base_url"] + "oauth2/v3/authorize?")
    assert query["redirect_uri"] == "tesla://auth/callback" and query["client_id"] == "ownerapi"
    assert query["code_challenge_method"] == "S256" and query["login_hint"] == "elon@tesla.com"
    assert token["access_token"] == tesla.sso_token["access_token"]      # the SSO token is the bearer
    assert cached(cache_file)["elon@tesla.com"]["sso"]["refresh_token"] == tesla.sso_token["refresh_token"]
    assert [car["display_name"] for car in tesla.vehicle_list()] == ["Tim's Tesla", "Nikola", "Road Runner"]
    assert tesla.fetch_token() == token and len(opened) == 1             # held now: no new sign-in


def test_the_two_step_form_apps_use(make_tesla, sim):
    tesla = make_tesla("elon@tesla.com", None)
    callback = sign_in_like_a_browser(tesla.authorization_url())
    assert callback.startswith("tesla://auth/callback?code=")
    assert dict(parse_qsl(urlsplit(callback).query))["issuer"] == sim.urls["sso_base_url"] + "oauth2/v3"
    tesla.fetch_token(authorization_response=callback)
    assert tesla.authorized and tesla.vehicle_list()


def test_the_bare_code_is_enough(make_tesla):
    tesla = make_tesla("elon@tesla.com", None)
    callback = sign_in_like_a_browser(tesla.authorization_url())
    code = dict(parse_qsl(urlsplit(callback).query))["code"]
    tesla.fetch_token(authorization_response=code)
    assert tesla.authorized


def test_a_callback_of_another_sign_in_is_refused_and_nothing_is_stored(make_tesla, sim, tmp_path):
    tesla = make_tesla("elon@tesla.com", None)
    tesla.authorization_url()
    other = make_tesla("elon@tesla.com", None, cache_file=str(tmp_path / "other.json"))
    foreign = sign_in_like_a_browser(other.authorization_url())
    minted = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=None, times=None)
    with pytest.raises(teslapy.MismatchingStateError):
        tesla.fetch_token(authorization_response=foreign)
    assert minted.hits == 0 and not tesla.authorized
    assert not os.path.exists(tesla.cache_file)


def test_the_sign_in_page_address_instead_of_the_callback_says_what_to_copy(make_tesla):
    tesla = make_tesla("elon@tesla.com", None)
    url = tesla.authorization_url()
    state = dict(parse_qsl(urlsplit(url).query))["state"]
    with pytest.raises(ValueError, match=r"copy the address the browser was sent to .* tesla://auth/callback\?code="):
        tesla.fetch_token(authorization_response=f"https://auth.tesla.com/oauth2/v3/authorize?state={state}")
    tesla.fetch_token(authorization_response=sign_in_like_a_browser(url))   # the sign-in goes on
    assert tesla.authorized


def test_a_code_is_never_sent_twice(make_tesla, sim):
    tesla = make_tesla("elon@tesla.com", None)
    callback = sign_in_like_a_browser(tesla.authorization_url())
    minted = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=503, times=1)
    with pytest.raises(teslapy.HTTPError, match="503"):
        tesla.fetch_token(authorization_response=callback)
    with pytest.raises(ValueError, match="call authorization_url"):
        tesla.fetch_token(authorization_response=callback)
    assert minted.hits == 1 and not tesla.authorized


def test_an_issuer_that_is_not_a_known_sso_host_gets_no_code(make_tesla, sim):
    tesla = make_tesla("elon@tesla.com", None)
    callback = sign_in_like_a_browser(tesla.authorization_url())
    forged = callback.replace("issuer=", "issuer=https%3A%2F%2Fevil.example%2Foauth2%2Fv3&was=")
    minted = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=None, times=None)
    with pytest.raises(ValueError, match="https://evil.example/oauth2/v3, which is not a Tesla SSO host"):
        tesla.fetch_token(authorization_response=forged)
    assert minted.hits == 0


def test_a_cancelled_browser_sign_in_is_an_oauth_error(make_tesla):
    tesla = make_tesla("elon@tesla.com", None)
    url = tesla.authorization_url()
    state = dict(parse_qsl(urlsplit(url).query))["state"]
    cancelled = f"tesla://auth/callback?error=login_cancelled&error_description=User+cancelled+login&state={state}"
    with pytest.raises(teslapy.CustomOAuth2Error, match=r"\(login_cancelled\) User cancelled login"):
        tesla.fetch_token(authorization_response=cancelled)


def test_no_process_wide_oauth_setting_is_touched(make_tesla, world):
    from teslasim import totp

    seen = []

    def passcode() -> str:
        seen.append(os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"))
        secret = next(f.secret for f in world.account("solo@tesla.com").factors)
        return totp.passcode(secret, world.clock.now())

    make_tesla("solo@tesla.com", PASSWORD, passcode).fetch_token()
    assert seen == [None] and "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


# -- importing a refresh token, the token updater, logging out -----------------------------


def refresh_token_of(make_tesla, tmp_path, email: str = "elon@tesla.com") -> str:
    """A refresh token another app holds (signed in with its own cache)."""
    donor = make_tesla(email, PASSWORD, cache_file=str(tmp_path / f"donor-{email}.json"))
    donor.fetch_token()
    return donor.sso_token["refresh_token"]


def test_a_refresh_token_is_imported_with_nothing_cached(make_tesla, tmp_path, cache_file):
    refresh = refresh_token_of(make_tesla, tmp_path)
    updates = []
    tesla = make_tesla("elon@tesla.com", None, token_updater=updates.append)
    token = tesla.refresh_token(refresh_token=refresh)
    assert token["access_token"] == tesla.sso_token["access_token"]
    assert cached(cache_file)["elon@tesla.com"]["ownerapi"]["access_token"] == token["access_token"]
    assert [update["access_token"] for update in updates] == [token["access_token"]]
    assert updates[0]["refresh_token"] == tesla.sso_token["refresh_token"]
    assert tesla.vehicle_list()
    again = make_tesla("elon@tesla.com", None)                 # a later run uses the cache
    assert again.token["access_token"] == token["access_token"]


def test_an_empty_refresh_token_is_refused_before_anything_is_sent(make_tesla, sim):
    minted = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=None, times=None)
    with pytest.raises(ValueError, match="empty"):
        make_tesla("elon@tesla.com", None).refresh_token(refresh_token="  ")
    assert minted.hits == 0


def test_a_refused_import_stores_nothing(make_tesla, cache_file):
    tesla = make_tesla("elon@tesla.com", None)
    with pytest.raises(teslapy.OAuth2Error):
        tesla.refresh_token(refresh_token="not-a-token-the-sso-issued")
    assert not tesla.authorized and not os.path.exists(cache_file)


def test_the_token_updater_hears_of_every_refresh(make_tesla):
    updates = []
    tesla = make_tesla(token_updater=updates.append)
    tesla.fetch_token()
    tesla.refresh_token()
    assert len(updates) == 2 and updates[-1]["refresh_token"] == tesla.sso_token["refresh_token"]


def test_logout_forgets_one_account_and_gives_the_sign_out_url(make_tesla, sim, cache_file):
    make_tesla("elon@tesla.com").fetch_token()
    other = make_tesla("cn@tesla.cn")
    other.fetch_token()
    tesla = make_tesla("elon@tesla.com", None)
    assert tesla.authorized
    url = tesla.logout()
    assert url == sim.urls["sso_base_url"] + "oauth2/v3/logout?client_id=ownerapi"
    assert not tesla.authorized and not tesla.sso_token
    assert list(cached(cache_file)) == ["cn@tesla.cn"]
    assert cached(cache_file)["cn@tesla.cn"]["ownerapi"] == other.token


# -- the password sign-in where the SSO wants a reCAPTCHA ------------------------------------

RECAPTCHA_PAGE = """<html><body><form method="post">
<input type="hidden" name="transaction_id" value="t1"><input name="identity"><input name="credential">
</form><script>var messages = {"error": "Recaptcha is required"};
</script></body></html>"""


def test_a_recaptcha_ends_the_password_sign_in_with_what_to_do(make_tesla, sim, tmp_path):
    posted = sim.faults.add(service="sso", method="POST", path="/oauth2/v3/authorize$", status=200,
                            body=RECAPTCHA_PAGE, headers={"Content-Type": "text/html"}, times=None)
    tesla = make_tesla()
    with pytest.raises(teslapy.RecaptchaRequiredError) as caught:
        tesla.fetch_token()
    assert isinstance(caught.value, ValueError)                     # seed scripts catch ValueError
    message = str(caught.value)
    assert message.startswith("Credentials rejected. Recaptcha is required")
    assert "browser" in message and "refresh_token(refresh_token=" in message
    assert posted.hits == 1                                          # asked once, never looped
    assert not tesla.authorized and list(tmp_path.iterdir()) == []


# -- the Owner API token where the exchange is retired ------------------------------------------


def test_a_retired_exchange_makes_the_sso_token_the_bearer(make_tesla, sim, cache_file):
    sim.faults.add(service="api", path="^/oauth/token$", status=400, times=None, body={
        "error": "unsupported_grant_type",
        "error_description": "The authorization grant type is not supported by the authorization server."})
    tesla = make_tesla()
    token = tesla.fetch_token()
    assert token["access_token"] == tesla.sso_token["access_token"]
    assert tesla.vehicle_list()
    tesla.refresh_token()                                   # no exchange is tried any more
    assert tesla.token["access_token"] == tesla.sso_token["access_token"]


# -- typed refusals -----------------------------------------------------------------------------

GATE = {"response": None, "error": "forbidden, see https://developer.tesla.com/docs/fleet-api",
        "error_description": ""}
VCP = {"response": None, "error": "Tesla Vehicle Command Protocol required, please refer to the "
       "documentation here: https://developer.tesla.com/docs/fleet-api", "error_description": ""}
MOVED = {"response": None, "error": "Endpoint is only available on fleetapi. Visit "
         "https://developer.tesla.com/docs for more info", "error_description": ""}


@pytest.mark.parametrize("status, body, headers, error, hint", [
    (403, VCP, None, teslapy.CommandProtocolRequiredError, "accepts only signed commands"),
    (412, MOVED, None, teslapy.FleetApiRequiredError, "only on the Fleet API"),
    (429, {"response": None, "error": "Retry in 7 seconds", "error_description": ""},
     {"Retry-After": "7"}, teslapy.RateLimitError, "rate limiting"),
])
def test_refusals_with_a_meaning_are_http_errors_that_say_what_to_do(tesla, sim, status, body, headers,
                                                                   error, hint):
    car = tesla.vehicle_list()[0]
    sim.faults.add(service="api", path="/command/honk_horn$", status=status, body=body, headers=headers)
    with pytest.raises(error) as caught:
        car.command("HONK_HORN")
    assert isinstance(caught.value, teslapy.HTTPError)
    assert caught.value.response.status_code == status
    assert str(caught.value).startswith(f"{status} Client Error: {body['error']} for url: ")
    assert hint in str(caught.value)
    if error is teslapy.RateLimitError:
        assert caught.value.retry_after == 7.0


def test_a_rate_limit_as_an_http_date(tesla, sim):
    sim.faults.add(service="api", path="/vehicle_data$", status=429,
                   headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    with pytest.raises(teslapy.RateLimitError) as caught:
        tesla.vehicle_list()[0].get_vehicle_data()
    assert caught.value.retry_after == 0.0                  # a moment already past


def test_the_vehicle_list_comes_from_the_products_where_the_owner_api_moved_it(tesla, sim):
    moved = sim.faults.add(service="api", path="^/api/1/vehicles$", status=412, body=MOVED, times=None)
    cars = tesla.vehicle_list()
    assert moved.hits == 1
    assert [car["display_name"] for car in cars] == ["Tim's Tesla", "Nikola", "Road Runner"]
    assert all(isinstance(car, teslapy.Vehicle) for car in cars)
    assert cars[0].get_vehicle_summary()["display_name"] == "Tim's Tesla"


def test_a_token_refused_by_the_minting_gate_is_renewed_once(tesla, sim):
    refreshes = sim.faults.add(service="sso", path="/oauth2/v3/token$", status=None, times=None)
    gate = sim.faults.add(service="api", path="^/api/1/products$", status=403, body=GATE, times=1)
    old = tesla.token["access_token"]
    assert tesla.battery_list()
    assert gate.hits == 1 and refreshes.hits == 1 and tesla.token["access_token"] != old


def test_a_token_the_gate_keeps_refusing_is_a_token_rejected_error(tesla, sim):
    sim.faults.add(service="api", path="^/api/1/products$", status=403, body=GATE, times=None)
    with pytest.raises(teslapy.TokenRejectedError, match="HTTP/2 with TLS 1.3") as caught:
        tesla.battery_list()
    assert isinstance(caught.value, teslapy.HTTPError)


# -- China --------------------------------------------------------------------------------------


def test_a_china_account_uses_the_china_hosts_and_the_cache_remembers(sim, sim_env, cache_file, monkeypatch):
    monkeypatch.setenv("TESLAPY_SSO_CN_BASE_URL", sim.urls["sso_cn_base_url"])
    monkeypatch.setenv("TESLAPY_API_CN_BASE_URL", sim.urls["api_cn_base_url"])
    monkeypatch.setenv("TESLAPY_STREAMING_CN_BASE_URL", sim.urls["streaming_cn_base_url"])
    with teslapy.Tesla("cn@tesla.cn", PASSWORD, cache_file=cache_file) as tesla:
        tesla.fetch_token()
        assert tesla.api_base_url == sim.urls["api_cn_base_url"]
        assert tesla.streaming_base_url == sim.urls["streaming_cn_base_url"]
        assert tesla.vehicle_list()[0]["display_name"] == "Shanghai Express"
    assert cached(cache_file)["cn@tesla.cn"]["api_url"] == sim.urls["api_cn_base_url"]
    with teslapy.Tesla("cn@tesla.cn", cache_file=cache_file) as later:
        assert later.authorized and later.api_base_url == sim.urls["api_cn_base_url"]
        assert later.vehicle_list()[0]["display_name"] == "Shanghai Express"
    with teslapy.Tesla("cn@tesla.cn", cache_file=cache_file,
                       api_base_url=sim.urls["api_base_url"]) as pinned:
        assert pinned.api_base_url == sim.urls["api_base_url"] and not pinned.authorized
