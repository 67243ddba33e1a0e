"""Who calls the Owner API host: the request's bearer.

A missing, unknown, expired or revoked bearer answers 401 ``invalid bearer token``
with a ``WWW-Authenticate: Bearer realm="Doorkeeper", ...`` header.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from teslasim.state import TokenRecord, World


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or ''."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def unauthorized(reason: str) -> HTTPException:
    """The 401 Tesla's Owner API answers for a bearer it does not take, saying why."""
    return HTTPException(401, "invalid bearer token", headers={
        "WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", '
                            f'error_description="{reason}"'})


def bearer_record(request: Request) -> TokenRecord:
    """The record of the request's bearer. Raises ``HTTPException`` 401 unless it is live."""
    world: World = request.app.state.world
    token = bearer_token(request)
    record = world.bearer_record(token)
    if record is not None:
        return record
    known = world.bearers.get(token) if token else None
    if known is None:
        reason = "The access token is invalid"
    elif known.revoked:
        reason = "The access token was revoked"
    else:
        reason = "The access token expired"
    raise unauthorized(reason)


def require_owner(request: Request) -> str:
    """The email owning the request's bearer; raises ``HTTPException`` 401 otherwise."""
    return bearer_record(request).email
