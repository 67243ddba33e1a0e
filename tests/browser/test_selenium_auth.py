"""Browser sign-in in headless Chromium against the 2026 simulator's sign-in page.

Skipped when Chromium or chromedriver is not installed (Debian: ``apt install chromium
chromium-driver``).
"""
from __future__ import annotations

import shutil
import ssl
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import requests

from teslapy.selenium_auth import BrowserClosedError, SignInTimeoutError, find_browser
from teslasim import totp

from browser.loopback import LoopbackAuthenticator
from simulator.sso_helpers import pkce

pytestmark = pytest.mark.skipif(
    find_browser() is None or shutil.which("chromedriver") is None,
    reason="needs Chromium and chromedriver (apt install chromium chromium-driver)")

STATE = "browser-state-0123456789abcdef"


@pytest.fixture
def sim(sim_2026):
    return sim_2026


def authorize_url(sim, challenge: str, email: str) -> str:
    return sim.urls["sso_base_url"] + "oauth2/v3/authorize?" + urlencode({
        "response_type": "code", "client_id": "ownerapi",
        "redirect_uri": "tesla://auth/callback", "scope": "openid email offline_access",
        "state": STATE, "code_challenge": challenge, "code_challenge_method": "S256",
        "login_hint": email})


def person(password: str, world=None, email: str = ""):
    """An ``on_open`` hook that signs in as a person would: password, then the passcode
    of the account's first factor (when ``world`` is given)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def sign_in(driver) -> None:
        driver.find_element(By.NAME, "credential").send_keys(password)
        driver.find_element(By.ID, "form-submit-continue").click()
        if world is not None:
            field = WebDriverWait(driver, 10, poll_frequency=0.05).until(
                lambda d: d.find_elements(By.NAME, "passcode"))[0]
            secret = world.account(email).factors[0].secret    # the factor checked first
            field.send_keys(totp.passcode(secret, world.clock.now()))
            driver.find_element(By.ID, "mfa-submit").click()

    return sign_in


def exchange_and_use(sim, callback: str, verifier: str) -> requests.Response:
    """Trade the callback's code for tokens over HTTP/2 and call the Owner API with them."""
    params = {k: v[0] for k, v in parse_qs(urlparse(callback).query).items()}
    context = ssl.create_default_context(cafile=sim.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    with httpx.Client(http2=True, verify=context, trust_env=False) as client:
        reply = client.post(params["issuer"] + "/token", data={
            "grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": "tesla://auth/callback", "client_id": "ownerapi",
            "code_verifier": verifier})
    assert reply.http_version == "HTTP/2" and reply.status_code == 200, reply.text
    token = reply.json()["access_token"]
    assert sim.world.bearer_record(token).marked is False
    return requests.get(sim.urls["api_base_url"] + "api/1/products", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("email, mfa, trust", [
    ("elon@tesla.com", False, "ca_file"),
    ("mfa@tesla.com", True, "TESLAPY_CA_BUNDLE"),   # the variable is trusted like ca_file
])
def test_a_real_browser_signs_in_and_the_callback_is_caught(sim, email, mfa, trust, monkeypatch):
    verifier, challenge = pkce()
    drivers = []

    def on_open(driver):
        drivers.append(driver)
        person("starship", sim.world if mfa else None, email)(driver)

    if trust == "TESLAPY_CA_BUNDLE":
        monkeypatch.setenv("TESLAPY_CA_BUNDLE", sim.ca_file)
    authenticator = LoopbackAuthenticator(headless=True, timeout=60, on_open=on_open,
                                          ca_file=sim.ca_file if trust == "ca_file" else None)
    callback = authenticator(authorize_url(sim, challenge, email))
    assert callback.startswith("tesla://auth/callback?")
    params = parse_qs(urlparse(callback).query)
    assert set(params) == {"code", "state", "issuer"}
    assert params["state"] == [STATE]
    assert params["issuer"] == [sim.urls["sso_base_url"] + "oauth2/v3"]
    assert drivers[0].service.process.poll() is not None      # the browser was quit
    products = exchange_and_use(sim, callback, verifier)
    assert products.status_code == 200
    assert sim.world.token_mints[-1].email == email
    assert bool(sim.world.used_passcodes) is mfa
    names = [item.get("display_name") for item in products.json()["response"]]
    assert ("Tim's Tesla" in names) is (email == "elon@tesla.com")


def test_nobody_signing_in_times_out(sim):
    authenticator = LoopbackAuthenticator(headless=True, timeout=0.1, ca_file=sim.ca_file)
    with pytest.raises(SignInTimeoutError, match="no sign-in within 0.1 s"):
        authenticator(authorize_url(sim, pkce()[1], "elon@tesla.com"))


def test_closing_the_window_ends_the_wait(sim):
    authenticator = LoopbackAuthenticator(headless=True, timeout=60, ca_file=sim.ca_file,
                                          on_open=lambda driver: driver.close())
    with pytest.raises(BrowserClosedError, match="closed"):
        authenticator(authorize_url(sim, pkce()[1], "elon@tesla.com"))
