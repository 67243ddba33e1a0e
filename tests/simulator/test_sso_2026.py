"""The SSO under the 2026 rules, over real TLS sockets: HTTP/2 by ALPN, the minting gate,
single-use refresh tokens, the browser proof on the sign-in form and the callback."""
from __future__ import annotations

import os
import socket
import ssl
import stat
import threading
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from teslasim import sso_pages
from teslasim.rules import Rules
from teslasim.server import running
from teslasim.state import World

from .sso_helpers import form_of, messages_of, pkce

APP_CALLBACK = "tesla://auth/callback"
VOID_CALLBACK = "https://auth.tesla.com/void/callback"


@pytest.fixture
def sim(sim_2026):
    return sim_2026


@pytest.fixture
def world(sim_2026):
    return sim_2026.world


def tls_context(ca_file: str, version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
                alpn: tuple = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A client context trusting ``ca_file`` that speaks exactly TLS ``version``."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = context.maximum_version = version
    context.set_alpn_protocols(list(alpn))
    return context


def h2_client(sim, version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> httpx.Client:
    return httpx.Client(http2=True, verify=tls_context(sim.ca_file, version), trust_env=False)


def refresh_body(token: str) -> dict:
    return {"grant_type": "refresh_token", "refresh_token": token, "client_id": "ownerapi",
            "scope": "openid email offline_access"}


def authorize_params(challenge: str, email: str = "elon@tesla.com",
                     redirect_uri: str = APP_CALLBACK) -> dict:
    return {"response_type": "code", "client_id": "ownerapi", "redirect_uri": redirect_uri,
            "scope": "openid email offline_access", "state": "st" * 15,
            "code_challenge": challenge, "code_challenge_method": "S256",
            "login_hint": email}


# -- TLS and HTTP/2 -------------------------------------------------------------------

def test_sso_urls_are_https_with_the_ca_in_the_environment(sim):
    assert sim.urls["sso_base_url"].startswith("https://127.0.0.1:")
    assert sim.urls["sso_cn_base_url"].startswith("https://127.0.0.1:")
    assert sim.urls["api_base_url"].startswith("http://127.0.0.1:")
    assert sim.urls["streaming_base_url"].startswith("ws://127.0.0.1:")
    assert sim.env["TESLAPY_CA_BUNDLE"] == sim.ca_file
    with open(sim.ca_file) as handle:
        assert handle.read().startswith("-----BEGIN CERTIFICATE-----")
    directory = os.path.dirname(sim.ca_file)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_the_certificate_is_trusted_only_through_the_simulators_ca(sim):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.urls["sso_base_url"] + "oauth2/v3/logout", verify=True, timeout=5)
    port = sim.ports["sso"]
    for host in ("127.0.0.1", "localhost"):
        reply = requests.get(f"https://{host}:{port}/oauth2/v3/logout", verify=sim.ca_file,
                             timeout=5)
        assert reply.status_code == 200 and reply.text == "Signed out"


def test_http2_is_negotiated_and_the_token_endpoint_sees_it(sim, world):
    with h2_client(sim) as client:
        reply = client.post(sim.urls["sso_base_url"] + "oauth2/v3/token",
                            data=refresh_body(sim.refresh_token_for("elon@tesla.com")))
    assert reply.http_version == "HTTP/2" and reply.status_code == 200
    mint = world.token_mints[-1]
    assert (mint.http_version, mint.tls_version, mint.alpn) == ("2", "TLSv1.3", "h2")
    assert (mint.grant_type, mint.email, mint.region) == ("refresh_token", "elon@tesla.com",
                                                          "global")
    assert mint.marked is False
    record = world.bearer_record(reply.json()["access_token"])
    assert record.marked is False and record.region == "global"


def test_a_token_minted_over_http11_is_marked_though_the_reply_is_200(sim, world):
    reply = requests.post(sim.urls["sso_base_url"] + "oauth2/v3/token", verify=sim.ca_file,
                          data=refresh_body(sim.refresh_token_for("elon@tesla.com")))
    assert reply.status_code == 200 and reply.json()["token_type"] == "Bearer"
    mint = world.token_mints[-1]
    assert (mint.http_version, mint.tls_version, mint.alpn) == ("1.1", "TLSv1.3", "http/1.1")
    assert mint.marked is True
    assert world.bearer_record(reply.json()["access_token"]).marked is True


def test_a_token_minted_over_tls12_with_h2_is_marked(sim, world):
    with h2_client(sim, ssl.TLSVersion.TLSv1_2) as client:
        reply = client.post(sim.urls["sso_base_url"] + "oauth2/v3/token",
                            data=refresh_body(sim.refresh_token_for("elon@tesla.com")))
    assert reply.http_version == "HTTP/2" and reply.status_code == 200
    mint = world.token_mints[-1]
    assert (mint.http_version, mint.tls_version, mint.marked) == ("2", "TLSv1.2", True)


@pytest.mark.parametrize("requires, tls12_h2_marked, tls13_h1_marked", [
    ({"h2"}, False, True),
    ({"tls1.3"}, True, False),
    (set(), False, False),
])
def test_the_minting_rule_is_configurable(sim, requires, tls12_h2_marked, tls13_h1_marked):
    world = sim.reset(World.demo(rules=Rules.named("2026", requires)))
    token_url = sim.urls["sso_base_url"] + "oauth2/v3/token"
    with h2_client(sim, ssl.TLSVersion.TLSv1_2) as client:
        over_tls12 = client.post(token_url,
                                 data=refresh_body(sim.refresh_token_for("elon@tesla.com")))
    over_http11 = requests.post(token_url, verify=sim.ca_file,
                                data=refresh_body(sim.refresh_token_for("elon@tesla.com")))
    assert world.bearer_record(over_tls12.json()["access_token"]).marked is tls12_h2_marked
    assert world.bearer_record(over_http11.json()["access_token"]).marked is tls13_h1_marked
    assert [mint.marked for mint in world.token_mints] == [tls12_h2_marked, tls13_h1_marked]


def test_the_2021_simulator_serves_plain_http_and_marks_nothing(live_server):
    world = live_server.reset()
    assert live_server.ca_file is None and "TESLAPY_CA_BUNDLE" not in live_server.env
    reply = requests.post(live_server.urls["sso_base_url"] + "oauth2/v3/token",
                          data=refresh_body(live_server.refresh_token_for("elon@tesla.com")))
    assert reply.status_code == 200
    mint = world.token_mints[-1]
    assert (mint.http_version, mint.tls_version, mint.marked) == ("1.1", None, False)


def test_stopping_ends_open_connections_and_removes_the_ca_directory():
    before = threading.active_count()
    with running(rules="2026") as simulator:
        ca_file, url = simulator.ca_file, simulator.urls["sso_base_url"] + "oauth2/v3/logout"
        assert os.path.isfile(ca_file)
        client = h2_client(simulator)
        assert client.get(url).http_version == "HTTP/2"          # a kept connection
    try:
        assert not os.path.exists(os.path.dirname(ca_file))
        assert threading.active_count() == before
        with pytest.raises(httpx.TransportError):
            client.get(url)
    finally:
        client.close()


def test_plain_http_or_a_failed_handshake_leaves_the_tls_listener_serving(sim):
    port = sim.ports["sso"]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/oauth2/v3/logout", timeout=5)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://127.0.0.1:{port}/oauth2/v3/logout", timeout=5, verify=True)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01\x00\x05hello")            # a broken ClientHello
        assert raw.recv(1024) is not None
    reply = requests.get(f"https://127.0.0.1:{port}/oauth2/v3/logout", timeout=5,
                         verify=sim.ca_file)
    assert reply.status_code == 200


def test_reset_keeps_the_rules_and_refuses_a_world_of_another_era(sim):
    assert sim.reset().rules.today
    with pytest.raises(ValueError, match="2026"):
        sim.reset(World.demo())
    assert sim.rules.today


# -- refresh tokens ---------------------------------------------------------------------

def test_a_reused_refresh_token_gets_login_required_without_grace(sim, world):
    first = sim.refresh_token_for("elon@tesla.com")
    token_url = sim.urls["sso_base_url"] + "oauth2/v3/token"
    with h2_client(sim) as client:
        assert client.post(token_url, data=refresh_body(first)).status_code == 200
        again = client.post(token_url, data=refresh_body(first))
    assert again.status_code == 401
    body = again.json()
    assert set(body) == {"error", "error_description", "referenceID"}
    assert body["error"] == "login_required" and body["error_description"] == "Login required"
    int(body["referenceID"], 16)
    assert len(world.token_mints) == 1


def test_refresh_token_for_a_cn_account_belongs_to_the_cn_sso(sim, world):
    token = sim.refresh_token_for("cn@tesla.cn")
    with h2_client(sim) as client:
        wrong = client.post(sim.urls["sso_base_url"] + "oauth2/v3/token",
                            data=refresh_body(token))
        right = client.post(sim.urls["sso_cn_base_url"] + "oauth2/v3/token",
                            data=refresh_body(token))
    assert wrong.status_code == 400 and right.status_code == 200
    assert world.bearer_record(right.json()["access_token"]).region == "cn"
    with pytest.raises(ValueError, match="nobody@tesla.com"):
        sim.refresh_token_for("nobody@tesla.com")


# -- the sign-in page ---------------------------------------------------------------------

def open_sign_in(client: httpx.Client, sim, email: str = "elon@tesla.com"):
    verifier, challenge = pkce()
    page = client.get(sim.urls["sso_base_url"] + "oauth2/v3/authorize",
                      params=authorize_params(challenge, email))
    assert page.status_code == 200, page.text
    return verifier, page


def post_form(client: httpx.Client, sim, form: dict) -> httpx.Response:
    return client.post(sim.urls["sso_base_url"] + "oauth2/v3/authorize", data=form)


def test_the_password_form_without_the_script_field_needs_a_recaptcha(sim, world):
    with h2_client(sim) as client:
        verifier, page = open_sign_in(client, sim)
        form = form_of(page.text)
        assert form[sso_pages.PROOF_FIELD] == ""       # the page script fills it in
        for password in ("starship", "wrong"):
            reply = post_form(client, sim, {**form, "identity": "elon@tesla.com",
                                            "credential": password})
            assert reply.status_code == 200
            assert messages_of(reply.text) == {"recaptcha": "Recaptcha is required"}
        forged = post_form(client, sim, {**form, "identity": "elon@tesla.com",
                                         "credential": "starship",
                                         sso_pages.PROOF_FIELD: "00000000"})
        assert messages_of(forged.text) == {"recaptcha": "Recaptcha is required"}
    assert world.auth_codes == {}


def test_the_form_with_the_scripts_proof_signs_in_to_the_app_callback(sim, world):
    with h2_client(sim) as client:
        verifier, page = open_sign_in(client, sim)
        transaction = world.transactions[form_of(page.text)["transaction_id"]]
        proof = sso_pages.browser_proof(transaction.browser_challenge)
        assert f'browserProof("{transaction.browser_challenge}")' in page.text
        form = {**form_of(page.text), "identity": "elon@tesla.com", "credential": "wrong",
                sso_pages.PROOF_FIELD: proof}
        assert messages_of(post_form(client, sim, form).text) == {"_": "Invalid credentials"}
        reply = post_form(client, sim, {**form, "credential": "starship"})
        assert reply.status_code == 302
        location = reply.headers["location"]
        assert location.startswith(APP_CALLBACK + "?")
        params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
        assert set(params) == {"code", "state", "issuer"}
        assert params["issuer"] == sim.urls["sso_base_url"] + "oauth2/v3"
        token = client.post(sim.urls["sso_base_url"] + "oauth2/v3/token", data={
            "grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": APP_CALLBACK, "client_id": "ownerapi", "code_verifier": verifier})
    assert token.status_code == 200
    assert world.token_mints[-1].grant_type == "authorization_code"
    assert world.bearer_record(token.json()["access_token"]).marked is False


@pytest.mark.parametrize("redirect_uri", [VOID_CALLBACK, "https://example.com/cb",
                                          "tesla://auth/callback/"])
def test_any_other_redirect_uri_gets_teslas_html_error_page(sim, redirect_uri):
    with h2_client(sim) as client:
        reply = client.get(sim.urls["sso_base_url"] + "oauth2/v3/authorize",
                           params=authorize_params(pkce()[1], redirect_uri=redirect_uri))
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in reply.text
    assert "The 'redirect_uri' supplied is not registered for this 'client_id'." in reply.text
    assert "Reference ID: " in reply.text
    assert "<form" not in reply.text


def test_the_2021_rules_accept_both_callbacks_and_add_the_issuer(live_server):
    live_server.reset()
    for callback in (APP_CALLBACK, VOID_CALLBACK):
        session = requests.Session()
        page = session.get(live_server.urls["sso_base_url"] + "oauth2/v3/authorize",
                           params=authorize_params(pkce()[1], redirect_uri=callback))
        assert sso_pages.PROOF_FIELD not in form_of(page.text)
        reply = session.post(live_server.urls["sso_base_url"] + "oauth2/v3/authorize",
                             data={**form_of(page.text), "identity": "elon@tesla.com",
                                   "credential": "starship"}, allow_redirects=False)
        location = reply.headers["Location"]
        assert location.startswith(callback + "?code=")
        issuer = parse_qs(urlparse(location).query)["issuer"]
        assert issuer == [live_server.urls["sso_base_url"] + "oauth2/v3"]


# -- the proof the page script computes ------------------------------------------------------

@given(st.text(alphabet="0123456789abcdef", max_size=64))
def test_the_proof_is_eight_hex_digits_and_matches_only_itself(challenge):
    proof = sso_pages.browser_proof(challenge)
    assert len(proof) == 8 and int(proof, 16) >= 0
    assert sso_pages.proof_matches(challenge, proof)
    assert not sso_pages.proof_matches(challenge, proof[::-1] + "0")
    assert not sso_pages.proof_matches(challenge, "")


@given(st.text(max_size=20))
def test_proof_matching_takes_any_answer_without_error(answer):
    assert sso_pages.proof_matches("ab" * 16, answer) == (
        answer == sso_pages.browser_proof("ab" * 16))
