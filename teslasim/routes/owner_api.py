"""Routes of the simulated Owner API (owner-api.teslamotors.com): tokens, cars, commands.

Bearer: every ``api/1/...`` route takes the Owner API token from ``oauth/token`` or an
SSO access token; missing, expired or revoked answers 401 ``invalid bearer token``
with a ``WWW-Authenticate: Bearer realm="Doorkeeper", ...`` header. An unknown vehicle
id answers 404 ``not_found``. Online-only calls (vehicle_data, data, data_request,
service_data, mobile_enabled, nearby_charging_sites, every command) answer 408
``vehicle unavailable: {:error=>"vehicle unavailable:"}`` unless the car is online,
and keep an online car awake.

Commands answer ``{"response": {"result": bool, "reason": str}}``. Reasons given by
the simulated cars: ``already_set`` (charge limit unchanged), ``out_of_range`` (charge
limit, temperature or speed limit outside the car's range), ``already_max_range``,
``already_standard``, ``is_charging``, ``not_charging``, ``disconnected``,
``complete``, ``no_sunroof``, ``too_far_from_car`` (window close / homelink lat-lon
more than 1 km from the car), ``incorrect_password`` (remote start),
``remote_start_disabled``, ``user_not_present`` (media), ``invalid_pin`` (not four
digits), ``incorrect_pin``, ``pin_not_set``, ``valet_mode_active``,
``no_update_scheduled``, ``update_in_progress``, ``sentry_mode_unavailable``,
``invalid_heater`` / ``invalid_level`` (seat heater), ``invalid_state`` /
``invalid_command`` / ``invalid_trunk`` / ``invalid_mode`` / ``invalid_name`` (unknown
option values). A parameter of the
wrong type or a missing required one answers 400 ``invalid_request: ...``.
"""
from __future__ import annotations

import copy
import logging
import math
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from teslasim import energy_model
from teslasim.app import read_params
from teslasim.state import DATA_GROUPS, VehicleState, World

logger = logging.getLogger(__name__)

OWNER_API_CLIENT_ID = "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VEHICLE_UNAVAILABLE = 'vehicle unavailable: {:error=>"vehicle unavailable:"}'
NEAR_CAR_KM = 1.0


# -- authentication -------------------------------------------------------------

def _world(request: Request) -> World:
    return request.app.state.world


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or ''."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, "invalid bearer token", headers={
        "WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", '
                            f'error_description="{reason}"'})


def require_owner(request: Request) -> str:
    """The email owning the request's bearer; raises ``HTTPException`` 401 otherwise."""
    world = _world(request)
    token = bearer_token(request)
    email = world.bearer_owner(token)
    if email is None:
        record = world.bearers.get(token) if token else None
        if record is None:
            reason = "The access token is invalid"
        elif record.revoked:
            reason = "The access token was revoked"
        else:
            reason = "The access token expired"
        raise _unauthorized(reason)
    return email


def _vehicle(request: Request, email: str) -> VehicleState:
    vehicle = _world(request).vehicle_by_id_s(email, request.path_params["vehicle_id"])
    if vehicle is None:
        raise HTTPException(404, "not_found")
    return vehicle


def _online_vehicle(request: Request) -> tuple[World, str, VehicleState]:
    """Owner, and the car brought up to date; 408 unless it is online (then kept awake)."""
    world = _world(request)
    email = require_owner(request)
    vehicle = _vehicle(request, email)
    with world.lock:
        if world.refresh_vehicle(vehicle) != "online":
            raise HTTPException(408, VEHICLE_UNAVAILABLE)
        now = world.clock.now()
        vehicle.last_polled = now
        _stamp(vehicle, now)
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
    if params.get("client_id") != OWNER_API_CLIENT_ID:
        raise HTTPException(401, "invalid_client")
    token = bearer_token(request)
    email = world.bearer_owner(token)
    if email is None or world.bearers[token].kind != "sso":
        raise _unauthorized("An SSO access token is required")
    account = world.account(email)
    prefix = "cn-" if account is not None and account.region == "cn" else "qts-"
    lifetime = world.settings.owner_token_lifetime
    access = world.issue_bearer(email, "owner", lifetime, prefix=prefix)
    return JSONResponse({"access_token": access, "token_type": "bearer",
                         "expires_in": lifetime, "refresh_token": secrets.token_hex(32),
                         "created_at": int(world.clock.now())})


async def oauth_revoke(request: Request) -> Response:
    """POST oauth/revoke: revoke ``token`` (default: the bearer itself) of the same owner."""
    world = _world(request)
    email = require_owner(request)
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
    """GET api/1/vehicles: the account's cars (works while they sleep)."""
    world = _world(request)
    email = require_owner(request)
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
    """GET api/1/vehicles/{id}/vehicle_data (and the legacy ``data``): all groups."""
    world, _email, vehicle = _online_vehicle(request)
    with world.lock:
        return _ok(_full_data(vehicle))


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


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


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
                "distance_miles": round(distance_km(lat, lon, slat, slon) / 1.609344, 6)}

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

class Command:
    """What one command handler sees: the world, the owner, the car and the parameters."""

    def __init__(self, world: World, email: str, vehicle: VehicleState, params: dict) -> None:
        self.world = world
        self.email = email
        self.vehicle = vehicle
        self.params = params

    def group(self, name: str) -> dict:
        return self.vehicle.data.setdefault(name, {})

    # parameter parsing: 400 for a missing or mistyped value

    def raw(self, key: str, default: Any = ...) -> Any:
        if key in self.params and self.params[key] is not None:
            return self.params[key]
        if default is ...:
            raise HTTPException(400, f"invalid_request: missing parameter '{key}'")
        return default

    def flag(self, key: str, default: Any = ...) -> bool:
        value = self.raw(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "off"):
            return value.lower() in ("true", "1", "on")
        raise HTTPException(400, f"invalid_request: '{key}' must be true or false")

    def number(self, key: str, default: Any = ...) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool):
            raise HTTPException(400, f"invalid_request: '{key}' must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise HTTPException(400, f"invalid_request: '{key}' must be a number") from None
        if not math.isfinite(number):
            raise HTTPException(400, f"invalid_request: '{key}' must be a finite number")
        return number

    def integer(self, key: str, default: Any = ...) -> int:
        number = self.number(key, default)
        if number != int(number):
            raise HTTPException(400, f"invalid_request: '{key}' must be a whole number")
        return int(number)

    def text(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise HTTPException(400, f"invalid_request: '{key}' must be a string")
        return value

    def pin(self, key: str) -> Optional[str]:
        """A four-digit PIN from a string or number, or None when badly formed."""
        value = self.raw(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
            return f"{value:04d}"
        if isinstance(value, str) and len(value) == 4 and value.isascii() and value.isdigit():
            return value
        return None

    def near_car(self) -> bool:
        drive_state = self.group("drive_state")
        lat, lon = self.number("lat", 0.0), self.number("lon", 0.0)
        car_lat, car_lon = drive_state.get("latitude"), drive_state.get("longitude")
        if car_lat is None or car_lon is None:
            return False
        return distance_km(lat, lon, float(car_lat), float(car_lon)) <= NEAR_CAR_KM


Outcome = tuple  # (result: bool, reason: str)
DONE: Outcome = (True, "")


def _lock(cmd: Command) -> Outcome:
    cmd.group("vehicle_state")["locked"] = True
    return DONE


def _unlock(cmd: Command) -> Outcome:
    cmd.group("vehicle_state")["locked"] = False
    return DONE


def _noop(cmd: Command) -> Outcome:
    return DONE


def _climate(on: bool) -> Callable[[Command], Outcome]:
    def run(cmd: Command) -> Outcome:
        climate = cmd.group("climate_state")
        climate["is_climate_on"] = on
        climate["is_auto_conditioning_on"] = on
        climate["fan_status"] = 3 if on else 0
        if not on:
            climate["is_front_defroster_on"] = False
            climate["is_rear_defroster_on"] = False
        return DONE
    return run


def _max_defrost(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    climate = cmd.group("climate_state")
    climate["is_front_defroster_on"] = on
    climate["is_rear_defroster_on"] = on
    if on:
        climate["is_climate_on"] = True
        climate["is_auto_conditioning_on"] = True
        climate["fan_status"] = 7
    return DONE


def _set_temps(cmd: Command) -> Outcome:
    climate = cmd.group("climate_state")
    driver = cmd.number("driver_temp")
    passenger = cmd.number("passenger_temp", driver)
    low = float(climate.get("min_avail_temp", 15.0))
    high = float(climate.get("max_avail_temp", 28.0))
    if not (low <= driver <= high and low <= passenger <= high):
        return False, "out_of_range"
    climate["driver_temp_setting"] = driver
    climate["passenger_temp_setting"] = passenger
    return DONE


def _set_charge_limit(cmd: Command) -> Outcome:
    charge = cmd.group("charge_state")
    percent = cmd.integer("percent")
    low = int(charge.get("charge_limit_soc_min", 50))
    high = int(charge.get("charge_limit_soc_max", 100))
    if not low <= percent <= high:
        return False, "out_of_range"
    if percent == charge.get("charge_limit_soc"):
        return False, "already_set"
    return _apply_charge_limit(charge, percent)


def _apply_charge_limit(charge: dict, percent: int) -> Outcome:
    charge["charge_limit_soc"] = percent
    charge["charge_to_max_range"] = percent >= int(charge.get("charge_limit_soc_max", 100))
    if charge.get("charging_state") == "Charging" \
            and charge.get("battery_level", 0) >= percent:
        _stop_charging(charge, "Complete")
    return DONE


def _charge_limit_preset(key: str, default: int, reason: str) -> Callable[[Command], Outcome]:
    """A command setting the charge limit to the car's ``key`` value (max or standard)."""
    def run(cmd: Command) -> Outcome:
        charge = cmd.group("charge_state")
        percent = int(charge.get(key, default))
        if charge.get("charge_limit_soc") == percent:
            return False, reason
        return _apply_charge_limit(charge, percent)
    return run


_charge_max_range = _charge_limit_preset("charge_limit_soc_max", 100, "already_max_range")
_charge_standard = _charge_limit_preset("charge_limit_soc_std", 90, "already_standard")


def _stop_charging(charge: dict, state: str) -> None:
    charge.update({"charging_state": state, "charger_power": 0, "charge_rate": 0.0,
                   "charger_actual_current": 0, "minutes_to_full_charge": 0,
                   "time_to_full_charge": 0.0})


def _charge_start(cmd: Command) -> Outcome:
    charge = cmd.group("charge_state")
    state = charge.get("charging_state")
    if state in ("Charging", "Starting"):
        return False, "is_charging"
    if state in ("Disconnected", None):
        return False, "disconnected"
    if state == "Complete" or charge.get("battery_level", 0) >= charge.get("charge_limit_soc", 100):
        charge["charging_state"] = "Complete"
        return False, "complete"
    missing = max(0, int(charge.get("charge_limit_soc", 90)) - int(charge.get("battery_level", 0)))
    minutes = missing * 6
    charge.update({"charging_state": "Charging", "charger_power": 11,
                   "charger_actual_current": charge.get("charge_current_request", 16),
                   "charge_rate": 30.0, "minutes_to_full_charge": minutes,
                   "time_to_full_charge": round(minutes / 60, 2)})
    return DONE


def _charge_stop(cmd: Command) -> Outcome:
    charge = cmd.group("charge_state")
    if charge.get("charging_state") not in ("Charging", "Starting"):
        return False, "not_charging"
    _stop_charging(charge, "Stopped")
    return DONE


def _charge_port(open_: bool) -> Callable[[Command], Outcome]:
    def run(cmd: Command) -> Outcome:
        charge = cmd.group("charge_state")
        charge["charge_port_door_open"] = open_
        if open_ and charge.get("charging_state") in ("Disconnected", None):
            charge["charge_port_latch"] = "Disengaged"
        return DONE
    return run


def _actuate_trunk(cmd: Command) -> Outcome:
    which = cmd.text("which_trunk")
    state = cmd.group("vehicle_state")
    if which == "front":
        state["ft"] = 1                  # a frunk opens remotely but closes only by hand
    elif which == "rear":
        state["rt"] = 0 if state.get("rt") else 1
    else:
        return False, "invalid_trunk"
    return DONE


def _sun_roof(cmd: Command) -> Outcome:
    wanted = cmd.text("state")
    state = cmd.group("vehicle_state")
    if state.get("sun_roof_state") in (None, "unknown"):
        return False, "no_sunroof"
    positions = {"vent": ("vent", 15), "close": ("closed", 0), "open": ("open", 100),
                 "comfort": ("comfort", 80)}
    if wanted not in positions:
        return False, "invalid_state"
    state["sun_roof_state"], state["sun_roof_percent_open"] = positions[wanted]
    return DONE


def _window_control(cmd: Command) -> Outcome:
    command = cmd.text("command")
    state = cmd.group("vehicle_state")
    if command not in ("vent", "close"):
        return False, "invalid_command"
    if command == "close" and not cmd.near_car():
        return False, "too_far_from_car"
    for window in ("fd_window", "fp_window", "rd_window", "rp_window"):
        state[window] = 1 if command == "vent" else 0
    return DONE


def _remote_start(cmd: Command) -> Outcome:
    password = cmd.text("password", "")
    state = cmd.group("vehicle_state")
    account = cmd.world.account(cmd.email)
    if not state.get("remote_start_enabled", True):
        return False, "remote_start_disabled"
    if account is None or not password or not secrets.compare_digest(
            account.password.encode(), password.encode()):
        return False, "incorrect_password"
    state["remote_start"] = True
    return DONE


def _homelink(cmd: Command) -> Outcome:
    cmd.raw("lat")
    cmd.raw("lon")
    if not cmd.near_car():
        return False, "too_far_from_car"
    return DONE


def _media(cmd: Command) -> Outcome:
    if not cmd.group("vehicle_state").get("is_user_present"):
        return False, "user_not_present"
    return DONE


def _set_valet(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    state = cmd.group("vehicle_state")
    stored = cmd.vehicle.pins.get("valet")
    given = cmd.pin("password") if cmd.params.get("password") not in (None, "") else None
    if on:
        pin = given or stored
        if pin is None:
            return False, "invalid_pin"
        if stored is not None and given is not None and given != stored:
            return False, "incorrect_pin"
        cmd.vehicle.pins["valet"] = pin
        state["valet_mode"] = True
        state["valet_pin_needed"] = False
        return DONE
    if state.get("valet_mode") and stored is not None and given != stored:
        return False, "incorrect_pin"
    state["valet_mode"] = False
    return DONE


def _reset_valet_pin(cmd: Command) -> Outcome:
    state = cmd.group("vehicle_state")
    if state.get("valet_mode"):
        return False, "valet_mode_active"
    cmd.vehicle.pins.pop("valet", None)
    state["valet_pin_needed"] = True
    return DONE


def _speed_mode(cmd: Command) -> dict:
    return cmd.group("vehicle_state").setdefault("speed_limit_mode", {})


def _speed_pin_refusal(cmd: Command, pin: Optional[str], must_be_set: bool) -> Optional[Outcome]:
    """Why a speed-limit command's PIN is refused, or None when it may go ahead."""
    if pin is None:
        return False, "invalid_pin"
    stored = cmd.vehicle.pins.get("speed_limit")
    if stored is None:
        return (False, "pin_not_set") if must_be_set else None
    if pin != stored:
        return False, "incorrect_pin"
    return None


def _speed_limit_activate(cmd: Command) -> Outcome:
    pin = cmd.pin("pin")
    refusal = _speed_pin_refusal(cmd, pin, must_be_set=False)
    if refusal:
        return refusal
    cmd.vehicle.pins["speed_limit"] = pin
    _speed_mode(cmd).update(active=True, pin_code_set=True)
    return DONE


def _speed_limit_deactivate(cmd: Command) -> Outcome:
    refusal = _speed_pin_refusal(cmd, cmd.pin("pin"), must_be_set=True)
    if refusal:
        return refusal
    _speed_mode(cmd)["active"] = False
    return DONE


def _speed_limit_set(cmd: Command) -> Outcome:
    limit = cmd.number("limit_mph")
    mode = _speed_mode(cmd)
    if not float(mode.get("min_limit_mph", 50)) <= limit <= float(mode.get("max_limit_mph", 90)):
        return False, "out_of_range"
    mode["current_limit_mph"] = float(limit)
    return DONE


def _speed_limit_clear_pin(cmd: Command) -> Outcome:
    refusal = _speed_pin_refusal(cmd, cmd.pin("pin"), must_be_set=True)
    if refusal:
        return refusal
    cmd.vehicle.pins.pop("speed_limit", None)
    _speed_mode(cmd).update(active=False, pin_code_set=False)
    return DONE


def _schedule_update(cmd: Command) -> Outcome:
    offset = cmd.number("offset_sec")
    update = cmd.group("vehicle_state").setdefault("software_update", {})
    if offset < 0:
        return False, "out_of_range"
    if update.get("status") == "installing":
        return False, "update_in_progress"
    update["status"] = "scheduled"
    update["scheduled_time_ms"] = int((cmd.world.clock.now() + offset) * 1000)
    return DONE


def _cancel_update(cmd: Command) -> Outcome:
    update = cmd.group("vehicle_state").setdefault("software_update", {})
    if update.get("status") != "scheduled":
        return False, "no_update_scheduled"
    update["status"] = "available"
    update.pop("scheduled_time_ms", None)
    return DONE


def _sentry(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    state = cmd.group("vehicle_state")
    if not state.get("sentry_mode_available", True):
        return False, "sentry_mode_unavailable"
    state["sentry_mode"] = on
    return DONE


SEAT_HEATERS = {0: "seat_heater_left", 1: "seat_heater_right", 2: "seat_heater_rear_left",
                3: "seat_heater_rear_left_back", 4: "seat_heater_rear_center",
                5: "seat_heater_rear_right"}


def _seat_heater(cmd: Command) -> Outcome:
    heater = cmd.integer("heater")
    level = cmd.integer("level")
    if heater not in SEAT_HEATERS:
        return False, "invalid_heater"
    if not 0 <= level <= 3:
        return False, "invalid_level"
    climate = cmd.group("climate_state")
    key = SEAT_HEATERS[heater]
    if key in climate or heater in (0, 1):
        climate[key] = level
    return DONE


def _steering_wheel_heater(cmd: Command) -> Outcome:
    cmd.group("climate_state")["steering_wheel_heater"] = cmd.flag("on")
    return DONE


def _calendar_sync(cmd: Command) -> Outcome:
    cmd.raw("calendar_data", None)
    return DONE


def _charging_amps(cmd: Command) -> Outcome:
    amps = cmd.integer("charging_amps")
    charge = cmd.group("charge_state")
    if not 0 < amps <= int(charge.get("charge_current_request_max", 48)):
        return False, "out_of_range"
    charge["charge_current_request"] = amps
    if charge.get("charging_state") == "Charging":
        charge["charger_actual_current"] = amps
    return DONE


CLIMATE_KEEPER_MODES = {0: "off", 1: "on", 2: "dog", 3: "camp"}


def _climate_keeper(cmd: Command) -> Outcome:
    mode = cmd.integer("climate_keeper_mode")
    if mode not in CLIMATE_KEEPER_MODES:
        return False, "invalid_mode"
    climate = cmd.group("climate_state")
    climate["climate_keeper_mode"] = CLIMATE_KEEPER_MODES[mode]
    if mode:
        climate["is_climate_on"] = True
        climate["is_auto_conditioning_on"] = True
    return DONE


def _cabin_overheat(cmd: Command) -> Outcome:
    on = cmd.flag("on")
    fan_only = cmd.flag("fan_only", False)
    value = "Off" if not on else ("FanOnly" if fan_only else "On")
    cmd.group("climate_state")["cabin_overheat_protection"] = value
    return DONE


def _vehicle_name(cmd: Command) -> Outcome:
    name = cmd.text("vehicle_name").strip()
    if not name or len(name) > 64:
        return False, "invalid_name"
    cmd.vehicle.data["display_name"] = name
    cmd.group("vehicle_state")["vehicle_name"] = name
    return DONE


def _scheduled_charging(cmd: Command) -> Outcome:
    enable = cmd.flag("enable")
    minutes = cmd.integer("time", 0)
    if not 0 <= minutes < 24 * 60:
        return False, "out_of_range"
    charge = cmd.group("charge_state")
    charge["scheduled_charging_pending"] = enable
    if enable:
        now = datetime.fromtimestamp(cmd.world.clock.now(), timezone.utc)
        start = now.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
        if start <= now:
            start += timedelta(days=1)
        charge["scheduled_charging_start_time"] = int(start.timestamp())
    else:
        charge["scheduled_charging_start_time"] = None
    return DONE


def _adjust_volume(cmd: Command) -> Outcome:
    volume = cmd.number("volume")
    if not cmd.group("vehicle_state").get("is_user_present"):
        return False, "user_not_present"
    if not 0 <= volume <= 11:
        return False, "out_of_range"
    return DONE


def _share(cmd: Command) -> Outcome:
    value = cmd.raw("value")
    if not isinstance(value, dict) and not isinstance(value, str):
        raise HTTPException(400, "invalid_request: 'value' must be an object or a string")
    return DONE


COMMANDS: dict[str, Callable[[Command], Outcome]] = {
    "door_unlock": _unlock,
    "door_lock": _lock,
    "honk_horn": _noop,
    "flash_lights": _noop,
    "auto_conditioning_start": _climate(True),
    "auto_conditioning_stop": _climate(False),
    "set_preconditioning_max": _max_defrost,
    "set_temps": _set_temps,
    "set_charge_limit": _set_charge_limit,
    "charge_max_range": _charge_max_range,
    "charge_standard": _charge_standard,
    "sun_roof_control": _sun_roof,
    "window_control": _window_control,
    "actuate_trunk": _actuate_trunk,
    "remote_start_drive": _remote_start,
    "trigger_homelink": _homelink,
    "charge_port_door_open": _charge_port(True),
    "charge_port_door_close": _charge_port(False),
    "charge_start": _charge_start,
    "charge_stop": _charge_stop,
    "media_toggle_playback": _media,
    "media_next_track": _media,
    "media_prev_track": _media,
    "media_next_fav": _media,
    "media_prev_fav": _media,
    "media_volume_up": _media,
    "media_volume_down": _media,
    "upcoming_calendar_entries": _calendar_sync,
    "set_valet_mode": _set_valet,
    "reset_valet_pin": _reset_valet_pin,
    "speed_limit_activate": _speed_limit_activate,
    "speed_limit_deactivate": _speed_limit_deactivate,
    "speed_limit_set_limit": _speed_limit_set,
    "speed_limit_clear_pin": _speed_limit_clear_pin,
    "schedule_software_update": _schedule_update,
    "cancel_software_update": _cancel_update,
    "set_sentry_mode": _sentry,
    "remote_seat_heater_request": _seat_heater,
    "remote_steering_wheel_heater_request": _steering_wheel_heater,
    "set_charging_amps": _charging_amps,
    "set_climate_keeper_mode": _climate_keeper,
    "set_cabin_overheat_protection": _cabin_overheat,
    "set_vehicle_name": _vehicle_name,
    "set_scheduled_charging": _scheduled_charging,
    "adjust_volume": _adjust_volume,
    "remote_boombox": _noop,
    "share": _share,
}


def _command_endpoint(name: str, action: Callable[[Command], Outcome]):
    async def endpoint(request: Request) -> Response:
        params = await read_params(request)
        world, email, vehicle = _online_vehicle(request)
        if vehicle.data.get("in_service"):
            raise HTTPException(405, "vehicle is currently in service")
        with world.lock:
            result, reason = action(Command(world, email, vehicle, params))
            _stamp(vehicle, world.clock.now())
        logger.info("command %s on %s: %s %s", name, vehicle.id_s, result, reason)
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
    Route(f"{VEHICLE}/command/{name}", _command_endpoint(name, action), methods=["POST"],
          name=f"command_{name}")
    for name, action in COMMANDS.items()
]
