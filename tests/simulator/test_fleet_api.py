"""The simulated Fleet API as a client without teslapy sees it: raw HTTP on real sockets.

The token host's grants and refusals, the gate's 421/412/scope answers, the pairing
page, and a simulated car that refuses replayed, tampered or malformed messages.
"""
from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teslapy.vcp import KeyNotPairedError, build_command
from teslapy.vcp.keys import generate_private_key, public_key_bytes, public_key_pem
from teslapy.vcp.messages import Domain, MessageFault, RoutableMessage
from teslapy.vcp.session import DomainSession
from tests.simulator.sso_helpers import pkce

DEMO, OPEN, DOMAIN = "teslapy-demo", "teslapy-demo-open", "teslapy-demo.example.com"
SECRET = "ta-secret.teslapy-demo-only"
TIM, NIKOLA = "5YJ3E111111111111", "5YJSA1E2XHF123456"


@pytest.fixture
def sim(sim_2026):
    return sim_2026


def token_url(sim) -> str:
    return sim.urls["fleet_auth_base_url"] + "oauth2/v3/token"


def grant(sim, **form) -> requests.Response:
    return requests.post(token_url(sim), data=form, verify=sim.ca_file, timeout=5)


def user_token(sim, scope: str = "openid vehicle_device_data vehicle_cmds",
               email: str = "elon@tesla.com") -> str:
    refresh = sim.fleet_refresh_token_for(email, scope=scope)
    reply = grant(sim, grant_type="refresh_token", client_id=DEMO, refresh_token=refresh)
    reply.raise_for_status()
    return reply.json()["access_token"]


def partner_token(sim, region: str = "na") -> str:
    reply = grant(sim, grant_type="client_credentials", client_id=DEMO, client_secret=SECRET,
                  audience=sim.urls[f"fleet_{region}_base_url"].rstrip("/"))
    reply.raise_for_status()
    return reply.json()["access_token"]


def call(sim, method: str, path: str, token: str, region: str = "na", **kwargs):
    return requests.request(method, sim.urls[f"fleet_{region}_base_url"] + path, timeout=5,
                            headers={"Authorization": f"Bearer {token}"}, **kwargs)


@pytest.fixture
def client_key(sim):
    """A key the demo app registered in NA and the owner paired with Tim's Tesla."""
    key = generate_private_key()
    sim.world.fleet.register(DEMO, "na", DOMAIN, public_key_pem(key))
    sim.world.fleet.approve(DOMAIN, TIM)
    return key


def signed(sim, token: str, vin: str = TIM):
    """A transport for a DomainSession: each message through ``signed_command``; keeps them."""
    sent = []

    def send(message: bytes) -> bytes:
        sent.append(message)
        reply = call(sim, "POST", f"api/1/vehicles/{vin}/signed_command", token,
                     json={"routable_message": base64.b64encode(message).decode()})
        reply.raise_for_status()
        return base64.b64decode(reply.json()["response"])
    send.sent = sent
    return send


# -- the token host -------------------------------------------------------------------------


def test_the_token_host_refuses_unknown_apps_wrong_secrets_and_foreign_audiences(sim):
    assert grant(sim, grant_type="client_credentials", client_id="nobody",
                 client_secret="x").json()["error"] == "invalid_client"
    wrong = grant(sim, grant_type="client_credentials", client_id=DEMO, client_secret="x",
                  audience=sim.urls["fleet_na_base_url"])
    assert (wrong.status_code, wrong.json()["error"]) == (400, "unauthorized_client")
    foreign = grant(sim, grant_type="client_credentials", client_id=DEMO, client_secret=SECRET,
                    audience="https://example.com")
    assert foreign.json()["error"] == "invalid_request"
    assert grant(sim, grant_type="password").json()["error"] == "unsupported_grant_type"


def test_an_open_source_app_signs_in_with_pkce_but_gets_no_partner_token(sim):
    assert grant(sim, grant_type="client_credentials", client_id=OPEN,
                 client_secret="anything").json()["error"] == "unauthorized_client"


def test_a_refresh_token_works_once(sim):
    refresh = sim.fleet_refresh_token_for("elon@tesla.com")
    first = grant(sim, grant_type="refresh_token", client_id=DEMO, refresh_token=refresh)
    assert first.status_code == 200 and first.json()["refresh_token"] != refresh
    again = grant(sim, grant_type="refresh_token", client_id=DEMO, refresh_token=refresh)
    assert (again.status_code, again.json()["error"]) == (401, "login_required")
    other_app = grant(sim, grant_type="refresh_token", client_id=OPEN,
                      refresh_token=first.json()["refresh_token"])
    assert other_app.json()["error"] == "invalid_grant"


def authorize(sim, client_id: str, redirect_uri: str, challenge=None) -> requests.Response:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid vehicle_cmds", "state": "s1"}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return requests.get(sim.urls["sso_base_url"] + "oauth2/v3/authorize?" + urlencode(params),
                        verify=sim.ca_file, timeout=5, allow_redirects=False)


def test_the_sso_takes_an_apps_own_redirect_uri_and_no_other(sim):
    _verifier, challenge = pkce()
    assert authorize(sim, OPEN, "http://localhost:8421/callback", challenge).status_code == 200
    assert authorize(sim, DEMO, "https://teslapy-demo.example.com/callback").status_code == 200
    wrong = authorize(sim, DEMO, "tesla://auth/callback", challenge)
    assert wrong.status_code == 400 and wrong.json()["error"]["reason"] == "AuthorizationError"
    no_pkce = authorize(sim, OPEN, "http://localhost:8421/callback")
    assert "code_challenge" in dict(parse_qsl(urlsplit(no_pkce.headers["Location"]).query))[
        "error_description"]


# -- the gate ------------------------------------------------------------------------------


def test_an_unregistered_app_gets_412_and_an_account_of_another_region_421(sim):
    token = user_token(sim)
    refused = call(sim, "GET", "api/1/vehicles", token)
    assert refused.status_code == 412
    assert refused.json()["error"].startswith(
        f"Account {DEMO} must be registered in the current region "
        f"{sim.urls['fleet_na_base_url'].rstrip('/')}, please see")
    sim.world.fleet.register(DEMO, "eu", DOMAIN, public_key_pem(generate_private_key()))
    misdirected = call(sim, "GET", "api/1/vehicles", token, region="eu")
    assert misdirected.status_code == 421
    assert f"use base URL: {sim.urls['fleet_na_base_url'].rstrip('/')}" in \
        misdirected.json()["error"]
    sim.world.fleet.regions["elon@tesla.com"] = "eu"
    assert call(sim, "GET", "api/1/vehicles", token, region="eu").status_code == 200
    region = call(sim, "GET", "api/1/users/region", token, region="eu").json()["response"]
    assert region == {"region": "eu",
                      "fleet_api_base_url": sim.urls["fleet_eu_base_url"].rstrip("/")}


def test_tokens_work_only_on_their_own_api_and_partner_tokens_only_for_partners(sim, client_key):
    fleet, owner = user_token(sim), sim.refresh_token_for("elon@tesla.com")
    owner_access = requests.post(sim.urls["sso_base_url"] + "oauth2/v3/token", verify=sim.ca_file,
                                 data={"grant_type": "refresh_token", "client_id": "ownerapi",
                                       "refresh_token": owner}, timeout=5).json()["access_token"]
    assert call(sim, "GET", "api/1/products", owner_access).status_code == 401
    assert requests.get(sim.urls["api_base_url"] + "api/1/products", timeout=5, headers={
        "Authorization": f"Bearer {fleet}"}).status_code == 401
    assert call(sim, "GET", "api/1/vehicles", partner_token(sim)).status_code == 403
    assert call(sim, "POST", "api/1/partner_accounts", fleet,
                json={"domain": DOMAIN}).status_code == 403
    narrow = user_token(sim, scope="openid")
    assert call(sim, "GET", f"api/1/vehicles/{TIM}/vehicle_data", narrow).json()["error"] == \
        "Unauthorized missing scopes"


def test_vehicle_data_refuses_an_unknown_endpoint(sim, client_key):
    reply = call(sim, "GET", f"api/1/vehicles/{TIM}/vehicle_data", user_token(sim),
                 params={"endpoints": "charge_state;nonsense"})
    assert reply.status_code == 400 and "nonsense" in reply.json()["error"]


# -- the pairing page ------------------------------------------------------------------------


def test_the_pairing_page_shows_the_app_and_pairs_only_for_the_owner(sim):
    key = generate_private_key()
    page = sim.urls["fleet_pairing_url"] + DOMAIN
    assert requests.get(page, timeout=5).status_code == 404       # nobody registered it yet
    sim.world.fleet.register(DEMO, "eu", DOMAIN, public_key_bytes(key).hex())
    shown = requests.get(page, timeout=5)
    assert shown.status_code == 200 and "teslapy demo" in shown.text and "Approve" in shown.text
    owner = {"email": "elon@tesla.com", "password": "starship", "vin": TIM}
    assert requests.post(page, data={**owner, "password": "wrong"}, timeout=5).status_code == 401
    assert requests.post(page, data={**owner, "vin": "5YJ3E1EA7KF000003"},
                         timeout=5).status_code == 404                      # not elon's car
    assert public_key_bytes(key) not in sim.world.fleet.security(TIM).paired
    assert requests.post(page, data=owner, timeout=5).status_code == 200
    assert public_key_bytes(key) in sim.world.fleet.security(TIM).paired


# -- the simulated car ---------------------------------------------------------------------------


def test_a_replayed_message_is_refused_and_runs_nothing(sim, client_key):
    send = signed(sim, user_token(sim))
    session = DomainSession(client_key, TIM, Domain.VEHICLE_SECURITY)
    session.run(build_command("LOCK", {})[1], send)
    assert sim.world.vehicles[0].data["vehicle_state"]["locked"] is True
    sim.world.vehicles[0].data["vehicle_state"]["locked"] = False
    replayed = RoutableMessage.decode(send(send.sent[-1]))
    assert replayed.fault == MessageFault.INVALID_TOKEN_OR_COUNTER
    assert sim.world.vehicles[0].data["vehicle_state"]["locked"] is False
    assert [run.name for run in sim.world.fleet.signed_runs] == ["door_lock"]


def test_a_tampered_message_is_refused_and_runs_nothing(sim, client_key):
    send = signed(sim, user_token(sim))
    session = DomainSession(client_key, TIM, Domain.INFOTAINMENT)
    session.handshake(send)
    honk = session.sign(build_command("HONK_HORN", {})[1])
    flash = build_command("FLASH_LIGHTS", {})[1]
    message = RoutableMessage.decode(honk.data)
    message.protobuf_message_as_bytes = flash                 # same signature, other command
    answer = RoutableMessage.decode(send(message.encode()))
    assert answer.fault == MessageFault.INVALID_SIGNATURE
    assert answer.session_info is not None                    # so an honest client can resync
    assert sim.world.fleet.signed_runs == []


def test_a_key_the_owner_did_not_pair_is_unknown_to_the_car(sim, client_key):
    stranger = generate_private_key()
    session = DomainSession(stranger, TIM, Domain.INFOTAINMENT)
    send = signed(sim, user_token(sim))
    with pytest.raises(KeyNotPairedError, match="does not know this command key"):
        session.run(build_command("HONK_HORN", {})[1], send)
    assert sim.world.fleet.signed_runs == []


def test_a_car_without_the_protocol_answers_422_and_a_bad_body_400(sim, client_key):
    token = user_token(sim)
    message = {"routable_message": base64.b64encode(b"\x00").decode()}
    assert call(sim, "POST", f"api/1/vehicles/{NIKOLA}/signed_command", token,
                json=message).status_code == 422
    for body in ({}, {"routable_message": "not base64!"}, {"routable_message": 7}):
        assert call(sim, "POST", f"api/1/vehicles/{TIM}/signed_command", token,
                    json=body).status_code == 400


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=200))
def test_any_bytes_get_a_protocol_answer_never_a_crash(sim, client_key, data):
    reply = call(sim, "POST", f"api/1/vehicles/{TIM}/signed_command", user_token(sim),
                 json={"routable_message": base64.b64encode(data).decode()})
    assert reply.status_code == 200
    answer = RoutableMessage.decode(base64.b64decode(reply.json()["response"]))
    assert answer.fault or answer.session_info is not None


@given(st.text(max_size=80))
def test_the_endpoints_parameter_is_a_set_of_known_names_or_a_400(text):
    from teslasim.data_groups import ENDPOINTS, requested
    from teslasim.errors import ModelError

    try:
        names = requested(text)
    except ModelError as error:
        assert error.status == 400 and "unknown vehicle data endpoint" in error.message
        return
    assert names <= ENDPOINTS
    assert names == {name.strip() for name in text.split(";") if name.strip()}
