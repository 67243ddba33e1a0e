"""Routes of the simulated Owner API (owner-api.teslamotors.com): tokens, cars, commands.

Bearer (see :mod:`teslasim.routes.bearer`): every ``api/1/...`` route takes the Owner
API token from ``oauth/token`` or an SSO access token; missing, expired or revoked
answers 401 ``invalid bearer token``. An unknown vehicle id answers 404
``not_found``. Online-only calls (vehicle_data, data, data_request, service_data,
mobile_enabled, nearby_charging_sites, every command) answer 408
``vehicle unavailable: {:error=>"vehicle unavailable:"}`` unless the car is online,
and keep an online car awake. Commands answer
``{"response": {"result": bool, "reason": str}}``; what the cars do is in
:mod:`teslasim.vehicle_commands`.

The Fleet API hosts serve these routes too (``app.state.fleet``): there the vehicle
list works in every era, unsigned commands to cars that need the Vehicle Command
Protocol are refused in every era, and vehicle data leaves out the location unless
asked for (:mod:`teslasim.data_groups`).

Under the 2026 rules (``world.rules.today``) the host also answers as Tesla does now:
``GET api/1/vehicles`` 412 (cars are listed by ``api/1/products``); an unsigned
command to a car that needs the Vehicle Command Protocol 403; the RFC 7523 grant at
``oauth/token`` 400 ``unsupported_grant_type`` in OAuth's own shape; plus the bearer
rules of :mod:`teslasim.routes.bearer` (own region only, marked tokens refused).
"""
from __future__ import annotations

import copy
import logging
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from teslasim import data_groups, energy_model, vehicle_commands
from teslasim.drive import haversine_miles
from teslasim.request_params import read_params
from teslasim.routes.bearer import bearer_record, bearer_token, require_owner, unauthorized
from teslasim.state import DATA_GROUPS, VehicleState, World

logger = logging.getLogger(__name__)

OWNER_API_CLIENT_ID = "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VEHICLE_UNAVAILABLE = 'vehicle unavailable: {:error=>"vehicle unavailable:"}'
FLEET_API_ONLY = ("Endpoint is only available on fleetapi. "
                  "Visit https://developer.tesla.com/docs for more info")
COMMAND_PROTOCOL_REQUIRED = (
    "Tesla Vehicle Command Protocol required, please refer to the documentation here: "
    "https://developer.tesla.com/docs/fleet-api"
    "#2023-10-09-rest-api-vehicle-commands-endpoint-deprecation-warning")
GRANT_RETIRED = {"error": "unsupported_grant_type",
                 "error_description": "The authorization grant type is not supported "
                                      "by the authorization server."}


# -- helpers --------------------------------------------------------------------

def _world(request: Request) -> World:
    return request.app.state.world


def _vehicle(request: Request, email: str) -> VehicleState:
    vehicle = _world(request).vehicle_by_id_s(email, request.path_params["vehicle_id"])
    if vehicle is None:
        raise HTTPException(404, "not_found")
    return vehicle


def _owned_vehicle(request: Request) -> tuple[World, str, VehicleState]:
    """The world, the bearer's owner and the car the path names (401, 403, 404 otherwise)."""
    email = require_owner(request)
    return _world(request), email, _vehicle(request, email)


def _keep_awake(world: World, vehicle: VehicleState) -> None:
    """Bring the car up to date; 408 unless it is online, which it then stays."""
    with world.lock:
        if world.refresh_vehicle(vehicle) != "online":
            raise HTTPException(408, VEHICLE_UNAVAILABLE)
        now = world.clock.now()
        vehicle.last_polled = now
        _stamp(vehicle, now)


def _online_vehicle(request: Request) -> tuple[World, str, VehicleState]:
    """Owner, and the car brought up to date; 408 unless it is online (then kept awake)."""
    world, email, vehicle = _owned_vehicle(request)
    _keep_awake(world, vehicle)
    return world, email, vehicle


def _stamp(vehicle: VehicleState, now: float) -> None:
    """Move every group's ``timestamp`` (and a parked car's GPS time) to ``now``."""
    for group in DATA_GROUPS:
        if isinstance(vehicle.data.get(group), dict):
            vehicle.data[group]["timestamp"] = int(now * 1000)
    drive_state = vehicle.data.get("drive_state")
    if isinstance(drive_state, dict) and not vehicle.driving:
        drive_state["gps_as_of"] = int(now)


def _ok(response: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"response": response, **extra})


# -- tokens ---------------------------------------------------------------------

async def status(request: Request) -> Response:
    """GET status: the service is up (plain text, no auth)."""
    return PlainTextResponse("ok")


async def oauth_token(request: Request) -> Response:
    """POST oauth/token: exchange an SSO access token for an Owner API token (RFC 7523)."""
    world = _world(request)
    params = await read_params(request)
    grant_type = params.get("grant_type")
    if grant_type == "password":
        raise HTTPException(400, "endpoint_deprecated:_please_update_your_app")
    if grant_type != JWT_BEARER_GRANT:
        raise HTTPException(400, "unsupported_grant_type")
    if world.rules.today:
        return JSONResponse(GRANT_RETIRED, status_code=400)
    if params.get("client_id") != OWNER_API_CLIENT_ID:
        raise HTTPException(401, "invalid_client")
    sso = world.bearer_record(bearer_token(request))
    if sso is None or sso.kind != "sso":
        raise unauthorized("An SSO access token is required")
    account = world.account(sso.email)
    region = account.region if account is not None else "global"
    lifetime = world.settings.owner_token_lifetime
    access = world.issue_bearer(sso.email, "owner", lifetime,
                                prefix="cn-" if region == "cn" else "qts-",
                                region=region, marked=sso.marked)
    return JSONResponse({"access_token": access, "token_type": "bearer",
                         "expires_in": lifetime, "refresh_token": secrets.token_hex(32),
                         "created_at": int(world.clock.now())})


async def oauth_revoke(request: Request) -> Response:
    """POST oauth/revoke: revoke ``token`` (default: the bearer itself) of the same owner."""
    world = _world(request)
    email = bearer_record(request).email
    params = await read_params(request)
    token = params.get("token") or bearer_token(request)
    if not isinstance(token, str):
        raise HTTPException(400, "invalid_request: token must be a string")
    with world.lock:
        record = world.bearers.get(token)
        if record is not None and record.email.lower() == email.lower():
            record.revoked = True
    return _ok(True)


# -- vehicles -------------------------------------------------------------------

def _summary(world: World, vehicle: VehicleState) -> dict:
    world.refresh_vehicle(vehicle)
    return vehicle.summary()


async def vehicle_list(request: Request) -> Response:
    """GET api/1/vehicles: the account's cars (works while they sleep); 412 under 2026."""
    world = _world(request)
    email = require_owner(request)
    if world.rules.today and not request.app.state.fleet:
        raise HTTPException(412, FLEET_API_ONLY)
    with world.lock:
        cars = [_summary(world, vehicle) for vehicle in world.vehicles_of(email)]
    return _ok(cars, count=len(cars))


async def vehicle_summary(request: Request) -> Response:
    """GET api/1/vehicles/{id}: one car's summary, without waking it."""
    world = _world(request)
    vehicle = _vehicle(request, require_owner(request))
    with world.lock:
        return _ok(_summary(world, vehicle))


async def wake_up(request: Request) -> Response:
    """POST api/1/vehicles/{id}/wake_up: start waking the car; it is online after its delay."""
    world = _world(request)
    vehicle = _vehicle(request, require_owner(request))
    with world.lock:
        world.refresh_vehicle(vehicle)
        vehicle.wake_up(world.clock.now())
        return _ok(_summary(world, vehicle))


def _full_data(vehicle: VehicleState) -> dict:
    data = vehicle.summary()
    data["user_id"] = vehicle.data.get("user_id")
    for group in DATA_GROUPS:
        data[group] = copy.deepcopy(vehicle.data.get(group))
    return data


async def vehicle_data(request: Request) -> Response:
    """GET api/1/vehicles/{id}/vehicle_data (and the legacy ``data``): the groups asked for.

    See :mod:`teslasim.data_groups` for ``endpoints`` and the location.
    """
    world, _email, vehicle = _online_vehicle(request)
    names = data_groups.requested(request.query_params.get("endpoints"))
    fleet = request.app.state.fleet
    may_locate = not fleet or "vehicle_location" in bearer_record(request).scopes
    with world.lock:
        return _ok(data_groups.select(_full_data(vehicle), names, fleet, may_locate))


async def data_request(request: Request) -> Response:
    """GET api/1/vehicles/{id}/data_request/{group}: one data group."""
    world, _email, vehicle = _online_vehicle(request)
    group = request.path_params["group"]
    if group not in DATA_GROUPS:
        raise HTTPException(404, "not_found")
    with world.lock:
        return _ok(copy.deepcopy(vehicle.data.get(group)))


async def service_data(request: Request) -> Response:
    """GET api/1/vehicles/{id}/service_data: whether the car is in service."""
    world, _email, vehicle = _online_vehicle(request)
    if vehicle.data.get("in_service"):
        eta = datetime.fromtimestamp(world.clock.now(), timezone.utc) + timedelta(days=2)
        return _ok({"service_status": "in_service",
                    "service_etc": eta.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                    "service_visit_number": f"SV{vehicle.vehicle_id % 100000000:08d}",
                    "service_visit_id": vehicle.vehicle_id % 10000000})
    return _ok({"service_status": "not_in_service"})


async def mobile_enabled(request: Request) -> Response:
    """GET api/1/vehicles/{id}/mobile_enabled: remote access is allowed."""
    _online_vehicle(request)
    return _ok(True)


_SUPERCHARGERS = (("Ring Road Supercharger", 0.031, -0.052, 12),
                  ("Harbour Plaza Supercharger", -0.072, 0.044, 8),
                  ("Motorway Services Supercharger", 0.118, 0.097, 20),
                  ("Retail Park Supercharger", -0.150, -0.121, 16))
_DESTINATIONS = (("Grand Hotel", 0.008, 0.011), ("City Hall Parking", -0.012, 0.006),
                 ("Riverside Restaurant", 0.021, -0.017), ("Museum Garage", -0.025, -0.029))


async def nearby_charging_sites(request: Request) -> Response:
    """GET api/1/vehicles/{id}/nearby_charging_sites: chargers around the car."""
    world, _email, vehicle = _online_vehicle(request)
    with world.lock:
        drive_state = vehicle.data.get("drive_state") or {}
        lat = float(drive_state.get("latitude") or 0.0)
        lon = float(drive_state.get("longitude") or 0.0)
        now = world.clock.now()
    minute = int(now // 60)

    def site(name: str, dlat: float, dlon: float) -> dict:
        slat, slon = round(lat + dlat, 6), round(lon + dlon, 6)
        return {"location": {"lat": slat, "long": slon}, "name": name,
                "distance_miles": round(haversine_miles((lat, lon), (slat, slon)), 6)}

    destinations = [{**site(name, dlat, dlon), "type": "destination"}
                    for name, dlat, dlon in _DESTINATIONS]
    superchargers = []
    for index, (name, dlat, dlon, total) in enumerate(_SUPERCHARGERS):
        entry = site(name, dlat, dlon)
        entry.update({"type": "supercharger", "total_stalls": total,
                      "available_stalls": (minute * 7 + index * 5 + vehicle.vehicle_id) % (total + 1),
                      "site_closed": False})
        superchargers.append(entry)
    destinations.sort(key=lambda entry: entry["distance_miles"])
    superchargers.sort(key=lambda entry: entry["distance_miles"])
    return _ok({"congestion_sync_time_utc_secs": int(now) - 30,
                "destination_charging": destinations, "superchargers": superchargers,
                "timestamp": int(now * 1000)})


# -- user-level reads -------------------------------------------------------------

async def products(request: Request) -> Response:
    """GET api/1/products: the account's cars and energy products (with live values)."""
    world = _world(request)
    email = require_owner(request)
    with world.lock:
        items = [_summary(world, vehicle) for vehicle in world.vehicles_of(email)]
        now = world.clock.now()
        items += [energy_model.product_entry(site, now) for site in world.sites_of(email)]
    return _ok(items, count=len(items))


async def service_scheduling_data(request: Request) -> Response:
    """GET api/1/users/service_scheduling_data: the next service visit per car."""
    world = _world(request)
    email = require_owner(request)
    now = datetime.fromtimestamp(world.clock.now(), timezone.utc)
    appointment = (now + timedelta(days=12)).replace(hour=13, minute=15, second=0,
                                                     microsecond=0)
    entries = []
    for index, vehicle in enumerate(world.vehicles_of(email)):
        entries.append({
            "vin": vehicle.vin,
            "next_appt_timestamp": appointment.strftime("%Y-%m-%dT%H:%M:%S") if index == 0
            else None,
            "next_appt_end_timestamp": None,
            "show_badge": False})
    return _ok({"enabled_vins": entries})


# -- commands -------------------------------------------------------------------

def _command_endpoint(name: str) -> Callable:
    async def endpoint(request: Request) -> Response:
        params = await read_params(request)
        world, email, vehicle = _owned_vehicle(request)
        if (world.rules.today or request.app.state.fleet) \
                and name not in vehicle_commands.REST_ONLY_COMMANDS \
                and vehicle_commands.needs_command_protocol(vehicle.vin):
            raise HTTPException(403, COMMAND_PROTOCOL_REQUIRED)
        _keep_awake(world, vehicle)
        with world.lock:
            result, reason = vehicle_commands.execute(name, world, email, vehicle, params)
            _stamp(vehicle, world.clock.now())
        return _ok({"reason": reason, "result": result})
    endpoint.__name__ = f"command_{name}"
    endpoint.__doc__ = f"POST api/1/vehicles/{{id}}/command/{name}"
    return endpoint


VEHICLE = "/api/1/vehicles/{vehicle_id}"

ROUTES = [
    Route("/status", status, methods=["GET"]),
    Route("/oauth/token", oauth_token, methods=["POST"]),
    Route("/oauth/revoke", oauth_revoke, methods=["POST"]),
    Route("/api/1/products", products, methods=["GET"]),
    Route("/api/1/vehicles", vehicle_list, methods=["GET"]),
    Route("/api/1/users/service_scheduling_data", service_scheduling_data, methods=["GET"]),
    Route(VEHICLE, vehicle_summary, methods=["GET"]),
    Route(VEHICLE + "/vehicle_data", vehicle_data, methods=["GET"]),
    Route(VEHICLE + "/data", vehicle_data, methods=["GET"]),
    Route(VEHICLE + "/data_request/{group}", data_request, methods=["GET"]),
    Route(VEHICLE + "/service_data", service_data, methods=["GET"]),
    Route(VEHICLE + "/mobile_enabled", mobile_enabled, methods=["GET"]),
    Route(VEHICLE + "/nearby_charging_sites", nearby_charging_sites, methods=["GET"]),
    Route(VEHICLE + "/wake_up", wake_up, methods=["POST"]),
] + [
    Route(f"{VEHICLE}/command/{name}", _command_endpoint(name), methods=["POST"],
          name=f"command_{name}")
    for name in vehicle_commands.COMMANDS
]
