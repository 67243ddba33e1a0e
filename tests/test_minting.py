"""Tokens are minted over HTTP/2 with TLS 1.3, as Tesla requires since June 2026.

Against the simulator's 2026 rules over real TLS sockets: the simulator records how
every token was minted (HTTP version, TLS version) and marks those minted otherwise,
which its Owner API then refuses with Tesla's 403. Small servers of the tests' own
stand in for an SSO that cannot speak HTTP/2 or TLS 1.3.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import ssl
import threading
import time

import pytest
import requests

import teslapy
from teslapy import auth
from teslasim.sso_pages import PROOF_FIELD, browser_proof
from teslasim.tls import Certificates

PASSWORD = "starship"
PROOF_CALL = re.compile(r'browserProof\("([^"]+)"\)')


def browser_sign_in(url: str, ca_file: str, email: str = "elon@tesla.com") -> str:
    """Sign in as a browser would, running the page's script; returns where it is sent."""
    with requests.Session() as browser:
        browser.verify = ca_file
        page = browser.get(url, timeout=5)
        page.raise_for_status()
        form = auth.parse_form(page.text)
        form.update(identity=email, credential=PASSWORD)
        form[PROOF_FIELD] = browser_proof(PROOF_CALL.search(page.text).group(1))
        reply = browser.post(page.url, data=form, allow_redirects=False, timeout=5)
        assert reply.status_code == 302, reply.text[:300]
        return reply.headers["Location"]


@pytest.fixture
def make_tesla_2026(sim_2026, tmp_path):
    """``Tesla`` objects aimed at the 2026 simulator, trusting its CA through the environment."""
    made = []

    def make(email="elon@tesla.com", password=None, **kwargs):
        kwargs.setdefault("cache_file", str(tmp_path / "cache.json"))
        for name, key in (("sso_base_url", "sso_base_url"), ("api_base_url", "api_base_url"),
                          ("streaming_base_url", "streaming_base_url")):
            kwargs.setdefault(name, sim_2026.urls[key])
        tesla = teslapy.Tesla(email, password, **kwargs)
        made.append(tesla)
        return tesla

    os.environ["TESLAPY_CA_BUNDLE"] = sim_2026.ca_file
    try:
        yield make
    finally:
        os.environ.pop("TESLAPY_CA_BUNDLE", None)
        for tesla in made:
            tesla.close()


def test_a_browser_sign_in_mints_over_http2_with_tls13_and_the_token_works(make_tesla_2026, sim_2026):
    tesla = make_tesla_2026(authenticator=lambda url: browser_sign_in(url, sim_2026.ca_file))
    assert tesla.verify == sim_2026.ca_file                     # TESLAPY_CA_BUNDLE
    tesla.fetch_token()
    (mint,) = sim_2026.world.token_mints
    assert (mint.grant_type, mint.http_version, mint.tls_version, mint.marked) == \
        ("authorization_code", "2", "TLSv1.3", False)
    cars = tesla.vehicle_list()                                 # 412 there: from the products
    assert [car["display_name"] for car in cars] == ["Tim's Tesla", "Nikola", "Road Runner"]
    assert cars[0].get_vehicle_data()["display_name"] == "Tim's Tesla"


def test_an_imported_refresh_token_is_minted_over_http2_and_refreshed_the_same_way(make_tesla_2026, sim_2026):
    tesla = make_tesla_2026()
    tesla.refresh_token(refresh_token=sim_2026.refresh_token_for("elon@tesla.com"))
    sim_2026.world.clock.advance(9 * 3600)                      # past the access token's life
    tesla.token["created_at"] -= 9 * 3600                       # this process's clock agrees
    assert tesla.battery_list()
    mints = sim_2026.world.token_mints
    assert [m.grant_type for m in mints] == ["refresh_token", "refresh_token"]
    assert all(m.http_version == "2" and m.tls_version == "TLSv1.3" and not m.marked for m in mints)


def test_a_token_minted_over_http11_is_refused_and_teslapy_heals_it_once(make_tesla_2026, sim_2026):
    refresh = sim_2026.refresh_token_for("elon@tesla.com")
    reply = requests.post(sim_2026.urls["sso_base_url"] + "oauth2/v3/token", verify=sim_2026.ca_file,
                          data=auth.refresh_grant_form(refresh), timeout=5)   # HTTP/1.1
    assert reply.status_code == 200                             # the SSO answers 200 either way
    tainted = reply.json()
    assert sim_2026.world.token_mints[-1].marked
    refused = requests.get(sim_2026.urls["api_base_url"] + "api/1/products", timeout=5,
                           headers={"Authorization": "Bearer " + tainted["access_token"]})
    assert refused.status_code == 403 and refused.json() == {
        "response": None, "error": "forbidden, see https://developer.tesla.com/docs/fleet-api",
        "error_description": ""}
    tesla = make_tesla_2026()
    tesla.sso_token = dict(tainted, created_at=1, expires_at=1)
    tesla.token = teslapy.session.bearer_from_sso(dict(tainted, created_at=int(time.time())))
    assert tesla.battery_list()                                 # renewed over HTTP/2, then served
    assert not sim_2026.world.token_mints[-1].marked and sim_2026.world.token_mints[-1].http_version == "2"


def test_a_reused_refresh_token_is_caught_and_the_working_token_kept(make_tesla_2026, sim_2026):
    tesla = make_tesla_2026()
    spent = sim_2026.refresh_token_for("elon@tesla.com")
    tesla.refresh_token(refresh_token=spent)
    working = dict(tesla.token), dict(tesla.sso_token)
    with pytest.raises(teslapy.LoginRequired, match="login_required"):
        tesla.refresh_token(refresh_token=spent)
    assert (tesla.token, tesla.sso_token) == working
    assert tesla.battery_list()


def test_the_password_sign_in_meets_the_recaptcha(make_tesla_2026, sim_2026):
    tesla = make_tesla_2026(password=PASSWORD)
    with pytest.raises(teslapy.RecaptchaRequiredError):
        tesla.fetch_token()
    assert sim_2026.world.token_mints == [] and not tesla.authorized


def test_an_untrusted_certificate_is_an_ssl_error_and_nothing_is_minted(sim_2026, tmp_path):
    with teslapy.Tesla("elon@tesla.com", cache_file=str(tmp_path / "c.json"),
                       sso_base_url=sim_2026.urls["sso_base_url"]) as tesla:
        with pytest.raises(requests.exceptions.SSLError, match="not trusted"):
            tesla.refresh_token(refresh_token=sim_2026.refresh_token_for("elon@tesla.com"))
    assert sim_2026.world.token_mints == [] and not (tmp_path / "c.json").exists()


def test_verify_false_holds_whatever_the_environment_says(sim_2026, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    with teslapy.Tesla("elon@tesla.com", cache_file=str(tmp_path / "c.json"), verify=False,
                       sso_base_url=sim_2026.urls["sso_base_url"],
                       api_base_url=sim_2026.urls["api_base_url"]) as tesla:
        tesla.refresh_token(refresh_token=sim_2026.refresh_token_for("elon@tesla.com"))
        assert tesla.battery_list()


# -- SSO hosts that cannot give HTTP/2 with TLS 1.3 -------------------------------------------


class TokenEndpoint(http.server.BaseHTTPRequestHandler):
    """An HTTP/1.1-only token endpoint that counts what reached it."""

    protocol_version = "HTTP/1.1"
    posts: list = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        TokenEndpoint.posts.append(self.rfile.read(length))
        body = json.dumps({"access_token": "x", "refresh_token": "y", "expires_in": 60}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http11_sso():
    """A TLS server speaking only HTTP/1.1; ``maximum`` caps its TLS version."""
    servers = []
    certificates = Certificates()

    def start(maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> str:
        TokenEndpoint.posts = []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.chain_file, certificates.key_file)
        context.maximum_version = maximum
        context.set_alpn_protocols(["http/1.1"])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}/"

    yield start, certificates.ca_file
    for server in servers:
        server.shutdown()
        server.server_close()
    certificates.remove()


def test_an_sso_without_http2_mints_nothing(http11_sso, tmp_path):
    start, ca_file = http11_sso
    url = start()
    with teslapy.Tesla("elon@tesla.com", cache_file=str(tmp_path / "c.json"), verify=ca_file,
                       sso_base_url=url) as tesla:
        with pytest.raises(teslapy.Http2UnavailableError, match="did not speak HTTP/2") as caught:
            tesla.refresh_token(refresh_token="a-refresh-token")
    assert isinstance(caught.value, requests.ConnectionError)
    assert TokenEndpoint.posts == []                        # no HTTP/1.1 request ever reached it
    assert not (tmp_path / "c.json").exists()


def test_an_sso_below_tls13_mints_nothing(http11_sso, tmp_path):
    start, ca_file = http11_sso
    url = start(maximum=ssl.TLSVersion.TLSv1_2)
    with teslapy.Tesla("elon@tesla.com", cache_file=str(tmp_path / "c.json"), verify=ca_file,
                       sso_base_url=url) as tesla:
        with pytest.raises(teslapy.Http2UnavailableError, match="TLS 1.3"):
            tesla.refresh_token(refresh_token="a-refresh-token")
    assert TokenEndpoint.posts == [] and not (tmp_path / "c.json").exists()


def test_one_http2_connection_serves_every_mint_of_a_session(make_tesla_2026, sim_2026):
    tesla = make_tesla_2026()
    tesla.refresh_token(refresh_token=sim_2026.refresh_token_for("elon@tesla.com"))
    client = tesla._token_client._client
    tesla.refresh_token()
    tesla.refresh_token()
    assert tesla._token_client._client is client and len(sim_2026.world.token_mints) == 3


def test_a_china_account_s_tokens_work_only_on_the_china_hosts(sim_2026, tmp_path, monkeypatch):
    for name in ("TESLAPY_SSO_CN_BASE_URL", "TESLAPY_API_CN_BASE_URL", "TESLAPY_STREAMING_CN_BASE_URL",
                 "TESLAPY_CA_BUNDLE"):
        monkeypatch.setenv(name, sim_2026.env[name])
    refresh = sim_2026.refresh_token_for("cn@tesla.cn")
    with teslapy.Tesla("cn@tesla.cn", cache_file=str(tmp_path / "c.json"),
                       sso_base_url=sim_2026.urls["sso_cn_base_url"]) as tesla:
        tesla.refresh_token(refresh_token=refresh)
        assert tesla.api_base_url == sim_2026.urls["api_cn_base_url"]
        assert tesla.streaming_base_url == sim_2026.urls["streaming_cn_base_url"]
        assert [car["display_name"] for car in tesla.vehicle_list()] == ["Shanghai Express"]
        elsewhere = requests.get(sim_2026.urls["api_base_url"] + "api/1/products", timeout=5,
                                 headers={"Authorization": "Bearer " + tesla.token["access_token"]})
    assert elsewhere.status_code == 401
    assert sim_2026.world.token_mints[-1].region == "cn"


def test_a_china_refresh_token_is_imported_at_the_china_sso_by_its_issuer(sim_2026, tmp_path, monkeypatch):
    for name in ("TESLAPY_SSO_CN_BASE_URL", "TESLAPY_API_CN_BASE_URL", "TESLAPY_CA_BUNDLE"):
        monkeypatch.setenv(name, sim_2026.env[name])
    with teslapy.Tesla("cn@tesla.cn", cache_file=str(tmp_path / "c.json"),
                       sso_base_url=sim_2026.urls["sso_base_url"]) as tesla:     # the global one
        tesla.refresh_token(refresh_token=sim_2026.refresh_token_for("cn@tesla.cn"))
        assert tesla.active_sso_base_url == sim_2026.urls["sso_cn_base_url"]
        assert tesla.api_base_url == sim_2026.urls["api_cn_base_url"]
        assert [car["display_name"] for car in tesla.vehicle_list()] == ["Shanghai Express"]
