"""The simulated Fleet token host (``fleet-auth.prd.vn.cloud.tesla.com``): ``oauth2/v3/token``.

Three grants, form-encoded (or JSON), for the apps of the world's ``fleet_api``:

* ``authorization_code``: a code the SSO's authorize page gave a Fleet API app, with
  ``client_id``, ``redirect_uri`` (the one the code was asked with, else 400
  ``invalid_redirect_url``), ``audience`` (a Fleet API base URL), and ``code_verifier``
  when the code was asked with PKCE; apps with a secret must send ``client_secret``.
* ``refresh_token``: single use in every era (a used one answers 401
  ``login_required``); a refresh also ends the access token the refresh token came with.
* ``client_credentials``: a partner token for the app (``client_secret`` needed, so
  open-source apps get none) and one ``audience`` region.

User tokens work on every Fleet API region of their cloud (the China SSO's accounts
on ``cn``, the others on ``na`` and ``eu``); which region serves an account is the
Fleet API's business (421). Every mint is recorded in ``world.token_mints``; the
Owner API's minting gate does not apply to Fleet API tokens.
"""
from __future__ import annotations

import dataclasses
import hmac
import secrets
from typing import Optional

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teslasim.fleet_model import REGIONS, FleetApp
from teslasim.routes.sso import (_login_required, _minting_mark, _new_refresh_token, _sso_error,
                                 _subject, _text, answer_grant, mint_jwt, pkce_challenge)
from teslasim.state import TokenRecord, World

ISSUER_PATH = "oauth2/v3/nts"
PARTNER_TOKEN_LIFETIME = 28800


def _world(request: Request) -> World:
    return request.app.state.world


def fleet_base_urls(urls: dict) -> dict:
    """``{region: base URL}`` of the Fleet API listeners."""
    return {region: urls[f"fleet_{region}_base_url"] for region in REGIONS}


def _audience_region(request: Request, audience: str) -> Optional[str]:
    """The region whose base URL ``audience`` is (with or without the slash), or None."""
    for region, base in fleet_base_urls(request.app.state.urls).items():
        if audience and audience.rstrip("/") == base.rstrip("/"):
            return region
    return None


def _client_error(request: Request, app: Optional[FleetApp], secret: str) -> Optional[Response]:
    """The refusal of an unknown app, or of a wrong or missing secret of a confidential one."""
    if app is None:
        return _sso_error(401, "invalid_client", "Unknown client_id", request)
    if app.client_secret is not None and not hmac.compare_digest(
            app.client_secret.encode(), secret.encode()):
        return _sso_error(400, "unauthorized_client",
                          "We don't recognize this client_id and client_secret combination",
                          request)
    return None


def _audiences(urls: dict, cloud: str) -> list:
    """The base URLs a user token of the ``global`` or ``cn`` cloud is good for."""
    bases = fleet_base_urls(urls)
    return [bases["cn"]] if cloud == "cn" else [bases["na"], bases["eu"]]


def _user_tokens(request: Request, grant_type: str, email: str, app: FleetApp,
                 scope: str) -> tuple[dict, str]:
    """New access, refresh and id tokens for ``email``; returns (reply, access token).

    Call with ``world.lock`` held.
    """
    world = _world(request)
    account = world.account(email)
    cloud = account.region if account is not None else "global"
    mint = dataclasses.replace(_minting_mark(request, grant_type, email), marked=False)
    now, lifetime = mint.at, world.settings.access_token_lifetime
    urls = request.app.state.urls
    issuer = urls["fleet_auth_base_url"] + ISSUER_PATH
    region = world.fleet.region_of(email, cloud)
    common = {"iss": issuer, "sub": _subject(world, email), "iat": int(now)}
    access = mint_jwt(world, {
        **common, "aud": _audiences(urls, cloud) + [issuer + "/userinfo"],
        "azp": app.client_id, "scp": scope.split(), "exp": int(now + lifetime),
        "ou_code": region.upper(), "jti": secrets.token_hex(12)})
    refresh = _new_refresh_token(world, email, app.client_id, scope, cloud, issuer)
    id_token = mint_jwt(world, {**common, "aud": app.client_id, "email": email,
                                "exp": int(now + lifetime), "jti": secrets.token_hex(12)})
    world.bearers[access] = TokenRecord(email, now + lifetime, "fleet", region=cloud,
                                        client_id=app.client_id,
                                        scopes=frozenset(scope.split()))
    world.fleet.refresh_access[refresh] = access
    world.token_mints.append(mint)
    return {"access_token": access, "refresh_token": refresh, "id_token": id_token,
            "expires_in": lifetime, "token_type": "Bearer"}, access


async def token(request: Request) -> Response:
    """POST oauth2/v3/token: the code, refresh and client-credentials grants."""
    return await answer_grant(request, {"authorization_code": _code_grant,
                                        "refresh_token": _refresh_grant,
                                        "client_credentials": _partner_grant})


def _missing(request: Request, params: dict, *names: str) -> Optional[Response]:
    """The 400 ``invalid_request`` for a form that lacks one of ``names``, else None."""
    if all(_text(params.get(name)) for name in names):
        return None
    return _sso_error(400, "invalid_request", f"{', '.join(names)} are required", request)


def _code_grant(request: Request, params: dict) -> Response:
    world = _world(request)
    code, client_id = _text(params.get("code")), _text(params.get("client_id"))
    redirect_uri, verifier = _text(params.get("redirect_uri")), _text(params.get("code_verifier"))
    app = world.fleet.app(client_id)
    refusal = _missing(request, params, "code", "client_id", "redirect_uri") \
        or _client_error(request, app, _text(params.get("client_secret")))
    if refusal is not None:
        return refusal
    if _audience_region(request, _text(params.get("audience"))) is None:
        return _sso_error(400, "invalid_request", "audience must be a Fleet API base URL",
                          request)
    with world.lock:
        record = world.auth_codes.get(code)
        if record is None or record.used or record.client_id != client_id \
                or world.clock.now() - record.issued_at > world.settings.auth_code_lifetime:
            if record is not None and record.used:
                for issued in record.access_tokens:     # a replayed code ends its tokens
                    if issued in world.bearers:
                        world.bearers[issued].revoked = True
            return _sso_error(400, "invalid_auth_code",
                              "The authorization code is invalid, used or expired", request)
        record.used = True
        if redirect_uri != record.redirect_uri:
            return _sso_error(400, "invalid_redirect_url",
                              "redirect_uri does not match the authorization request", request)
        if record.code_challenge and not hmac.compare_digest(
                pkce_challenge(verifier) if verifier else "", record.code_challenge):
            return _sso_error(400, "invalid_request", "Invalid code_verifier", request)
        reply, access = _user_tokens(request, "authorization_code", record.email, app,
                                     record.scope)
        record.access_tokens.append(access)
    return JSONResponse(reply)


def _refresh_grant(request: Request, params: dict) -> Response:
    world = _world(request)
    refresh, client_id = _text(params.get("refresh_token")), _text(params.get("client_id"))
    app = world.fleet.app(client_id)
    refusal = _missing(request, params, "refresh_token", "client_id")
    if refusal is not None:
        return refusal
    if app is None:
        return _sso_error(401, "invalid_client", "Unknown client_id", request)
    with world.lock:
        grant = world.refresh_grants.get(refresh)
        if grant is None or grant.revoked or grant.client_id != client_id:
            return _sso_error(400, "invalid_grant", "The refresh_token is invalid", request)
        if grant.used_at is not None:
            return _login_required()
        grant.used_at = world.clock.now()
        previous = world.bearers.get(world.fleet.refresh_access.pop(refresh, ""))
        if previous is not None:
            previous.revoked = True
        reply, _access = _user_tokens(request, "refresh_token", grant.email, app, grant.scope)
    return JSONResponse(reply)


def _partner_grant(request: Request, params: dict) -> Response:
    world = _world(request)
    client_id, secret = _text(params.get("client_id")), _text(params.get("client_secret"))
    app = world.fleet.app(client_id)
    refusal = _missing(request, params, "client_id", "client_secret") \
        or _client_error(request, app, secret)
    if refusal is not None:
        return refusal
    if app.open_source:
        return _sso_error(400, "unauthorized_client",
                          "Open-source apps cannot get partner tokens", request)
    region = _audience_region(request, _text(params.get("audience")))
    if region is None:
        return _sso_error(400, "invalid_request", "audience must be a Fleet API base URL",
                          request)
    scope = _text(params.get("scope")) or "openid"
    now = world.clock.now()
    issuer = request.app.state.urls["fleet_auth_base_url"] + ISSUER_PATH
    access = mint_jwt(world, {"iss": issuer, "sub": client_id, "azp": client_id,
                              "aud": [fleet_base_urls(request.app.state.urls)[region]],
                              "scp": scope.split(), "iat": int(now),
                              "exp": int(now + PARTNER_TOKEN_LIFETIME),
                              "jti": secrets.token_hex(12)})
    with world.lock:
        world.bearers[access] = TokenRecord("", now + PARTNER_TOKEN_LIFETIME, "partner",
                                            region="cn" if region == "cn" else "global",
                                            client_id=client_id,
                                            scopes=frozenset(scope.split()))
    return JSONResponse({"access_token": access, "expires_in": PARTNER_TOKEN_LIFETIME,
                         "token_type": "Bearer"})


def issue_fleet_refresh_token(world: World, urls: dict, email: str, client_id: str,
                              scope: str) -> str:
    """A refresh token of ``email`` for the app ``client_id``, as after a sign-in.

    Raises ``ValueError`` for an unknown account or app.
    """
    account = world.account(email)
    if account is None or world.fleet.app(client_id) is None:
        raise ValueError(f"no account {email!r} or no Fleet API app {client_id!r} in this world")
    with world.lock:
        return _new_refresh_token(world, account.email, client_id, scope, account.region,
                                  urls["fleet_auth_base_url"] + ISSUER_PATH)


ROUTES = [Route("/oauth2/v3/token", token, methods=["POST"])]
