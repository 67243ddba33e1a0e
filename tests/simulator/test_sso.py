"""The simulated SSO over a real socket: sign-in form, captcha, MFA, codes, tokens, regions."""
from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from teslasim import totp

from .sso_helpers import form_of, inputs_of, jwt_claims, messages_of, pkce

CALLBACK = "https://auth.tesla.com/void/callback"
PASSWORD = "starship"


def callback_params(response) -> dict:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    assert response.text == f"Found. Redirecting to {location}"
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


class Browser:
    """One sign-in: a cookie jar, a PKCE pair and the SSO host in use."""

    def __init__(self, sim, email: str, state: str = "s" * 30) -> None:
        self.sim = sim
        self.email = email
        self.state = state
        self.session = requests.Session()
        self.verifier, self.challenge = pkce()
        self.base = sim.urls["sso_base_url"]

    def authorize_params(self, **overrides) -> dict:
        params = {"response_type": "code", "client_id": "ownerapi", "redirect_uri": CALLBACK,
                  "scope": "openid email offline_access", "state": self.state,
                  "code_challenge": self.challenge, "code_challenge_method": "S256",
                  "login_hint": self.email}
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def open(self, **overrides) -> requests.Response:
        response = self.session.get(self.base + "oauth2/v3/authorize",
                                    params=self.authorize_params(**overrides))
        if response.history:
            self.base = response.url.split("oauth2/v3/authorize")[0]
        return response

    def submit(self, page: str, password: str = PASSWORD, **extra) -> requests.Response:
        form = form_of(page)
        form.update(identity=self.email, credential=password, **extra)
        return self.session.post(self.base + "oauth2/v3/authorize", data=form,
                                 allow_redirects=False)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.base + path, allow_redirects=False, **kwargs)

    def exchange(self, code: str, verifier: str | None = None, **overrides):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "client_id": "ownerapi", "code_verifier": verifier or self.verifier}
        data.update(overrides)
        return requests.post(self.base + "oauth2/v3/token", data=data)

    def login(self) -> dict:
        params = callback_params(self.submit(self.open().text))
        reply = self.exchange(params["code"])
        assert reply.status_code == 200, reply.text
        return reply.json()


def refresh(base: str, token: str, client_id: str = "ownerapi") -> requests.Response:
    return requests.post(base + "oauth2/v3/token", data={
        "grant_type": "refresh_token", "refresh_token": token, "client_id": client_id,
        "scope": "openid email offline_access"})


# -- the sign-in page -------------------------------------------------------------

def test_authorize_page_has_the_form_clients_parse(sim):
    browser = Browser(sim, "elon@tesla.com")
    page = browser.open()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Tesla SSO - Sign In</title>" in page.text
    assert "tesla-auth.sid" in browser.session.cookies
    fields = inputs_of(page.text)
    assert all(field.get("name") for field in fields)
    form = {field["name"]: field for field in fields}
    assert set(form) == {"_csrf", "_phase", "_process", "transaction_id", "cancel",
                         "identity", "credential"}
    assert form["_phase"]["value"] == "authenticate" and form["_process"]["value"] == "1"
    assert form["transaction_id"]["value"] and form["cancel"]["value"] == ""
    assert form["credential"]["type"] == "password" and "value" not in form["credential"]
    assert messages_of(page.text) == {}


@pytest.mark.parametrize("change, error", [
    ({"client_id": "someone"}, "invalid_client"),
    ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
])
def test_authorize_rejects_unknown_client_or_redirect_without_redirecting(sim, change, error):
    response = Browser(sim, "elon@tesla.com").open(**change)
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.parametrize("change", [
    {"code_challenge": None}, {"code_challenge_method": "plain"},
    {"response_type": "token"},
])
def test_authorize_sends_bad_oauth_requests_back_to_the_callback(sim, change):
    browser = Browser(sim, "elon@tesla.com")
    response = browser.session.get(browser.base + "oauth2/v3/authorize",
                                   params=browser.authorize_params(**change),
                                   allow_redirects=False)
    params = callback_params(response)
    assert params["error"] in ("invalid_request", "unsupported_response_type")
    assert params["state"] == browser.state


def test_wrong_password_returns_the_form_with_messages(sim):
    browser = Browser(sim, "elon@tesla.com")
    response = browser.submit(browser.open().text, password="wrong")
    assert response.status_code == 200
    assert messages_of(response.text) == {"_": "Invalid credentials"}
    assert form_of(response.text)["transaction_id"]
    # the same transaction still accepts the right password
    assert "code" in callback_params(browser.submit(response.text))


def test_login_returns_single_use_code_and_jwt_tokens(sim, world):
    browser = Browser(sim, "elon@tesla.com")
    params = callback_params(browser.submit(browser.open().text))
    assert re.fullmatch(r"[0-9a-f]{60}", params["code"])
    assert params["state"] == browser.state
    assert params["issuer"] == sim.urls["sso_base_url"] + "oauth2/v3"
    reply = browser.exchange(params["code"])
    assert reply.status_code == 200
    token = reply.json()
    assert token["token_type"] == "Bearer" and token["state"] == browser.state
    assert token["expires_in"] == world.settings.access_token_lifetime
    assert "scope" not in token
    for name in ("access_token", "refresh_token", "id_token"):
        assert token[name].count(".") == 2
    assert jwt_claims(token["id_token"])["email"] == "elon@tesla.com"
    assert world.bearer_owner(token["access_token"]) == "elon@tesla.com"
    again = browser.exchange(params["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert again.json()["error_uri"].startswith(sim.urls["sso_base_url"])
    # a replayed code revokes what it was exchanged for
    assert world.bearer_owner(token["access_token"]) is None


def test_token_endpoint_accepts_json_bodies(sim):
    browser = Browser(sim, "elon@tesla.com")
    code = callback_params(browser.submit(browser.open().text))["code"]
    reply = requests.post(browser.base + "oauth2/v3/token", json={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "client_id": "ownerapi", "code_verifier": browser.verifier})
    assert reply.status_code == 200 and reply.json()["access_token"]


@pytest.mark.parametrize("verifier, error", [
    ("x" * 42, "invalid_request"),                  # too short for RFC 7636
    ("y" * 129, "invalid_request"),                 # too long
    ("z" * 43, "invalid_grant"),                    # well formed, wrong
])
def test_pkce_verifier_is_checked(sim, verifier, error):
    browser = Browser(sim, "elon@tesla.com")
    code = callback_params(browser.submit(browser.open().text))["code"]
    reply = browser.exchange(code, verifier=verifier)
    assert reply.status_code == 400
    assert reply.json()["error"] == error


def test_code_exchange_checks_client_and_redirect_uri(sim):
    browser = Browser(sim, "elon@tesla.com")
    code = callback_params(browser.submit(browser.open().text))["code"]
    assert browser.exchange(code, client_id="other").status_code == 401
    browser2 = Browser(sim, "elon@tesla.com")
    code2 = callback_params(browser2.submit(browser2.open().text))["code"]
    reply = browser2.exchange(code2, redirect_uri="https://example.com/cb")
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"


def test_code_expires(sim, world):
    browser = Browser(sim, "elon@tesla.com")
    code = callback_params(browser.submit(browser.open().text))["code"]
    world.clock.advance(world.settings.auth_code_lifetime + 1)
    reply = browser.exchange(code)
    assert reply.status_code == 400
    assert "expired" in reply.json()["error_description"]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"grant_type=password"])
def test_token_endpoint_answers_bad_bodies_with_oauth_errors(sim, body):
    reply = requests.post(sim.urls["sso_base_url"] + "oauth2/v3/token", data=body,
                          headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["error"] in ("invalid_request", "unsupported_grant_type")


# -- refresh tokens -----------------------------------------------------------------

def test_refresh_rotates_and_the_old_token_has_a_grace_period(sim, world):
    browser = Browser(sim, "elon@tesla.com")
    first = browser.login()
    second = refresh(browser.base, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert world.bearer_owner(second["access_token"]) == "elon@tesla.com"
    # within the grace period the used token still works (a retried request)
    world.clock.advance(world.settings.refresh_grace_period - 1)
    assert refresh(browser.base, first["refresh_token"]).status_code == 200
    world.clock.advance(2)
    late = refresh(browser.base, first["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert refresh(browser.base, second["refresh_token"]).status_code == 200


def test_refresh_checks_client_id_and_token(sim):
    browser = Browser(sim, "elon@tesla.com")
    token = browser.login()
    assert refresh(browser.base, token["refresh_token"], client_id="other").status_code == 401
    bad = refresh(browser.base, "eyJ.not.ours")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_access_token_lifetime_follows_settings(sim, world):
    world.settings.access_token_lifetime = 120
    token = Browser(sim, "elon@tesla.com").login()
    assert token["expires_in"] == 120
    world.clock.advance(121)
    assert world.bearer_owner(token["access_token"]) is None


# -- regions ----------------------------------------------------------------------------

def test_cn_account_is_redirected_to_the_cn_host(sim):
    browser = Browser(sim, "cn@tesla.cn")
    response = browser.session.get(browser.base + "oauth2/v3/authorize",
                                   params=browser.authorize_params(), allow_redirects=False)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(sim.urls["sso_cn_base_url"] + "oauth2/v3/authorize?")
    assert parse_qs(urlparse(location).query)["code_challenge"] == [browser.challenge]
    token = browser.login()
    assert browser.base == sim.urls["sso_cn_base_url"]
    assert jwt_claims(token["access_token"])["iss"] == sim.urls["sso_cn_base_url"] + "oauth2/v3"
    # later calls belong to the cn host
    assert refresh(sim.urls["sso_base_url"], token["refresh_token"]).status_code == 400
    assert refresh(sim.urls["sso_cn_base_url"], token["refresh_token"]).status_code == 200


def test_global_account_asking_the_cn_host_is_sent_to_the_global_host(sim):
    browser = Browser(sim, "elon@tesla.com")
    browser.base = sim.urls["sso_cn_base_url"]
    response = browser.session.get(browser.base + "oauth2/v3/authorize",
                                   params=browser.authorize_params(), allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(sim.urls["sso_base_url"])


# -- captcha --------------------------------------------------------------------------------

def captcha_answer(svg: str) -> str:
    """Read the SVG as a captcha solver would: the text elements, left to right."""
    root = ET.fromstring(svg)
    texts = [el for el in root.iter() if el.tag.endswith("text")]
    return "".join(el.text for el in sorted(texts, key=lambda el: float(el.get("x"))))


def test_captcha_account_needs_the_drawn_answer(sim):
    browser = Browser(sim, "captcha@tesla.com")
    page = browser.open().text
    assert "captcha" in form_of(page)
    # without an answer: the form again with a captcha message
    missing = browser.submit(page)
    assert missing.status_code == 200
    assert messages_of(missing.text) == {"captcha": "Captcha is required"}
    svg = browser.session.get(browser.base + "captcha")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    answer = captcha_answer(svg.text)
    assert len(answer) == 4
    wrong = browser.submit(missing.text, captcha="!!!!")
    assert messages_of(wrong.text) == {"captcha": "Captcha does not match"}
    # each image is good for one try
    assert messages_of(browser.submit(wrong.text, captcha=answer).text) == {
        "captcha": "Captcha does not match"}
    svg = browser.session.get(browser.base + "captcha").text
    assert "code" in callback_params(browser.submit(wrong.text, captcha=captcha_answer(svg)))


def test_captcha_is_bound_to_the_session_cookie(sim):
    browser = Browser(sim, "captcha@tesla.com")
    page = browser.open().text
    other = requests.Session()
    answer = captcha_answer(other.get(browser.base + "captcha").text)
    response = browser.submit(page, captcha=answer)
    assert response.status_code == 200
    assert messages_of(response.text) == {"captcha": "Captcha does not match"}


def test_captcha_demanded_after_first_submit(sim):
    browser = Browser(sim, "recheck@tesla.com")
    page = browser.open().text
    assert "captcha" not in form_of(page)
    again = browser.submit(page)
    assert again.status_code == 200
    assert "captcha" in form_of(again.text)
    assert messages_of(again.text) == {"captcha": "Captcha is required"}
    answer = captcha_answer(browser.session.get(browser.base + "captcha").text)
    assert "code" in callback_params(browser.submit(again.text, captcha=answer))


# -- MFA ----------------------------------------------------------------------------------------

def start_mfa(sim, email="mfa@tesla.com") -> tuple[Browser, str]:
    browser = Browser(sim, email)
    page = browser.open().text
    transaction_id = form_of(page)["transaction_id"]
    mfa = browser.submit(page)
    assert mfa.status_code == 200
    assert inputs_of(mfa.text) == []
    assert "var messages" not in mfa.text
    assert f"/oauth2/v3/authorize/mfa/factors?transaction_id={transaction_id}" in mfa.text
    assert "/oauth2/v3/authorize/mfa/verify" in mfa.text
    return browser, transaction_id


def steady(world) -> float:
    """The world time, moved off the end of a TOTP step so a request cannot cross it."""
    if world.clock.now() % totp.STEP > totp.STEP - 5:
        world.clock.advance(6)
    return world.clock.now()


def verify(browser, transaction_id, factor_id, passcode):
    return browser.post("oauth2/v3/authorize/mfa/verify", json={
        "transaction_id": transaction_id, "factor_id": factor_id, "passcode": passcode})


def test_mfa_login_with_a_computed_totp(sim, world):
    browser, transaction_id = start_mfa(sim)
    factors = browser.session.get(browser.base + "oauth2/v3/authorize/mfa/factors",
                                  params={"transaction_id": transaction_id}).json()["data"]
    assert [f["name"] for f in factors] == ["Device #1", "Device #2"]
    assert factors[1]["factorType"] == "token:software"
    secret = world.account("mfa@tesla.com").factors[1].secret
    code = totp.passcode(secret, steady(world))
    reply = verify(browser, transaction_id, factors[1]["id"], code)
    assert reply.status_code == 200
    data = reply.json()["data"]
    assert data["valid"] is True and data["approved"] is True
    assert data["factorId"] == factors[1]["id"]
    params = callback_params(browser.post("oauth2/v3/authorize",
                                          data={"transaction_id": transaction_id}))
    token = browser.exchange(params["code"]).json()
    assert "mfa" in jwt_claims(token["access_token"])["amr"]


def test_mfa_accepts_one_step_of_drift_and_rejects_replay(sim, world):
    browser, transaction_id = start_mfa(sim, "solo@tesla.com")
    factor = world.account("solo@tesla.com").factors[0]
    previous = totp.passcode(factor.secret, steady(world) - totp.STEP)
    assert verify(browser, transaction_id, factor.id, previous).json()["data"]["valid"]
    replay = verify(browser, transaction_id, factor.id, previous)
    assert replay.json()["error"]["code"] == "ERR_PASS_CODE_REPLAY"


def test_mfa_wrong_and_malformed_passcodes(sim, world):
    browser, transaction_id = start_mfa(sim, "solo@tesla.com")
    factor = world.account("solo@tesla.com").factors[0]
    now = steady(world)
    good = totp.passcode(factor.secret, now)
    wrong = next(code for code in (f"{n:06d}" for n in range(100))
                 if totp.matching_counter(factor.secret, code, now, window=2) is None)
    reply = verify(browser, transaction_id, factor.id, wrong)
    assert reply.status_code == 200 and reply.json()["data"]["valid"] is False
    for bad in ("12345", "abcdef", 123456):
        reply = verify(browser, transaction_id, factor.id, bad)
        assert reply.json()["error"]["code"] == "ERR_OBJECT_VALIDATION"
    reply = verify(browser, transaction_id, "no-such-factor", good)
    assert reply.json()["error"]["code"] == "ERR_INVALID_FACTOR"
    # without a verified passcode the continue post shows the MFA page again
    still = browser.post("oauth2/v3/authorize", data={"transaction_id": transaction_id})
    assert still.status_code == 200 and inputs_of(still.text) == []
    bad_body = browser.post("oauth2/v3/authorize/mfa/verify", data=b"{oops",
                            headers={"Content-Type": "application/json"})
    assert bad_body.status_code == 400
    assert bad_body.json()["error"]["code"] == "ERR_OBJECT_VALIDATION"


def test_mfa_endpoints_need_the_transactions_cookie(sim):
    browser, transaction_id = start_mfa(sim)
    stranger = requests.get(browser.base + "oauth2/v3/authorize/mfa/factors",
                            params={"transaction_id": transaction_id})
    assert stranger.status_code == 401
    assert stranger.json()["error"]["code"] == "UNAUTHORIZED"


def test_cancel_redirects_with_login_cancelled(sim):
    browser, transaction_id = start_mfa(sim)
    params = callback_params(browser.post("oauth2/v3/authorize",
                                          data={"transaction_id": transaction_id,
                                                "cancel": "1"}))
    assert params == {"error": "login_cancelled", "error_description": "User cancelled login",
                      "state": browser.state}
    response = browser.post("oauth2/v3/authorize", data={"transaction_id": transaction_id})
    assert response.status_code == 400


def test_unknown_transaction_is_rejected(sim):
    response = requests.post(sim.urls["sso_base_url"] + "oauth2/v3/authorize",
                             data={"transaction_id": "nope", "identity": "x", "credential": "y"},
                             allow_redirects=False)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("time, expected", [
    (59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"),
    (2000000000, "69279037"),
])
def test_totp_matches_rfc_6238_vectors(time, expected):
    key = b"12345678901234567890"
    assert totp.hotp(key, totp.counter_at(time), digits=8) == expected
    secret = base64.b32encode(key).decode()
    assert totp.passcode(secret, time) == expected[-6:]


def test_no_sso_route_answers_garbage_with_a_server_error(sim):
    from teslasim.routes import sso

    bodies = [(b"{broken", "application/json"), (b"[" * 3000 + b"]" * 3000, "application/json"),
              (b'{"transaction_id": [], "passcode": 1e999, "code": {}}', "application/json"),
              (b"\xff=\xfe&cancel=%zz", "application/x-www-form-urlencoded")]
    session = requests.Session()
    for route in sso.ROUTES:
        for method in route.methods - {"HEAD"}:
            for body, content_type in bodies:
                reply = session.request(method, sim.urls["sso_base_url"] + route.path.lstrip("/"),
                                        data=body, headers={"Content-Type": content_type},
                                        params={"transaction_id": "\x00"},
                                        allow_redirects=False)
                assert reply.status_code < 500, (method, route.path, body[:30], reply.text)


def test_cn_credentials_posted_to_the_global_host_without_hint_are_refused(sim):
    browser = Browser(sim, "cn@tesla.cn")
    page = browser.open(login_hint=None)
    assert page.history == []
    response = browser.submit(page.text)
    assert response.status_code == 200
    assert "region" in messages_of(response.text)["_"]
