"""Fixtures for the Fleet API tests: the 2026 simulator, sessions of its demo apps, keys."""
from __future__ import annotations

import re
from typing import Optional

import pytest
import requests

import teslapy
from teslapy import auth
from teslapy.vcp.keys import create_key_file, public_key_pem
from teslasim.sso_pages import PROOF_FIELD, browser_proof

DEMO_APP = "teslapy-demo"              # has a secret
OPEN_APP = "teslapy-demo-open"         # open source: PKCE only
DOMAIN = "teslapy-demo.example.com"
OPEN_DOMAIN = "open.teslapy-demo.example.com"
EMAIL = "elon@tesla.com"
PASSWORD = "starship"
TIM = "5YJ3E111111111111"              # Model 3: signed commands only
NIKOLA = "5YJSA1E2XHF123456"           # 2017 Model S: REST commands
PROOF_CALL = re.compile(r'browserProof\("([^"]+)"\)')


def fleet_hosts(sim) -> dict:
    """The TeslaFleet keyword arguments that aim it at the simulator ``sim``."""
    return {"fleet_base_urls": {region: sim.urls[f"fleet_{region}_base_url"]
                                for region in teslapy.fleet.REGIONS},
            "fleet_auth_base_url": sim.urls["fleet_auth_base_url"],
            "pairing_url": sim.urls["fleet_pairing_url"],
            "sso_base_url": sim.urls["sso_base_url"], "verify": sim.ca_file}


def browser_sign_in(url: str, ca_file: Optional[str], email: str = EMAIL) -> str:
    """Sign in on the SSO page as a browser would (running its script); returns where it goes."""
    with requests.Session() as browser:
        browser.verify = ca_file if ca_file else True
        page = browser.get(url, timeout=5)
        page.raise_for_status()
        form = auth.parse_form(page.text)
        form.update(identity=email, credential=PASSWORD)
        proof = PROOF_CALL.search(page.text)
        if proof:
            form[PROOF_FIELD] = browser_proof(proof.group(1))
        reply = browser.post(page.url, data=form, allow_redirects=False, timeout=5)
        assert reply.status_code == 302, reply.text[:300]
        return reply.headers["Location"]


def pair_in_the_app(sim, vin: str, domain: str = DOMAIN, email: str = EMAIL) -> requests.Response:
    """The owner approves the app's key for the car on the pairing page."""
    return requests.post(sim.urls["fleet_pairing_url"] + domain, timeout=5,
                         data={"email": email, "password": PASSWORD, "vin": vin})


@pytest.fixture
def sim(sim_2026):
    """The simulated cloud under the 2026 rules, with a fresh world."""
    return sim_2026


@pytest.fixture
def key_file(tmp_path) -> str:
    path = str(tmp_path / "command-key.pem")
    create_key_file(path)
    return path


@pytest.fixture
def register(sim):
    """Register an app's domain with a key in some regions, as its developer would."""
    def register(key_path: str, client_id: str = DEMO_APP, domain: str = DOMAIN,
                 regions=("na", "eu")) -> None:
        pem = public_key_pem(teslapy.vcp.load_key_file(key_path))
        for region in regions:
            sim.world.fleet.register(client_id, region, domain, pem)
    return register


@pytest.fixture
def make_fleet(sim, tmp_path):
    """Build TeslaFleet sessions of a demo app aimed at the simulator; closed afterwards."""
    made = []

    def make(email: str = EMAIL, client_id: str = DEMO_APP, **kwargs) -> teslapy.TeslaFleet:
        app = sim.world.fleet.app(client_id)
        kwargs.setdefault("client_secret", app.client_secret)
        kwargs.setdefault("redirect_uri", app.redirect_uris[0])
        kwargs.setdefault("cache_file", str(tmp_path / "cache.json"))
        kwargs.setdefault("domain", DOMAIN if client_id == DEMO_APP else OPEN_DOMAIN)
        for name, value in fleet_hosts(sim).items():
            kwargs.setdefault(name, value)
        tesla = teslapy.TeslaFleet(email, client_id, **kwargs)
        made.append(tesla)
        return tesla

    yield make
    for tesla in made:
        tesla.close()


@pytest.fixture
def signed_in(sim, make_fleet):
    """A TeslaFleet of the demo app signed in to the demo account (a refresh token imported)."""
    def sign_in(email: str = EMAIL, **kwargs) -> teslapy.TeslaFleet:
        tesla = make_fleet(email, **kwargs)
        tesla.refresh_token(refresh_token=sim.fleet_refresh_token_for(
            email, kwargs.get("client_id", DEMO_APP)))
        return tesla
    return sign_in


def car(tesla: teslapy.TeslaFleet, vin: str) -> teslapy.Vehicle:
    return next(vehicle for vehicle in tesla.vehicle_list() if vehicle["vin"] == vin)
