"""The Owner API under the 2026 rules, over real sockets, next to the unchanged 2021 rules.

Bearers are put into the world directly (``world.issue_bearer``), as the SSO would
mint them, so each rule of the Owner API host is tested on its own.
"""
from __future__ import annotations

import json
from importlib import resources

import pytest
import requests

from teslasim.rules import Rules
from teslasim.server import running
from teslasim.state import World

ELON = "elon@tesla.com"
CN = "cn@tesla.cn"
TIM = "12345678901234567"          # Model 3, online
NIKOLA = "23456789012345678"       # Model S of 2017 (VIN year H), asleep
ROAD_RUNNER = "34567890123456789"  # Model Y, online, driving
SHANGHAI = "56789012345678901"     # the China account's Model 3
SITE_ID = 111110110110
BATTERY_ID = "STE10110111-00101"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
OWNER_CLIENT_ID = "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"

MINTING_GATE = {"response": None,
                "error": "forbidden, see https://developer.tesla.com/docs/fleet-api",
                "error_description": ""}
FLEET_API_ONLY = {"response": None,
                  "error": "Endpoint is only available on fleetapi. "
                           "Visit https://developer.tesla.com/docs for more info",
                  "error_description": ""}
COMMAND_PROTOCOL = {"response": None,
                    "error": "Tesla Vehicle Command Protocol required, please refer to the "
                             "documentation here: https://developer.tesla.com/docs/fleet-api"
                             "#2023-10-09-rest-api-vehicle-commands-endpoint-deprecation-warning",
                    "error_description": ""}
GRANT_RETIRED = {"error": "unsupported_grant_type",
                 "error_description": "The authorization grant type is not supported by the "
                                      "authorization server."}
INVALID_BEARER = {"response": None, "error": "invalid bearer token", "error_description": ""}

# Every kind of authenticated data call: user reads, car reads, wake-up, a command,
# energy reads and an energy setting (method, path, JSON body).
DATA_CALLS = [
    ("GET", "api/1/products", None),
    ("GET", "api/1/vehicles", None),
    ("GET", "api/1/users/service_scheduling_data", None),
    ("GET", f"api/1/vehicles/{TIM}", None),
    ("GET", f"api/1/vehicles/{TIM}/vehicle_data", None),
    ("GET", f"api/1/vehicles/{TIM}/data_request/charge_state", None),
    ("GET", f"api/1/vehicles/{TIM}/nearby_charging_sites", None),
    ("POST", f"api/1/vehicles/{TIM}/wake_up", None),
    ("POST", f"api/1/vehicles/{NIKOLA}/command/flash_lights", {}),
    ("GET", f"api/1/energy_sites/{SITE_ID}/live_status", None),
    ("GET", f"api/1/powerwalls/{BATTERY_ID}", None),
    ("POST", f"api/1/energy_sites/{SITE_ID}/backup", {"backup_reserve_percent": 30}),
]


@pytest.fixture(scope="module")
def server_2026():
    """A simulator of its own, started with the 2026 rules."""
    with running(world=World.demo(rules=Rules.named("2026"))) as simulator:
        yield simulator


@pytest.fixture
def today(server_2026):
    """The 2026 simulator with a fresh demo world (still under the 2026 rules)."""
    server_2026.reset()
    assert server_2026.world.rules.today
    return server_2026


def call(sim, token: str, method: str, path: str, body=None, host: str = "api_base_url"):
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, sim.urls[host] + path, headers=headers, json=body,
                            timeout=10)


def bearer(world: World, email: str = ELON, *, region: str = "global",
           marked: bool = False) -> str:
    """A token as the SSO would mint it: an SSO access token, used as the Owner API bearer."""
    return world.issue_bearer(email, "sso", 3600, region=region, marked=marked)


def fleet_with(change) -> dict:
    """The demo fleet document with ``change(fleet)`` applied."""
    text = resources.files("teslasim").joinpath("fleet.json").read_text("utf-8")
    fleet = json.loads(text)
    change(fleet)
    return fleet


# -- the minting gate ----------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body", DATA_CALLS)
def test_a_marked_token_gets_the_minting_gate_403_on_every_data_call(today, method, path, body):
    token = bearer(today.world, marked=True)
    reply = call(today, token, method, path, body)
    assert reply.status_code == 403
    assert reply.json() == MINTING_GATE


@pytest.mark.parametrize("method, path, body", DATA_CALLS)
def test_an_unmarked_token_of_the_same_account_passes_the_gate(today, method, path, body):
    reply = call(today, bearer(today.world), method, path, body)
    assert reply.status_code != 403, reply.text


def test_the_gate_changes_nothing_and_spares_calls_without_a_token(today):
    world = today.world
    token = bearer(world, marked=True)
    assert call(today, token, "POST", f"api/1/energy_sites/{SITE_ID}/backup",
                {"backup_reserve_percent": 55}).status_code == 403
    reply = call(today, bearer(world), "GET", f"api/1/powerwalls/{BATTERY_ID}")
    assert reply.json()["response"]["backup"]["backup_reserve_percent"] != 55
    status = requests.get(today.urls["api_base_url"] + "status", timeout=10)
    assert status.status_code == 200 and status.text == "ok"


def test_the_gate_holds_on_the_china_owner_api(today):
    token = bearer(today.world, CN, region="cn", marked=True)
    reply = call(today, token, "GET", "api/1/products", host="api_cn_base_url")
    assert reply.status_code == 403 and reply.json() == MINTING_GATE


def test_an_expired_marked_token_is_401_not_403(today):
    world = today.world
    token = bearer(world, marked=True)
    world.clock.advance(3601)
    reply = call(today, token, "GET", "api/1/products")
    assert reply.status_code == 401 and reply.json() == INVALID_BEARER


# -- regions ---------------------------------------------------------------------------------

def test_a_bearer_works_only_on_the_owner_api_of_its_region(today):
    world = today.world
    global_token, cn_token = bearer(world), bearer(world, CN, region="cn")
    for token, host in ((global_token, "api_cn_base_url"), (cn_token, "api_base_url")):
        reply = call(today, token, "GET", "api/1/products", host=host)
        assert reply.status_code == 401 and reply.json() == INVALID_BEARER
        assert 'error_description="The access token is invalid"' \
            in reply.headers["WWW-Authenticate"]
        assert call(today, token, "GET", f"api/1/energy_sites/{SITE_ID}/live_status",
                    host=host).status_code == 401
    china = call(today, cn_token, "GET", "api/1/products", host="api_cn_base_url")
    assert [car["id_s"] for car in china.json()["response"]] == [SHANGHAI]
    home = call(today, global_token, "GET", "api/1/products")
    assert home.status_code == 200 and home.json()["count"] == 5


def test_a_bearer_of_another_region_cannot_revoke_there(today):
    world = today.world
    cn_token = bearer(world, CN, region="cn")
    reply = call(today, cn_token, "POST", "oauth/revoke", {})
    assert reply.status_code == 401
    china = call(today, cn_token, "GET", "api/1/products", host="api_cn_base_url")
    assert china.status_code == 200


# -- the vehicle list moved to the products list ----------------------------------------------

def test_the_vehicle_list_answers_412_and_products_list_the_cars(today):
    token = bearer(today.world)
    reply = call(today, token, "GET", "api/1/vehicles")
    assert reply.status_code == 412 and reply.json() == FLEET_API_ONLY
    products = call(today, token, "GET", "api/1/products").json()["response"]
    cars = {car["display_name"]: car for car in products if "vin" in car}
    assert set(cars) == {"Tim's Tesla", "Nikola", "Road Runner"}
    for car in cars.values():
        assert {"id", "id_s", "vehicle_id", "vin", "display_name", "option_codes",
                "state", "in_service"} <= set(car)
        assert car["id_s"] == str(car["id"])
    assert cars["Nikola"]["state"] == "asleep" and cars["Tim's Tesla"]["state"] == "online"
    tim = cars["Tim's Tesla"]
    data = call(today, token, "GET", f"api/1/vehicles/{tim['id_s']}/vehicle_data")
    assert data.status_code == 200 and data.json()["response"]["vin"] == "5YJ3E111111111111"


# -- unsigned commands -------------------------------------------------------------------------

@pytest.mark.parametrize("vehicle_id", [TIM, ROAD_RUNNER])
def test_model_3_and_y_refuse_unsigned_commands_and_keep_their_state(today, vehicle_id):
    token = bearer(today.world)
    before = call(today, token, "GET", f"api/1/vehicles/{vehicle_id}/vehicle_data").json()
    reply = call(today, token, "POST", f"api/1/vehicles/{vehicle_id}/command/door_unlock", {})
    assert reply.status_code == 403 and reply.json() == COMMAND_PROTOCOL
    after = call(today, token, "GET", f"api/1/vehicles/{vehicle_id}/vehicle_data").json()
    assert after["response"]["vehicle_state"]["locked"] \
        == before["response"]["vehicle_state"]["locked"]


def test_reads_and_wake_up_still_work_on_a_command_protocol_car(today):
    world = today.world
    token = bearer(world)
    world.vehicles[0].data["state"] = "asleep"           # Tim's Model 3
    refused = call(today, token, "POST", f"api/1/vehicles/{TIM}/command/flash_lights", {})
    assert refused.status_code == 403 and refused.json() == COMMAND_PROTOCOL
    assert call(today, token, "POST", f"api/1/vehicles/{TIM}/wake_up").status_code == 200
    world.clock.advance(world.vehicles[0].wake_delay + 1)
    data = call(today, token, "GET", f"api/1/vehicles/{TIM}/vehicle_data")
    assert data.status_code == 200 and data.json()["response"]["state"] == "online"
    for path in ("data_request/charge_state", "service_data", "mobile_enabled",
                 "nearby_charging_sites"):
        assert call(today, token, "GET", f"api/1/vehicles/{TIM}/{path}").status_code == 200


def test_an_older_model_s_takes_unsigned_commands(today):
    world = today.world
    token = bearer(world)
    asleep = call(today, token, "POST", f"api/1/vehicles/{NIKOLA}/command/door_unlock", {})
    assert asleep.status_code == 408
    call(today, token, "POST", f"api/1/vehicles/{NIKOLA}/wake_up")
    world.clock.advance(world.vehicles[1].wake_delay + 1)
    reply = call(today, token, "POST", f"api/1/vehicles/{NIKOLA}/command/door_lock", {})
    assert reply.status_code == 200
    assert reply.json() == {"response": {"reason": "", "result": True}}
    data = call(today, token, "GET", f"api/1/vehicles/{NIKOLA}/vehicle_data").json()
    assert data["response"]["vehicle_state"]["locked"] is True


@pytest.mark.parametrize("vin, refused", [
    ("5YJSA1E2XMF123456", True),     # Model S, 2021
    ("5YJXCAE2XNF000001", True),     # Model X, 2022
    ("5YJXCAE2XLF000001", False),    # Model X, 2020
])
def test_model_s_and_x_from_2021_refuse_unsigned_commands(today, vin, refused):
    def retrofit(fleet):
        nikola = fleet["vehicles"][1]
        nikola["data"]["vin"] = vin
        nikola["data"]["state"] = "online"
    world = today.reset(World(fleet_with(retrofit), rules=Rules.named("2026")))
    reply = call(today, bearer(world), "POST", f"api/1/vehicles/{NIKOLA}/command/honk_horn", {})
    if refused:
        assert reply.status_code == 403 and reply.json() == COMMAND_PROTOCOL
    else:
        assert reply.status_code == 200 and reply.json()["response"]["result"] is True


# -- energy commands -------------------------------------------------------------------------

def test_energy_settings_answer_code_200(today):
    token = bearer(today.world)
    reply = call(today, token, "POST", f"api/1/energy_sites/{SITE_ID}/operation",
                 {"default_real_mode": "backup"})
    assert reply.status_code == 200
    assert reply.json() == {"response": {"code": 200, "message": "Updated"}}
    battery = call(today, token, "GET", f"api/1/powerwalls/{BATTERY_ID}").json()["response"]
    assert battery["default_real_mode"] == "backup"


# -- the retired token exchange ---------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["data", "json"])
def test_the_rfc_7523_exchange_is_refused_and_issues_nothing(today, encoding):
    world = today.world
    sso_token = bearer(world)
    issued = set(world.bearers)
    reply = requests.post(today.urls["api_base_url"] + "oauth/token",
                          headers={"Authorization": f"Bearer {sso_token}"},
                          timeout=10, **{encoding: {"grant_type": JWT_GRANT,
                                                    "client_id": OWNER_CLIENT_ID}})
    assert reply.status_code == 400 and reply.json() == GRANT_RETIRED
    assert set(world.bearers) == issued


# -- 2021 stays as it was --------------------------------------------------------------------

def test_2021_takes_marked_tokens_and_tokens_of_either_region(sim, world):
    assert not world.rules.today
    marked = world.issue_bearer(ELON, "sso", 3600, marked=True)
    assert call(sim, marked, "GET", "api/1/vehicles").json()["count"] == 3
    cn_token = world.issue_bearer(CN, "sso", 3600, region="cn")
    on_global = call(sim, cn_token, "GET", "api/1/products")
    assert [car["id_s"] for car in on_global.json()["response"]] == [SHANGHAI]


def test_2021_lets_every_car_take_unsigned_commands(sim, world):
    token = world.issue_bearer(ELON, "sso", 3600)
    for vehicle_id in (TIM, ROAD_RUNNER):
        reply = call(sim, token, "POST", f"api/1/vehicles/{vehicle_id}/command/flash_lights", {})
        assert reply.json() == {"response": {"reason": "", "result": True}}


def test_2021_exchange_mints_an_owner_token_of_the_accounts_region(sim, world):
    sso_token = world.issue_bearer(CN, "sso", 3600, region="cn")
    reply = requests.post(sim.urls["api_base_url"] + "oauth/token",
                          headers={"Authorization": f"Bearer {sso_token}"},
                          data={"grant_type": JWT_GRANT, "client_id": OWNER_CLIENT_ID},
                          timeout=10)
    assert reply.status_code == 200
    record = world.bearer_record(reply.json()["access_token"])
    assert record is not None and record.kind == "owner" and record.region == "cn"

