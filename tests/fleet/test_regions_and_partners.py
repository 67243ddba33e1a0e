"""Partner tokens and registration per region, region discovery and the 421 switch.

The 412, 421 and partner answers come from the simulated Fleet API listeners of each
region over real sockets, with the bodies Tesla sends.
"""
from __future__ import annotations

import json

import pytest
import requests

import teslapy
from teslapy.vcp import load_key_file, public_key_pem
from tests.fleet.conftest import DOMAIN, EMAIL, OPEN_APP


def test_calls_before_registration_get_412_saying_to_register_in_that_region(
        sim, signed_in, key_file):
    sim.world.fleet.regions[EMAIL] = "eu"
    tesla = signed_in(region="eu")
    with pytest.raises(teslapy.PartnerNotRegisteredError) as refused:
        tesla.vehicle_list()
    message = str(refused.value)
    assert refused.value.response.status_code == 412
    assert "must be registered in the current region " + sim.urls["fleet_eu_base_url"].rstrip("/") \
        in message
    assert "register_partner" in message and "Register the app's domain in this region" in message
    assert not isinstance(refused.value, teslapy.FleetApiRequiredError)

    pem = public_key_pem(load_key_file(key_file))
    answer = tesla.register_partner(public_key=pem)["response"]
    assert (answer["domain"], answer["region"]) == (DOMAIN, "eu")
    assert tesla.partner_public_key() == answer["public_key"]
    assert answer["public_key"] == teslapy.vcp.keys.public_key_bytes(
        load_key_file(key_file)).hex()
    assert len(tesla.vehicle_list()) == 3              # registered in EU now
    with pytest.raises(requests.HTTPError) as elsewhere:
        tesla.partner_public_key(region="na")          # but not in NA
    assert elsewhere.value.response.status_code == 404


def test_a_partner_token_is_minted_once_per_region_and_kept_in_memory_only(sim, make_fleet):
    tesla = make_fleet()
    first = tesla.partner_token()
    assert tesla.partner_token() is first
    assert tesla.partner_token("eu") is not first
    record = sim.world.bearers[first["access_token"]]
    assert (record.kind, record.client_id, record.email) == ("partner", "teslapy-demo", "")
    assert "offline_access" not in record.scopes and "vehicle_cmds" in record.scopes
    assert not tesla.authorized                       # no user token, nothing cached
    assert tesla.cache_loader() == {}


def test_an_open_source_app_gets_no_partner_token(make_fleet):
    with pytest.raises(ValueError, match="client_secret"):
        make_fleet(client_id=OPEN_APP).register_partner()


def test_registration_refuses_a_foreign_domain_and_a_missing_key(make_fleet, key_file):
    tesla = make_fleet()
    pem = public_key_pem(load_key_file(key_file))
    with pytest.raises(requests.HTTPError) as foreign:
        tesla.register_partner("example.org", public_key=pem)
    assert foreign.value.response.status_code == 400
    with pytest.raises(requests.HTTPError) as no_key:
        tesla.register_partner()
    assert no_key.value.response.status_code == 424
    assert "Public key download failed" in str(no_key.value)
    with pytest.raises(ValueError, match="domain"):
        tesla.register_partner("https://teslapy-demo.example.com/")


def test_the_region_is_discovered_at_first_use_and_remembered(sim, signed_in, make_fleet,
                                                              register, key_file):
    register(key_file)
    sim.world.fleet.regions[EMAIL] = "eu"
    tesla = signed_in()
    assert tesla.region == "na"                        # a guess until asked
    lookups = sim.faults.add(path=r"/users/region$", status=None, times=None)
    assert len(tesla.vehicle_list()) == 3
    assert tesla.region == "eu" and lookups.hits == 1
    with open(tesla.cache_file, encoding="utf-8") as handle:
        entry = json.load(handle)[f"{EMAIL} fleet:teslapy-demo"]
    assert (entry["region"], entry["api_url"]) == ("eu", sim.urls["fleet_eu_base_url"])
    again = make_fleet()
    assert len(again.vehicle_list()) == 3 and again.region == "eu"
    assert make_fleet().request("GET", "api/1/products")["count"] == 5
    assert lookups.hits == 1                           # taken from the cache


def test_a_421_moves_the_session_to_the_region_it_names(sim, signed_in, register, key_file):
    register(key_file)
    sim.world.fleet.regions[EMAIL] = "eu"
    tesla = signed_in(region="na")
    misdirected = sim.faults.add(service="fleet_na", path=r"/api/1/", status=None, times=None)
    assert len(tesla.vehicle_list()) == 3
    assert tesla.region == "eu" and misdirected.hits == 1
    assert tesla.api_base_url == sim.urls["fleet_eu_base_url"]


def test_a_421_is_followed_once(sim, signed_in, register, key_file):
    register(key_file)
    tesla = signed_in(region="na")
    eu = sim.urls["fleet_eu_base_url"].rstrip("/")
    na = sim.urls["fleet_na_base_url"].rstrip("/")
    there = sim.faults.add(service="fleet_na", path=r"/api/1/vehicles$", status=421,
                           body={"response": None, "error": f"user out of region, use base "
                                 f"URL: {eu}, see https://developer.tesla.com/docs"})
    back = sim.faults.add(service="fleet_eu", path=r"/api/1/vehicles$", status=421,
                          body={"response": None, "error": f"user out of region, use base "
                                f"URL: {na}, see https://developer.tesla.com/docs"})
    with pytest.raises(teslapy.WrongRegionError) as refused:
        tesla.vehicle_list()
    assert (there.hits, back.hits) == (1, 1)
    assert na in str(refused.value)


def test_a_421_naming_a_foreign_host_is_not_followed(sim, signed_in, register, key_file):
    register(key_file)
    tesla = signed_in(region="na")
    sim.faults.add(service="fleet_na", path=r"/api/1/vehicles$", status=421, body={
        "response": None, "error": "user out of region, use base URL: "
                                   "https://fleet-api.attacker.example.com"})
    with pytest.raises(teslapy.WrongRegionError):
        tesla.vehicle_list()
    assert tesla.region == "na"


def test_china_uses_the_china_sso_and_fleet_host(sim, make_fleet):
    tesla = make_fleet("cn@tesla.cn", region="cn", sso_base_url=None)
    assert (tesla.region, tesla.api_base_url) == ("cn", sim.urls["fleet_cn_base_url"])
    assert tesla.sso_base_url == "https://auth.tesla.cn/"
    assert teslapy.TeslaFleet("a@b.cn", "app", region="cn").api_base_url == \
        "https://fleet-api.prd.cn.vn.cloud.tesla.cn/"
    with pytest.raises(ValueError, match="region"):
        make_fleet(region="us")
