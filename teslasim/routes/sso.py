"""Routes of the simulated Tesla SSO (auth.tesla.com / auth.tesla.cn).

The authorization-code flow with PKCE: the sign-in form (with captcha for accounts
that need one), MFA with TOTP factors, the callback redirect with a single-use code,
the token endpoint (authorization_code and refresh_token grants, rotating refresh
tokens) and the region redirect between the global and the China host.

Fleet API apps (the world's ``fleet_api`` apps) sign in here too, each with its own
redirect URIs (another gets Tesla's JSON ``AuthorizationError``) and scopes; PKCE is
required of open-source apps only. Their codes are exchanged at the Fleet token host
(:mod:`teslasim.routes.fleet_auth`), not here.

The world's rules pick the era. 2021: the callback may be ``tesla://auth/callback``
or ``https://auth.tesla.com/void/callback``, and a used refresh token works for a
grace period. 2026: only ``tesla://auth/callback`` (anything else gets Tesla's HTML
error page); the sign-in form needs the proof its page script computes (a stand-in
for reCAPTCHA: without it, "Recaptcha is required" and the password is not checked);
refresh tokens are single use (a reused one answers 401 ``login_required``); and a
token minted over a connection lacking what ``rules.mint_requires`` names (HTTP/2,
TLS 1.3) is marked, which the Owner API refuses. Every mint is recorded in
``world.token_mints``.

The session cookie ``tesla-auth.sid`` is set without ``Secure`` because the 2021
simulator serves plain HTTP on loopback.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import uuid
from datetime import datetime, timezone
from typing import Optional
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from teslasim import captcha, sso_pages, totp
from teslasim.state import AuthCode, RefreshGrant, SsoTransaction, TokenMint, World
from teslasim.tls import SCOPE_KEY

logger = logging.getLogger(__name__)

CLIENT_ID = "ownerapi"
#: The callback Tesla's app registers; the only one accepted under the 2026 rules.
APP_CALLBACK = "tesla://auth/callback"
#: The callback of 2021 clients, refused for ``ownerapi`` since April 2026.
VOID_CALLBACK = "https://auth.tesla.com/void/callback"
CALLBACKS = {"2021": (APP_CALLBACK, VOID_CALLBACK), "2026": (APP_CALLBACK,)}
DEFAULT_SCOPE = "openid email offline_access"
SESSION_COOKIE = "tesla-auth.sid"
SESSION_MAX_AGE = 3 * 24 * 3600
VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

MSG_INVALID_CREDENTIALS = "Invalid credentials"
MSG_CAPTCHA_REQUIRED = "Captcha is required"
MSG_CAPTCHA_MISMATCH = "Captcha does not match"
MSG_RECAPTCHA_REQUIRED = "Recaptcha is required"
MSG_OTHER_REGION = "This account is registered in another region; sign in on that region's site"


# -- helpers -----------------------------------------------------------------

def _world(request: Request) -> World:
    return request.app.state.world


def _region(request: Request) -> str:
    return request.app.state.region


def _base_url(request: Request, region: Optional[str] = None) -> str:
    urls = request.app.state.urls
    return urls["sso_cn_base_url"] if (region or _region(request)) == "cn" else urls["sso_base_url"]


def _issuer(request: Request) -> str:
    return _base_url(request) + "oauth2/v3"


def _now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _session(request: Request) -> tuple[str, dict, bool]:
    """The SSO session of this browser: (sid, data, newly created)."""
    world = _world(request)
    sid = request.cookies.get(SESSION_COOKIE, "")
    with world.lock:
        if sid and sid in world.sso_sessions:
            return sid, world.sso_sessions[sid], False
        sid = secrets.token_urlsafe(24)
        world.sso_sessions[sid] = {}
        return sid, world.sso_sessions[sid], True


def _with_cookie(response: Response, sid: str, created: bool) -> Response:
    if created:
        response.set_cookie(SESSION_COOKIE, sid, max_age=SESSION_MAX_AGE, path="/",
                            httponly=True, samesite="lax")
    return response


def _sso_error(status: int, error: str, description: str, request: Request) -> JSONResponse:
    """An OAuth error reply (token endpoint and malformed authorize requests)."""
    reference = secrets.token_hex(8)
    return JSONResponse({"error": error, "error_description": description,
                         "error_uri": f"{_base_url(request)}error/reference/{reference}"},
                        status_code=status)


def _login_required() -> JSONResponse:
    """Tesla's answer to a refresh token that was already used (2026)."""
    return JSONResponse({"error": "login_required", "error_description": "Login required",
                         "referenceID": secrets.token_hex(16)}, status_code=401)


def _mfa_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _redirect_to_callback(redirect_uri: str, params: dict) -> Response:
    location = redirect_uri + "?" + urlencode(params, quote_via=quote)
    return PlainTextResponse(f"Found. Redirecting to {location}", status_code=302,
                             headers={"Location": location})


async def _form(request: Request) -> dict:
    """The form (or JSON object) body of a POST; {} when it cannot be read."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_jwt(world: World, claims: dict) -> str:
    """A JWT (HS256) over ``claims``, signed with the world's secret."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "teslasim"},
                                separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(world.secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier (RFC 7636)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


# -- authorize: the sign-in form ------------------------------------------------

async def authorize_form(request: Request) -> Response:
    """GET oauth2/v3/authorize: validate the OAuth request and show the sign-in form."""
    world = _world(request)
    query = request.query_params
    client_id = query.get("client_id", "")
    redirect_uri = query.get("redirect_uri", "")
    state = query.get("state", "")
    fleet_app = world.fleet.app(client_id)
    if client_id != CLIENT_ID and fleet_app is None:
        return _sso_error(400, "invalid_client", "Unknown client_id", request)
    if fleet_app is not None and redirect_uri not in fleet_app.redirect_uris:
        return JSONResponse({"error": {
            "message": "We don't recognize this redirect URI/URL. Please check that it "
                       "matches the one configured for this app.",
            "code": 400, "reason": "AuthorizationError",
            "referenceID": secrets.token_hex(16)}}, status_code=400)
    if fleet_app is None and redirect_uri not in CALLBACKS[world.rules.era]:
        if world.rules.today:
            return HTMLResponse(sso_pages.redirect_uri_error_page(secrets.token_hex(16)),
                                status_code=400)
        return _sso_error(400, "invalid_request",
                          "The 'redirect_uri' supplied is not registered for this 'client_id'",
                          request)
    problem = None
    if query.get("response_type") != "code":
        problem = ("unsupported_response_type", "response_type must be 'code'")
    elif not query.get("code_challenge") and (fleet_app is None or fleet_app.open_source):
        problem = ("invalid_request", "code_challenge is required")
    elif query.get("code_challenge") and query.get("code_challenge_method") != "S256":
        problem = ("invalid_request", "code_challenge_method must be 'S256'")
    elif not state:
        problem = ("invalid_request", "state is required")
    if problem:
        params = {"error": problem[0], "error_description": problem[1]}
        if state:
            params["state"] = state
        return _redirect_to_callback(redirect_uri, params)

    login_hint = query.get("login_hint", "")
    account = world.account(login_hint) if login_hint else None
    if account is not None and account.region != _region(request):
        location = _base_url(request, account.region) + "oauth2/v3/authorize?" + request.url.query
        return Response(status_code=303, headers={"Location": location})

    sid, _data, created = _session(request)
    transaction = SsoTransaction(
        transaction_id=secrets.token_urlsafe(6)[:8], sid=sid, region=_region(request),
        client_id=client_id, redirect_uri=redirect_uri, state=state,
        code_challenge=query.get("code_challenge", ""), scope=query.get("scope", DEFAULT_SCOPE),
        login_hint=login_hint, csrf=secrets.token_urlsafe(27),
        captcha_required=account is not None and account.captcha == "always",
        browser_challenge=secrets.token_hex(16) if world.rules.today else "",
    )
    with world.lock:
        world.transactions[transaction.transaction_id] = transaction
    page = sso_pages.sign_in_page(transaction, captcha=transaction.captcha_required,
                                  identity=login_hint)
    return _with_cookie(HTMLResponse(page), sid, created)


def _issue_code(request: Request, transaction: SsoTransaction) -> Response:
    world = _world(request)
    code = secrets.token_hex(30)
    with world.lock:
        world.auth_codes[code] = AuthCode(
            code=code, email=transaction.email or "", region=transaction.region,
            client_id=transaction.client_id, redirect_uri=transaction.redirect_uri,
            code_challenge=transaction.code_challenge, state=transaction.state,
            scope=transaction.scope, issued_at=world.clock.now())
        transaction.phase = "done"
        world.transactions.pop(transaction.transaction_id, None)
    return _redirect_to_callback(transaction.redirect_uri, {
        "code": code, "state": transaction.state, "issuer": _issuer(request)})


def _form_again(transaction: SsoTransaction, messages: dict, identity: str) -> HTMLResponse:
    return HTMLResponse(sso_pages.sign_in_page(
        transaction, messages, captcha=transaction.captcha_required, identity=identity))


async def authorize_submit(request: Request) -> Response:
    """POST oauth2/v3/authorize: credentials, the post-MFA continue, or cancel."""
    world = _world(request)
    form = await _form(request)
    transaction_id = _text(form.get("transaction_id")) or request.query_params.get(
        "transaction_id", "")
    sid = request.cookies.get(SESSION_COOKIE, "")
    with world.lock:
        transaction = world.transactions.get(transaction_id)
    if transaction is None or transaction.sid != sid or transaction.phase == "done":
        return _sso_error(400, "invalid_request",
                          "Unknown or expired transaction; start the sign-in again", request)

    if _text(form.get("cancel")):
        with world.lock:
            world.transactions.pop(transaction.transaction_id, None)
        return _redirect_to_callback(transaction.redirect_uri, {
            "error": "login_cancelled", "error_description": "User cancelled login",
            "state": transaction.state})

    if transaction.phase == "mfa":
        if transaction.mfa_verified:
            return _issue_code(request, transaction)
        return HTMLResponse(sso_pages.mfa_page(transaction))

    identity = _text(form.get("identity")).strip()
    credential = _text(form.get("credential"))
    answer = _text(form.get("captcha"))
    account = world.account(identity)
    with world.lock:
        transaction.submits += 1
        if transaction.browser_challenge and not sso_pages.proof_matches(
                transaction.browser_challenge, _text(form.get(sso_pages.PROOF_FIELD))):
            return _form_again(transaction, {"recaptcha": MSG_RECAPTCHA_REQUIRED}, identity)
        if account is not None and account.captcha == "always":
            transaction.captcha_required = True
        if account is not None and account.captcha == "after_submit" \
                and not transaction.captcha_required:
            transaction.captcha_required = True
            return _form_again(transaction, {"captcha": MSG_CAPTCHA_REQUIRED}, identity)
        if transaction.captcha_required:
            session = world.sso_sessions.get(sid, {})
            expected = session.pop("captcha", None)
            if not answer:
                return _form_again(transaction, {"captcha": MSG_CAPTCHA_REQUIRED}, identity)
            if not captcha.matches(expected, answer):
                return _form_again(transaction, {"captcha": MSG_CAPTCHA_MISMATCH}, identity)
        if account is None or not credential \
                or not secrets.compare_digest(account.password.encode(), credential.encode()):
            logger.info("sign-in rejected for an identity (wrong credentials)")
            return _form_again(transaction, {"_": MSG_INVALID_CREDENTIALS}, identity)
        if account.region != transaction.region:
            return _form_again(transaction, {"_": MSG_OTHER_REGION}, identity)
        transaction.email = account.email
        if account.factors:
            transaction.phase = "mfa"
            return HTMLResponse(sso_pages.mfa_page(transaction))
    return _issue_code(request, transaction)


async def captcha_image(request: Request) -> Response:
    """GET captcha: a new captcha for this session as SVG; its drawn text is the answer."""
    world = _world(request)
    sid, data, created = _session(request)
    answer = captcha.new_answer()
    with world.lock:
        data["captcha"] = answer
    response = Response(captcha.render_svg(answer), media_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})
    return _with_cookie(response, sid, created)


# -- MFA ------------------------------------------------------------------------------

def _mfa_transaction(request: Request, transaction_id: str) -> Optional[SsoTransaction]:
    world = _world(request)
    with world.lock:
        transaction = world.transactions.get(transaction_id or "")
    if transaction is None or transaction.phase != "mfa" \
            or transaction.sid != request.cookies.get(SESSION_COOKIE, ""):
        return None
    return transaction


async def mfa_factors(request: Request) -> Response:
    """GET oauth2/v3/authorize/mfa/factors?transaction_id=...: the account's TOTP factors."""
    transaction = _mfa_transaction(request, request.query_params.get("transaction_id", ""))
    if transaction is None:
        return _mfa_error(401, "UNAUTHORIZED", "Unknown transaction or not awaiting MFA")
    account = _world(request).account(transaction.email or "")
    factors = account.factors if account else []
    return JSONResponse({"data": [factor.as_json() for factor in factors]})


async def mfa_verify(request: Request) -> Response:
    """POST oauth2/v3/authorize/mfa/verify: check a passcode against one factor."""
    world = _world(request)
    body = await _form(request)
    transaction_id = body.get("transaction_id")
    factor_id = body.get("factor_id")
    passcode = body.get("passcode")
    if not isinstance(transaction_id, str) or not isinstance(factor_id, str) \
            or passcode is None:
        return _mfa_error(400, "ERR_OBJECT_VALIDATION",
                          "transaction_id, factor_id and passcode are required")
    transaction = _mfa_transaction(request, transaction_id)
    if transaction is None:
        return _mfa_error(401, "UNAUTHORIZED", "Unknown transaction or not awaiting MFA")
    account = world.account(transaction.email or "")
    factor = next((f for f in (account.factors if account else []) if f.id == factor_id), None)
    if factor is None:
        return _mfa_error(400, "ERR_INVALID_FACTOR", "Unknown factor")
    if not totp.is_well_formed(passcode):
        return _mfa_error(400, "ERR_OBJECT_VALIDATION", "Passcode must be 6 digits")
    now = world.clock.now()
    with world.lock:
        if transaction.mfa_failures >= world.settings.mfa_max_attempts:
            return _mfa_error(400, "ERR_MAX_VERIFICATION_ATTEMPTS",
                              "Too many attempts; start the sign-in again")
        counter = totp.matching_counter(factor.secret, passcode, now)
        if counter is not None and (factor.id, counter) in world.used_passcodes:
            return _mfa_error(400, "ERR_PASS_CODE_REPLAY",
                              "This passcode was already used; wait for the next one")
        valid = counter is not None
        if counter is not None:
            world.used_passcodes.add((factor.id, counter))
            transaction.mfa_verified = True
        else:
            transaction.mfa_failures += 1
    stamp = _now_iso(now)
    return JSONResponse({"data": {
        "id": str(uuid.uuid4()), "challengeId": str(uuid.uuid4()), "factorId": factor.id,
        "passCode": passcode, "approved": valid, "flagged": False, "valid": valid,
        "createdAt": stamp, "updatedAt": stamp}})


# -- token endpoint -----------------------------------------------------------------

def _subject(world: World, email: str) -> str:
    account = world.account(email)
    return str(uuid.uuid5(uuid.NAMESPACE_URL,
                          f"teslasim:{account.user_id if account else email}"))


def _new_refresh_token(world: World, email: str, client_id: str, scope: str, region: str,
                       issuer: str) -> str:
    """Mint a refresh token and register its grant (call with ``world.lock`` held)."""
    now = world.clock.now()
    refresh = mint_jwt(world, {"iss": issuer, "sub": _subject(world, email), "iat": int(now),
                               "aud": issuer + "/token", "jti": secrets.token_hex(12),
                               "scp": scope.split()})
    world.refresh_grants[refresh] = RefreshGrant(email=email, region=region,
                                                 client_id=client_id, scope=scope,
                                                 issued_at=now)
    return refresh


def issue_refresh_token(world: World, email: str, urls: dict) -> str:
    """A refresh token of ``email`` from the SSO of its region, as if it signed in.

    Raises ``ValueError`` for an unknown account.
    """
    account = world.account(email)
    if account is None:
        raise ValueError(f"no account {email!r} in this world")
    base = urls["sso_cn_base_url"] if account.region == "cn" else urls["sso_base_url"]
    with world.lock:
        return _new_refresh_token(world, account.email, CLIENT_ID, DEFAULT_SCOPE,
                                  account.region, base + "oauth2/v3")


def _minting_mark(request: Request, grant_type: str, email: str) -> TokenMint:
    """How this request reached the token endpoint, and whether that marks its tokens."""
    world = _world(request)
    http_version = request.scope.get("http_version")
    tls = request.scope.get(SCOPE_KEY) or {}
    tls_version = tls.get("tls_version")
    lacking = set()
    if http_version != "2":
        lacking.add("h2")
    if tls_version != "TLSv1.3":
        lacking.add("tls1.3")
    marked = world.rules.today and bool(lacking & world.rules.mint_requires)
    return TokenMint(grant_type=grant_type, email=email, region=_region(request),
                     http_version=http_version, tls_version=tls_version,
                     alpn=tls.get("alpn"), marked=marked, at=world.clock.now())


def _token_reply(request: Request, grant_type: str, email: str, client_id: str, scope: str,
                 state: Optional[str], amr: list) -> tuple[dict, str]:
    """New access, refresh and id tokens; returns (reply, access token).

    Call with ``world.lock`` held.
    """
    world = _world(request)
    mint = _minting_mark(request, grant_type, email)
    now = mint.at
    lifetime = world.settings.access_token_lifetime
    issuer = _issuer(request)
    common = {"iss": issuer, "sub": _subject(world, email), "iat": int(now)}
    access = mint_jwt(world, {
        **common, "aud": [request.app.state.urls["api_base_url"], issuer + "/userinfo"],
        "jti": secrets.token_hex(12), "scp": scope.split(), "amr": amr,
        "exp": int(now + lifetime), "auth_time": int(now), "azp": client_id,
        "ou_code": "CN" if mint.region == "cn" else "NA"})
    refresh = _new_refresh_token(world, email, client_id, scope, mint.region, issuer)
    id_token = mint_jwt(world, {**common, "aud": client_id, "email": email,
                                "jti": secrets.token_hex(12),
                                "exp": int(now + lifetime), "auth_time": int(now)})
    world.add_bearer(access, email, kind="sso", lifetime=lifetime, region=mint.region,
                     marked=mint.marked)
    world.token_mints.append(mint)
    reply = {"access_token": access, "refresh_token": refresh, "id_token": id_token,
             "expires_in": lifetime, "token_type": "Bearer"}
    if state is not None:
        reply["state"] = state
    return reply, access


async def answer_grant(request: Request, grants: dict) -> Response:
    """Answer a token endpoint's form (or JSON) with the handler ``grants`` has for its grant."""
    params = await _form(request)
    grant_type = _text(params.get("grant_type"))
    if grant_type in grants:
        return grants[grant_type](request, params)
    if not grant_type:
        return _sso_error(400, "invalid_request", "grant_type is required", request)
    return _sso_error(400, "unsupported_grant_type",
                      f"Unsupported grant_type '{grant_type[:40]}'", request)


async def token(request: Request) -> Response:
    """POST oauth2/v3/token: authorization_code and refresh_token grants (form or JSON)."""
    return await answer_grant(request, {"authorization_code": _code_grant,
                                        "refresh_token": _refresh_grant})


def _code_grant(request: Request, params: dict) -> Response:
    world = _world(request)
    code = _text(params.get("code"))
    verifier = _text(params.get("code_verifier"))
    client_id = _text(params.get("client_id"))
    redirect_uri = _text(params.get("redirect_uri"))
    if not code or not redirect_uri or not client_id:
        return _sso_error(400, "invalid_request",
                          "code, redirect_uri and client_id are required", request)
    if client_id != CLIENT_ID:
        return _sso_error(401, "invalid_client", "Unknown client_id", request)
    if not VERIFIER_PATTERN.match(verifier):
        return _sso_error(400, "invalid_request", "Invalid code_verifier", request)
    now = world.clock.now()
    with world.lock:
        record = world.auth_codes.get(code)
        if record is None:
            return _sso_error(400, "invalid_grant", "The authorization code is invalid", request)
        if record.used:
            # A replayed code revokes what it was exchanged for (RFC 6749 section 4.1.2).
            for issued in record.access_tokens:
                if issued in world.bearers:
                    world.bearers[issued].revoked = True
            return _sso_error(400, "invalid_grant",
                              "The authorization code has already been used", request)
        record.used = True
        if record.region != _region(request):
            return _sso_error(400, "invalid_grant",
                              "The authorization code was issued by another region's SSO",
                              request)
        if now - record.issued_at > world.settings.auth_code_lifetime:
            return _sso_error(400, "invalid_grant", "The authorization code has expired",
                              request)
        if redirect_uri != record.redirect_uri or client_id != record.client_id:
            return _sso_error(400, "invalid_grant",
                              "redirect_uri or client_id does not match the authorization request",
                              request)
        if not hmac.compare_digest(pkce_challenge(verifier), record.code_challenge):
            return _sso_error(400, "invalid_grant",
                              "The code_verifier does not match the code_challenge", request)
        account = world.account(record.email)
        amr = ["pwd", "mfa", "otp"] if account and account.factors else ["pwd"]
        reply, access = _token_reply(request, "authorization_code", record.email, client_id,
                                     record.scope, record.state, amr)
        record.access_tokens.append(access)
    return JSONResponse(reply)


def _refresh_grant(request: Request, params: dict) -> Response:
    world = _world(request)
    refresh = _text(params.get("refresh_token"))
    client_id = _text(params.get("client_id"))
    if not refresh or not client_id:
        return _sso_error(400, "invalid_request", "refresh_token and client_id are required",
                          request)
    if client_id != CLIENT_ID:
        return _sso_error(401, "invalid_client", "Unknown client_id", request)
    now = world.clock.now()
    with world.lock:
        grant = world.refresh_grants.get(refresh)
        if grant is None or grant.revoked:
            return _sso_error(400, "invalid_grant", "The refresh_token is invalid", request)
        if grant.client_id != client_id:
            return _sso_error(400, "invalid_grant",
                              "The refresh_token was issued to another client", request)
        if grant.region != _region(request):
            return _sso_error(400, "invalid_grant",
                              "The refresh_token was issued by another region's SSO", request)
        if grant.used_at is not None and world.rules.today:
            return _login_required()
        if grant.used_at is not None \
                and now > grant.used_at + world.settings.refresh_grace_period:
            return _sso_error(400, "invalid_grant",
                              "The refresh_token has already been used", request)
        if grant.used_at is None:
            grant.used_at = now
        reply, _access = _token_reply(request, "refresh_token", grant.email, client_id,
                                      grant.scope, None, ["pwd"])
    return JSONResponse(reply)


async def logout(request: Request) -> Response:
    """GET oauth2/v3/logout: end the browser's SSO session."""
    world = _world(request)
    sid = request.cookies.get(SESSION_COOKIE, "")
    with world.lock:
        world.sso_sessions.pop(sid, None)
    response = PlainTextResponse("Signed out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route("/oauth2/v3/authorize", authorize_form, methods=["GET"]),
    Route("/oauth2/v3/authorize", authorize_submit, methods=["POST"]),
    Route("/oauth2/v3/authorize/mfa/factors", mfa_factors, methods=["GET"]),
    Route("/oauth2/v3/authorize/mfa/verify", mfa_verify, methods=["POST"]),
    Route("/oauth2/v3/token", token, methods=["POST"]),
    Route("/oauth2/v3/logout", logout, methods=["GET"]),
    Route("/captcha", captcha_image, methods=["GET"]),
]
