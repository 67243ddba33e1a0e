"""Routes of the simulated energy service: Powerwall and energy site reads and settings.

Paths follow Tesla's Owner API (``api/1/powerwalls/{battery_id}/...`` and
``api/1/energy_sites/{site_id}/...``). Every call needs a bearer of the site's owner;
a site or battery of another account, or an unknown one, answers 404 ``not_found``;
a missing, expired or revoked bearer 401 as on the vehicle routes.
Settings reply ``{"response": {"code": 201, "message": "Updated"}}`` (``code`` 200
under the 2026 rules) and show up in later reads. The behaviour itself lives in
:mod:`teslasim.energy_model`, whose ``EnergyError`` the app renders as Tesla's error
envelope. Under the 2026 rules the bearer rules of :mod:`teslasim.routes.bearer` apply.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from teslasim import energy_model as model
from teslasim.request_params import read_params
from teslasim.routes.bearer import require_owner
from teslasim.state import EnergySite, World

logger = logging.getLogger(__name__)


def _world(request: Request) -> World:
    return request.app.state.world


def _find_site(request: Request, matches: Callable[[EnergySite, dict], bool]) -> EnergySite:
    """The caller's site the path names. Raises ``HTTPException`` 401 or 404."""
    email = require_owner(request)
    for site in _world(request).sites_of(email):
        if matches(site, request.path_params):
            return site
    raise HTTPException(404, "not_found")


def _site_by_id(request: Request) -> EnergySite:
    """The caller's site named by ``{site_id}``."""
    return _find_site(request, lambda site, path: str(site.energy_site_id) == path["site_id"])


def _site_by_battery(request: Request) -> EnergySite:
    """The caller's Powerwall site named by ``{battery_id}``."""
    return _find_site(request, lambda site, path: model.is_battery(site)
                      and site.id == path["battery_id"])


def _updated(world: World) -> dict:
    """The reply to an accepted setting: code 201 in 2021, 200 (Tesla since 2025) in 2026."""
    return {"code": 200 if world.rules.today else 201, "message": "Updated"}


def _answer(value: Any) -> JSONResponse:
    return JSONResponse({"response": value})


def _read(locate: Callable[[Request], EnergySite],
          render: Callable[[EnergySite, float], dict]) -> Callable:
    async def endpoint(request: Request) -> JSONResponse:
        site = locate(request)
        world = _world(request)
        with world.lock:
            return _answer(render(site, world.clock.now()))
    return endpoint


def _write(locate: Callable[[Request], EnergySite], field: str,
           change: Callable[[EnergySite, Any], None]) -> Callable:
    async def endpoint(request: Request) -> JSONResponse:
        site = locate(request)
        params = await read_params(request)
        if field not in params:
            raise HTTPException(400, f"missing parameter: {field}")
        world = _world(request)
        with world.lock:
            # bring the battery up to now under the old settings before changing them
            model.stored_energy(site, world.clock.now())
            change(site, params[field])
        logger.debug("site %s: %s changed", site.energy_site_id, field)
        return _answer(_updated(world))
    return endpoint


def _history(calendar_style: bool) -> Callable:
    async def endpoint(request: Request) -> JSONResponse:
        site = _site_by_id(request)
        world = _world(request)
        with world.lock:
            reply = model.history(site, dict(request.query_params), world.clock.now(),
                                  calendar_style)
        return _answer(reply)
    return endpoint


def _power_history(site: EnergySite, now: float) -> dict:
    return model.history(site, {"kind": "power", "period": "day"}, now, False)


def _energy_history(site: EnergySite, now: float) -> dict:
    return model.history(site, {"kind": "energy", "period": "week"}, now, False)


def _route(path: str, endpoint: Callable, method: str, name: Optional[str] = None) -> Route:
    return Route(path, endpoint, methods=[method], name=name)


BATTERY = "/api/1/powerwalls/{battery_id}"
SITE = "/api/1/energy_sites/{site_id}"

ROUTES: list = [
    _route(BATTERY, _read(_site_by_battery, model.battery_data), "GET", "battery_data"),
    _route(BATTERY + "/status", _read(_site_by_battery, model.battery_summary), "GET",
           "battery_summary"),
    _route(BATTERY + "/powerhistory", _read(_site_by_battery, _power_history), "GET",
           "battery_power_history"),
    _route(BATTERY + "/energyhistory", _read(_site_by_battery, _energy_history), "GET",
           "battery_energy_history"),
    _route(BATTERY + "/backup", _write(_site_by_battery, "backup_reserve_percent",
                                       model.set_backup_reserve), "POST"),
    _route(BATTERY + "/site_name", _write(_site_by_battery, "site_name", model.set_site_name),
           "POST"),
    _route(BATTERY + "/operation", _write(_site_by_battery, "default_real_mode",
                                          model.set_operation), "POST"),
    _route(SITE + "/live_status", _read(_site_by_id, model.live_status), "GET", "site_data"),
    _route(SITE + "/site_status", _read(_site_by_id, model.site_status), "GET",
           "site_summary"),
    _route(SITE + "/site_info", _read(_site_by_id, lambda site, now: model.site_info(site)),
           "GET", "site_config"),
    _route(SITE + "/history", _history(False), "GET", "history_data"),
    _route(SITE + "/calendar_history", _history(True), "GET", "calendar_history_data"),
    _route(SITE + "/backup", _write(_site_by_id, "backup_reserve_percent",
                                    model.set_backup_reserve), "POST"),
    _route(SITE + "/operation", _write(_site_by_id, "default_real_mode", model.set_operation),
           "POST"),
    _route(SITE + "/site_name", _write(_site_by_id, "site_name", model.set_site_name), "POST"),
    _route(SITE + "/storm_mode", _write(_site_by_id, "enabled", model.set_storm_mode), "POST"),
    _route(SITE + "/off_grid_vehicle_charging_reserve",
           _write(_site_by_id, "off_grid_vehicle_charging_reserve_percent",
                  model.set_off_grid_reserve), "POST"),
    _route(SITE + "/time_of_use_settings", _write(_site_by_id, "tou_settings",
                                                  model.set_tou_settings), "POST"),
]
