"""Who calls the Owner API host: the request's bearer, checked as the world's rules say.

Every rule set: Fleet API tokens work only on the Fleet API hosts, the SSO's and Owner
API's only on the others; a missing, unknown, expired or revoked bearer answers 401
``invalid bearer token`` with a ``WWW-Authenticate: Bearer realm="Doorkeeper", ...``
header. Under the 2026 rules a bearer works only on the Owner API of its own region
(elsewhere it is unknown), and every ``api/1`` call made with a token minted the way
Tesla's minting gate refuses (``TokenRecord.marked``) answers 403
``forbidden, see https://developer.tesla.com/docs/fleet-api``.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from teslasim.state import TokenRecord, World

MINTING_GATE = "forbidden, see https://developer.tesla.com/docs/fleet-api"


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or ''."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def unauthorized(reason: str) -> HTTPException:
    """The 401 Tesla's Owner API answers for a bearer it does not take, saying why."""
    return HTTPException(401, "invalid bearer token", headers={
        "WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", '
                            f'error_description="{reason}"'})


#: Tokens of the Fleet API (a user's, an app's); they work only there, the others only off it.
FLEET_KINDS = frozenset({"fleet", "partner"})


def _usable_here(request: Request, world: World, record: TokenRecord) -> bool:
    """Whether a live bearer works on this host: its API, and (2026) its own region."""
    if (record.kind in FLEET_KINDS) != request.app.state.fleet:
        return False
    return not world.rules.today or record.region == request.app.state.region


def bearer_record(request: Request) -> TokenRecord:
    """The record of the request's bearer. Raises ``HTTPException`` 401 unless usable here."""
    world: World = request.app.state.world
    token = bearer_token(request)
    record = world.bearer_record(token)
    if record is not None and _usable_here(request, world, record):
        return record
    known = world.bearers.get(token) if token else None
    if known is None or not _usable_here(request, world, known):
        reason = "The access token is invalid"
    elif known.revoked:
        reason = "The access token was revoked"
    else:
        reason = "The access token expired"
    raise unauthorized(reason)


def require_owner(request: Request) -> str:
    """The email owning the request's bearer, for an ``api/1`` data call.

    Raises ``HTTPException`` 401 (see :func:`bearer_record`), and 403 under the 2026
    rules for a token the minting gate marked.
    """
    record = bearer_record(request)
    if record.marked and request.app.state.world.rules.today:
        raise HTTPException(403, MINTING_GATE)
    return record.email
