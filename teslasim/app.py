"""Build the simulated services as Starlette apps sharing one world and one fault plan.

Services: ``sso`` (global SSO), ``sso_cn`` (China SSO, same routes, reached by
redirect), ``api`` (Owner API, energy routes and Tesla's unknown-route answer),
``streaming`` (websocket), ``compositor`` (vehicle images), ``api_cn`` and
``streaming_cn`` (the China cloud's Owner API and streaming hosts, same routes), the
Fleet API's regions ``fleet_na``, ``fleet_eu`` and ``fleet_cn`` (the Owner API's routes,
:mod:`~teslasim.routes.fleet_api` and the key-pairing page, behind
:class:`~teslasim.routes.fleet_api.FleetGate`) and its token host ``fleet_auth``. Every
app holds the world at ``app.state.world``, the URL map at ``app.state.urls``, the
fault plan at ``app.state.faults``, its own name at ``app.state.service``, its SSO
region at ``app.state.region`` (``cn`` for the China services, else ``global``), and
``app.state.fleet`` / ``app.state.fleet_region`` (a Fleet API listener and its region).

Errors are rendered by one handler as Tesla's envelope
``{"response": null, "error": "<text>", "error_description": ""}``: raise
``HTTPException(status, detail="<text>", headers=...)`` in a handler, or a
:class:`~teslasim.errors.ModelError` from a domain model. A route that does
not exist answers 404 ``{"response": null, "error": "not_found", "error_description": ""}``
(the answer Tesla gives for an unknown vehicle or path); an unexpected failure answers
500 with ``"error": "internal_server_error"`` and never a stack trace.
"""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Mapping, Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from teslasim.errors import ModelError
from teslasim.faults import FaultMiddleware, FaultPlan
from teslasim.routes import (compositor, energy, fleet_api, fleet_auth, key_pairing, owner_api,
                             sso, streaming)
from teslasim.state import World

logger = logging.getLogger(__name__)

SERVICES = ("sso", "sso_cn", "api", "streaming", "compositor", "api_cn", "streaming_cn",
            "fleet_na", "fleet_eu", "fleet_cn", "fleet_auth")
#: Services of the China cloud (``auth.tesla.cn``, ``owner-api.vn.cloud.tesla.cn``, ...).
CHINA_SERVICES = ("sso_cn", "api_cn", "streaming_cn", "fleet_cn")
#: The Fleet API listeners and the region each serves.
FLEET_SERVICES = {"fleet_na": "na", "fleet_eu": "eu", "fleet_cn": "cn"}
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def error_response(status: int, error: str, description: str = "",
                   headers: Optional[Mapping[str, str]] = None) -> JSONResponse:
    """Tesla's error envelope with ``status``."""
    return JSONResponse({"response": None, "error": error, "error_description": description},
                        status_code=status, headers=headers)


def _default_error_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_")
    except ValueError:
        return "error"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    try:
        default = HTTPStatus(exc.status_code).phrase
    except ValueError:
        default = ""
    if not detail or detail == default:
        detail = _default_error_text(exc.status_code)
    return error_response(exc.status_code, str(detail), headers=exc.headers)


async def _model_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelError)
    return error_response(exc.status, exc.message)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error in %s %s", request.method, request.url.path)
    return error_response(500, "internal_server_error")


MAX_BODY = 1 << 20


class WholeBodyMiddleware:
    """Read each HTTP request body completely before the service answers.

    A reply sent while part of the body is still unread makes the server close the
    connection, and a client reusing it (as a ``requests.Session`` does) would then
    fail its next request. Clients attach ``{}`` even to GETs, which most handlers
    never read. Bodies over ``MAX_BODY`` bytes answer 413 with the error envelope.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
            more = message.get("more_body", False)
        if size > MAX_BODY:
            await error_response(413, "request_entity_too_large")(scope, receive, send)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def unknown_route(request: Request) -> JSONResponse:
    """Tesla's answer for a path it does not serve."""
    return error_response(404, "not_found")


UNKNOWN_ROUTE = Route("/{path:path}", unknown_route, methods=ALL_METHODS, name="unknown_route")


def create_apps(world: World, urls: dict, faults: Optional[FaultPlan] = None
                ) -> dict[str, Starlette]:
    """One Starlette app per service (see the module docstring), keyed by service name."""
    faults = faults if faults is not None else FaultPlan()
    tables = {
        "sso": list(sso.ROUTES),
        "sso_cn": list(sso.ROUTES),
        "api": list(owner_api.ROUTES) + list(energy.ROUTES) + [UNKNOWN_ROUTE],
        "streaming": list(streaming.ROUTES),
        "compositor": list(compositor.ROUTES),
    }
    tables["api_cn"] = tables["api"]
    tables["streaming_cn"] = tables["streaming"]
    fleet = list(fleet_api.ROUTES) + list(key_pairing.ROUTES) + tables["api"]
    tables.update({service: fleet for service in FLEET_SERVICES})
    tables["fleet_auth"] = list(fleet_auth.ROUTES)
    apps = {}
    for service in SERVICES:
        middleware = [Middleware(WholeBodyMiddleware), Middleware(FaultMiddleware, service=service)]
        if service in FLEET_SERVICES:
            middleware.append(Middleware(fleet_api.FleetGate))
        app = Starlette(
            routes=tables[service],
            middleware=middleware,
            exception_handlers={HTTPException: _http_error, ModelError: _model_error,
                                Exception: _server_error},
        )
        app.state.world = world
        app.state.urls = urls
        app.state.faults = faults
        app.state.service = service
        app.state.region = "cn" if service in CHINA_SERVICES else "global"
        app.state.fleet = service in FLEET_SERVICES
        app.state.fleet_region = FLEET_SERVICES.get(service)
        apps[service] = app
    return apps
