"""What only the simulated Fleet API serves, and the gate in front of every Fleet API call.

The Fleet API listeners (``fleet_na``, ``fleet_eu``, ``fleet_cn``) serve the Owner
API's routes plus these:

* ``GET api/1/users/region``: ``{"region", "fleet_api_base_url"}`` of the account;
* ``POST api/1/partner_accounts`` (partner token, ``{"domain", "public_key"}``) and
  ``GET api/1/partner_accounts/public_key?domain=``: the app's registration in this
  region (see :mod:`teslasim.fleet_model`);
* ``POST api/1/vehicles/{vin}/signed_command`` ``{"routable_message": base64}``: the
  car (:class:`~teslasim.vehicle_security.VehicleSecurity`) checks the message and, if
  it accepts it, runs the REST command it equals on the car's state; the answer is
  ``{"response": base64}``. 422 for a car without the protocol, 408 asleep.

:class:`FleetGate` runs before every ``api/1`` route, for user tokens: an account of
another region gets 421 naming its base URL (``users/region`` excepted), an app not
registered in this region 412, a token without the scope a call needs 403
``Unauthorized missing scopes``; partner tokens work only on partner endpoints. It
also lets ``{vehicle_id}`` be the car's VIN, as the Fleet API does.
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Optional

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teslasim import vehicle_commands
from teslasim.fleet_model import SignedRun
from teslasim.request_params import read_params
from teslasim.routes.bearer import FLEET_KINDS, bearer_record, require_owner
from teslasim.routes.fleet_auth import fleet_base_urls
from teslasim.routes.owner_api import _keep_awake, _stamp
from teslasim.signed_commands import rest_command
from teslasim.state import TokenRecord, VehicleState, World

logger = logging.getLogger(__name__)

OUT_OF_REGION = ("user out of region, use base URL: {url}, see "
                 "https://developer.tesla.com/docs/fleet-api/getting-started/base-urls")
NOT_REGISTERED = ("Account {client_id} must be registered in the current region {url}, please "
                  "see https://developer.tesla.com/docs/fleet-api/endpoints/partner-endpoints"
                  "#register")
MISSING_SCOPES = "Unauthorized missing scopes"
NO_SIGNED_COMMANDS = "vehicle does not support signed commands"
USER_REGION = "/api/1/users/region"
PARTNER_PREFIX = "/api/1/partner_accounts"
_VEHICLE_PATH = re.compile(r"^/api/1/vehicles/([^/]+)(/.*)?$")
#: (method, path pattern, scopes of which the token needs one), first match wins.
_SCOPE_RULES = (
    ("POST", re.compile(r"^/api/1/vehicles/[^/]+/(signed_command|command/)"),
     {"vehicle_cmds", "vehicle_charging_cmds"}),
    ("GET", re.compile(r"^/api/1/vehicles/[^/]+/(vehicle_data|data|data_request/|"
                       r"nearby_charging_sites|service_data|mobile_enabled)"),
     {"vehicle_device_data"}),
    ("GET", re.compile(r"^/api/1/(energy_sites|powerwalls)/"), {"energy_device_data"}),
    ("POST", re.compile(r"^/api/1/(energy_sites|powerwalls)/"), {"energy_cmds"}),
)


def _world(request: Request) -> World:
    return request.app.state.world


def _refusal(status: int, error: str) -> JSONResponse:
    return JSONResponse({"response": None, "error": error, "error_description": ""},
                        status_code=status)


class FleetGate:
    """ASGI middleware: the Fleet API's region, registration and scope checks, VINs as ids."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/1/"):
            refusal = self._check(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, scope) -> Optional[Response]:
        state = scope["app"].state
        world: World = state.world
        request = Request(scope)
        record = world.bearer_record(request.headers.get("authorization", "")
                                     .partition(" ")[2].strip())
        if record is None or record.kind not in FLEET_KINDS:
            return None                             # the route answers 401
        path = scope["path"]
        if record.kind == "partner":
            return None if path.startswith(PARTNER_PREFIX) else _refusal(
                403, "Unauthorized: a partner token cannot act for a user")
        bases = fleet_base_urls(state.urls)
        account = world.account(record.email)
        home = world.fleet.region_of(account.email, account.region) \
            if account is not None else state.fleet_region
        if home != state.fleet_region and path != USER_REGION:
            return _refusal(421, OUT_OF_REGION.format(url=bases[home].rstrip("/")))
        if world.fleet.registration(record.client_id, state.fleet_region) is None:
            return _refusal(412, NOT_REGISTERED.format(
                client_id=record.client_id, url=bases[state.fleet_region].rstrip("/")))
        for method, pattern, needed in _SCOPE_RULES:
            if method == scope["method"] and pattern.match(path):
                if not needed & record.scopes:
                    return _refusal(403, MISSING_SCOPES)
                break
        _vin_as_id(scope, world)
        return None


def _vin_as_id(scope, world: World) -> None:
    """Rewrite ``api/1/vehicles/<VIN>/...`` to the car's id, which the routes look up."""
    match = _VEHICLE_PATH.match(scope["path"])
    if match is None:
        return
    vehicle = next((car for car in world.vehicles if car.vin == match.group(1)), None)
    if vehicle is not None:
        scope["path"] = f"/api/1/vehicles/{vehicle.id_s}{match.group(2) or ''}"
        scope["raw_path"] = scope["path"].encode("ascii")


# -- the account's region -----------------------------------------------------------------

async def user_region(request: Request) -> Response:
    """GET api/1/users/region: the region that serves the account, and its base URL."""
    world = _world(request)
    account = world.account(require_owner(request))
    region = world.fleet.region_of(account.email, account.region) if account else "na"
    base = fleet_base_urls(request.app.state.urls)[region].rstrip("/")
    return JSONResponse({"response": {"region": region, "fleet_api_base_url": base}})


# -- partners -------------------------------------------------------------------------------

def _partner(request: Request) -> TokenRecord:
    record = bearer_record(request)
    if record.kind != "partner":
        raise HTTPException(403, "Unauthorized: this endpoint needs a partner token")
    return record


async def register_partner(request: Request) -> Response:
    """POST api/1/partner_accounts: register the app's domain (and key) in this region."""
    world = _world(request)
    record = _partner(request)
    params = await read_params(request)
    with world.lock:
        registration = world.fleet.register(record.client_id, request.app.state.fleet_region,
                                            params.get("domain"), params.get("public_key"))
    app = world.fleet.app(record.client_id)
    return JSONResponse({"response": {
        "client_id": record.client_id, "name": app.name if app else "",
        "domain": registration.domain, "region": registration.region,
        "public_key": registration.public_key.hex(), "created_at": int(registration.created_at)}})


async def partner_public_key(request: Request) -> Response:
    """GET api/1/partner_accounts/public_key?domain=: the key registered in this region."""
    world = _world(request)
    record = _partner(request)
    registration = world.fleet.registration(record.client_id, request.app.state.fleet_region)
    domain = request.query_params.get("domain", "").lower().rstrip(".")
    if registration is None or registration.domain != domain:
        raise HTTPException(404, "not_found")
    return JSONResponse({"response": {"public_key": registration.public_key.hex()}})


# -- signed commands ------------------------------------------------------------------------

def _decode_message(params: dict) -> bytes:
    encoded = params.get("routable_message")
    if not isinstance(encoded, str) or not encoded:
        raise HTTPException(400, "invalid_request: routable_message (base64) is required")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(400, "invalid_request: routable_message is not base64") from None


def run_signed(world: World, email: str, vehicle: VehicleState, command) -> tuple:
    """Run an accepted payload as the REST command it equals; returns (ok, reason).

    Call with ``world.lock`` held.
    """
    rest = rest_command(command)
    if rest is None or rest[0] not in vehicle_commands.COMMANDS:
        return False, "not supported by the simulated car"
    name, params = rest
    if name == "remote_start_drive":        # the paired key stands in for the password
        account = world.account(email)
        params = {**params, "password": account.password if account else ""}
    try:
        result, reason = vehicle_commands.execute(name, world, email, vehicle, params)
    except vehicle_commands.CommandError as error:
        result, reason = False, error.message
    world.fleet.signed_runs.append(SignedRun(vehicle.vin, name, params, result, reason))
    _stamp(vehicle, world.clock.now())
    return result, reason


async def signed_command(request: Request) -> Response:
    """POST api/1/vehicles/{id}/signed_command: hand the message to the car, return its answer."""
    world = _world(request)
    params = await read_params(request)
    email = require_owner(request)
    vehicle = world.vehicle_by_id_s(email, request.path_params["vehicle_id"])
    if vehicle is None:
        raise HTTPException(404, "not_found")
    message = _decode_message(params)
    if not vehicle_commands.needs_command_protocol(vehicle.vin):
        raise HTTPException(422, NO_SIGNED_COMMANDS)
    _keep_awake(world, vehicle)
    answer = world.fleet.security(vehicle.vin).handle(message)
    outcome = (True, "")
    if answer.command is not None:
        with world.lock:
            outcome = run_signed(world, email, vehicle, answer.command)
    reply = answer.reply(*outcome)
    return JSONResponse({"response": base64.b64encode(reply).decode("ascii")})


ROUTES = [
    Route(USER_REGION, user_region, methods=["GET"]),
    Route(PARTNER_PREFIX, register_partner, methods=["POST"]),
    Route(PARTNER_PREFIX + "/public_key", partner_public_key, methods=["GET"]),
    Route("/api/1/vehicles/{vehicle_id}/signed_command", signed_command, methods=["POST"]),
]
