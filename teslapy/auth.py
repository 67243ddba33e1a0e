"""Tesla's SSO, step by step: small functions over replies that give the next request.

The sign-in conversation (authorize page, credentials, captcha, MFA, cancel), the
callback the SSO redirects to, the token endpoint's forms and replies, and the Owner
API token exchange are described here as data; :mod:`teslapy.login` and
:class:`teslapy.session.Tesla` do all I/O. Each function takes what the previous reply
said and returns what to send next, or raises the error a user should see.

Every Tesla-specific constant of the sign-in lives here once: hosts, client ids,
paths, scope and the redirect URI.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import secrets
import time
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional, Tuple, Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from teslapy._types import Token, is_bearer_token
from teslapy.errors import RecaptchaRequiredError, ResponseError, raise_for_status

if TYPE_CHECKING:  # pragma: no cover
    from teslapy.page_inputs import InputCollector

logger = logging.getLogger(__name__)

DEFAULT_SSO_BASE_URL = "https://auth.tesla.com/"
CHINA_SSO_BASE_URL = "https://auth.tesla.cn/"
SSO_CLIENT_ID = "ownerapi"
#: The one redirect URI teslapy registers, on every regional SSO host and in every flow.
#: Tesla accepts only this value for ``ownerapi`` since April 2026; browsers cannot
#: open it, so the browser sign-in reads the URL the browser was sent to.
REDIRECT_URI = "tesla://auth/callback"
#: The redirect URI of 2021-2026, still recognised when a server sends it back.
LEGACY_REDIRECT_URI = "https://auth.tesla.com/void/callback"
SCOPE = ["openid", "email", "offline_access"]
AUTHORIZE_PATH = "oauth2/v3/authorize"
TOKEN_PATH = "oauth2/v3/token"
LOGOUT_PATH = "oauth2/v3/logout"
ISSUER_PATH = "oauth2/v3"
CAPTCHA_PATH = "captcha"
MFA_FACTORS_PATH = "oauth2/v3/authorize/mfa/factors"
MFA_VERIFY_PATH = "oauth2/v3/authorize/mfa/verify"
#: PKCE (RFC 7636) method; the verifier is 43 characters of base64url.
PKCE_METHOD = "S256"
TOTP_FACTOR_TYPE = "token:software"
#: What the sign-in page says when it wants a reCAPTCHA only a browser can solve.
RECAPTCHA_MESSAGE = "recaptcha is required"

#: The Owner API side of the login: RFC 7523 exchange of the SSO token (retired in 2022).
OWNER_TOKEN_PATH = "oauth/token"
OWNER_API_CLIENT_ID = "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: The OAuth error of a server that no longer offers the exchange.
EXCHANGE_RETIRED_ERROR = "unsupported_grant_type"

#: The sign-in page's messages line (compiled on first use, by :mod:`re`'s cache).
_MESSAGES_PATTERN = r"var\s+messages\s*=\s*(\{.*?\})\s*;\s*$"


# -- URLs -------------------------------------------------------------------------


def join(base: str, path: str) -> str:
    """``path`` below the base URL ``base`` (which may lack a trailing slash)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def sso_base_from_url(url: str) -> str:
    """The SSO base URL a page was served from (the part before ``oauth2/v3/...``).

    Used after a region redirect: ``https://auth.tesla.cn/oauth2/v3/authorize?...``
    gives ``https://auth.tesla.cn/``.
    """
    parts = urlsplit(url)
    path = parts.path
    marker = path.find("/" + AUTHORIZE_PATH)
    prefix = path[:marker] if marker >= 0 else ""
    return urlunsplit((parts.scheme, parts.netloc, prefix.rstrip("/") + "/", "", ""))


def sso_base_from_issuer(issuer: str) -> str:
    """The SSO base URL of an ``issuer`` (``https://auth.tesla.cn/oauth2/v3`` gives ``https://auth.tesla.cn/``)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    if path.endswith("/" + ISSUER_PATH):
        path = path[: -len(ISSUER_PATH) - 1]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") + "/", "", ""))


def same_base(first: str, second: str) -> bool:
    """Whether two base URLs name the same scheme, host, port and path."""
    def key(url: str) -> Tuple[str, str, str]:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")
    return key(first) == key(second)


def logout_url(sso_base: str) -> str:
    """Tesla's browser sign-out page for ``ownerapi`` on the SSO host ``sso_base``."""
    return join(sso_base, LOGOUT_PATH) + "?" + urlencode({"client_id": SSO_CLIENT_ID})


# -- PKCE, the authorize URL and the callback ----------------------------------------


class Pkce(NamedTuple):
    """A PKCE pair (RFC 7636): the secret verifier and the S256 challenge sent with it."""

    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    """A fresh PKCE pair: 32 random bytes as a 43-character base64url verifier."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def new_state() -> str:
    """A fresh, unguessable ``state`` value for one sign-in."""
    return secrets.token_urlsafe(24)


def authorize_url(sso_base: str, pkce: Pkce, state: str, email: Optional[str] = None) -> str:
    """The authorize URL that starts a sign-in at ``sso_base`` (``login_hint`` = ``email``)."""
    params = {
        "response_type": "code", "client_id": SSO_CLIENT_ID, "redirect_uri": REDIRECT_URI,
        "scope": " ".join(SCOPE), "state": state,
        "code_challenge": pkce.challenge, "code_challenge_method": PKCE_METHOD,
    }
    if email:
        params["login_hint"] = email
    return join(sso_base, AUTHORIZE_PATH) + "?" + urlencode(params)


def is_callback(url: str) -> bool:
    """Whether ``url`` is the redirect URI the SSO sends a sign-in's result to."""
    base = (url or "").split("?", 1)[0].split("#", 1)[0]
    return base in (REDIRECT_URI, LEGACY_REDIRECT_URI)


class Callback(NamedTuple):
    """What the SSO handed back: the authorization code and the issuer (None if not said)."""

    code: str
    issuer: Optional[str]


def parse_callback(response: str, state: Optional[str]) -> Callback:
    """The code (and issuer) from the URL the browser was sent to, or from a bare code.

    ``response`` is the whole callback URL (``tesla://auth/callback?code=...&state=...``)
    or only the code. A URL must carry the ``state`` this sign-in sent.

    Raises:
        oauthlib.oauth2.rfc6749.errors.MismatchingStateError: the URL's state is not ours.
        oauthlib.oauth2.rfc6749.errors.OAuth2Error: the SSO sent an error instead of a
            code (``login_cancelled``, ``access_denied``, ...), with its description.
        ValueError: nothing was given, or a URL without a code (the address of the
            sign-in page was copied instead of the one the browser was sent to).
    """
    from oauthlib.oauth2.rfc6749 import errors as oauth_errors

    text = (response or "").strip()
    if not text:
        raise ValueError("No callback URL or code was given")
    if "?" not in text and "=" not in text and "/" not in text:
        return Callback(text, None)
    query = urlsplit(text).query if "?" in text else text
    params = dict(parse_qsl(query, keep_blank_values=True))
    if params.get("state") != state:
        raise oauth_errors.MismatchingStateError()
    if params.get("error"):
        oauth_errors.raise_from_error(params["error"], params)
        raise oauth_errors.CustomOAuth2Error(params["error"], params.get("error_description"))
    code = params.get("code")
    if not code:
        raise ValueError("The URL holds no authorization code: copy the address the browser was "
                         f"sent to after signing in (it starts with {REDIRECT_URI}?code=)")
    return Callback(code, params.get("issuer") or None)


# -- the token endpoint ------------------------------------------------------------


def code_grant_form(code: str, pkce: Pkce) -> Dict[str, str]:
    """The token endpoint form that turns an authorization code into tokens."""
    return {"grant_type": "authorization_code", "client_id": SSO_CLIENT_ID, "code": code,
            "code_verifier": pkce.verifier, "redirect_uri": REDIRECT_URI}


def refresh_grant_form(refresh_token: str) -> Dict[str, str]:
    """The token endpoint form that refreshes tokens with ``refresh_token``."""
    return {"grant_type": "refresh_token", "client_id": SSO_CLIENT_ID,
            "refresh_token": refresh_token, "scope": " ".join(SCOPE)}


def parse_token_reply(response: requests.Response, now: Optional[float] = None) -> Token:
    """The token a token-endpoint reply carries, with ``created_at`` and ``expires_at`` added.

    ``created_at`` is whole epoch seconds (as the Owner API writes it); ``expires_at``
    is exact, so that of two tokens the later minted has the later expiry.

    Raises:
        oauthlib.oauth2.rfc6749.errors.OAuth2Error: an OAuth error reply (a 4xx JSON
            object with ``error``: ``InvalidGrantError``, ``LoginRequired``, ...), or
            ``MissingTokenError`` for a reply without an access token.
        requests.HTTPError: a 5xx reply, or a 4xx reply that is not an OAuth error
            (a 429 is :class:`~teslapy.errors.RateLimitError`).
        ResponseError: a 2xx reply whose body is not a JSON object, or whose access
            token is not a bearer token (RFC 6750: letters, digits and ``-._~+/=``; a
            token that no request header could carry is never stored).
    """
    from oauthlib.oauth2.rfc6749 import errors as oauth_errors

    body = json_object(response)
    if response.status_code >= 400:
        if response.status_code < 500 and response.status_code != 429 and body is not None \
                and isinstance(body.get("error"), str):
            oauth_errors.raise_from_error(body["error"], body)
            raise oauth_errors.CustomOAuth2Error(body["error"], body.get("error_description"),
                                                 status_code=response.status_code)
        raise_for_status(response)
    if body is None:
        kind = response.headers.get("Content-Type") or "no type"
        raise ResponseError(f"The SSO token reply ({response.status_code}, {kind}) is not "
                            "a JSON object", response)
    if "access_token" not in body:
        raise oauth_errors.MissingTokenError(description="Missing access token parameter.")
    if not is_bearer_token(body["access_token"]):
        raise ResponseError("The SSO token reply holds no usable access token (not an "
                            "RFC 6750 bearer token)", response)
    token: Token = dict(body)
    moment = now if now is not None else time.time()
    token["created_at"] = int(moment)
    try:
        lifetime = float(body["expires_in"])
    except (KeyError, TypeError, ValueError):
        lifetime = math.nan
    if math.isfinite(lifetime):
        token["expires_at"] = moment + lifetime
    else:                   # unknown: such a token never counts as newer than another
        token.pop("expires_at", None)
    return token


def token_issuer(token: str) -> Optional[str]:
    """The ``iss`` claim of a JWT, read without checking its signature; None if there is none.

    Used only to pick which of the SSO hosts teslapy knows a refresh token belongs to
    (a China account's refresh token works only at the China SSO).
    """
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def json_object(response: requests.Response) -> Optional[Dict[str, Any]]:
    """The reply's body if it is a JSON object (depth-limited by ``json``), else None."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


# -- the sign-in page -----------------------------------------------------------


def _read_page(html: str) -> InputCollector:
    """The page's inputs.

    Raises:
        ResponseError: the page is not HTML the parser can read (``html.parser``
            stops at some malformed markup with an ``AssertionError``).
    """
    from teslapy.page_inputs import InputCollector     # html.parser on first use

    parser = InputCollector()
    try:
        parser.feed(html or "")
        parser.close()
    except (AssertionError, ValueError) as error:
        raise ResponseError(f"The SSO page is not HTML teslapy can read ({error})") from None
    return parser


def parse_form(html: str) -> Dict[str, str]:
    """Every named ``<input>`` of the page with its value, in page order.

    Inputs inside ``<script>`` templates are not part of the page and are ignored, as
    a browser would.

    Raises:
        ResponseError: the page cannot be read as HTML.
    """
    return _read_page(html).inputs


def has_inputs(html: str) -> bool:
    """Whether the page has any ``<input>`` outside scripts (a sign-in form).

    Raises:
        ResponseError: the page cannot be read as HTML.
    """
    return _read_page(html).input_count > 0


def parse_messages(html: str) -> List[str]:
    """The server's messages from the page's ``var messages = {...};`` line.

    Values may be strings or lists of strings; lists are flattened, empty values
    skipped. A page without the line, or with one that is not JSON, has no messages.
    """
    match = re.search(_MESSAGES_PATTERN, html or "", re.MULTILINE)
    if not match:
        return []
    try:
        messages = json.loads(match.group(1))
    except ValueError:
        logger.debug("Sign-in page has an unreadable messages literal")
        return []
    found: List[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif value not in (None, ""):
            found.append(str(value))

    if isinstance(messages, dict):
        collect(list(messages.values()))
    return found


def needs_captcha(form: Dict[str, str]) -> bool:
    """Whether the sign-in form asks for a captcha (it has a ``captcha`` input)."""
    return "captcha" in form


def transaction_id(form: Dict[str, str]) -> str:
    """The sign-in transaction id of a form.

    Raises:
        ValueError: the page has no ``transaction_id`` input (not Tesla's sign-in page).
    """
    value = form.get("transaction_id")
    if not value:
        raise ValueError("The sign-in page has no transaction_id; the SSO page layout is not understood")
    return value


def credentials_form(form: Dict[str, str], email: str, password: str,
                     captcha: Optional[str] = None) -> Dict[str, str]:
    """The body of the credential post: every input of the page plus the credentials."""
    data = dict(form)
    data["identity"] = email
    data["credential"] = password
    if captcha is not None:
        data["captcha"] = captcha
    return data


def check_captcha_answer(answer: Optional[str]) -> str:
    """The captcha answer to send.

    Raises:
        ValueError: the answer is empty (``'Missing captcha response'``).
    """
    answer = (answer or "").strip()
    if not answer:
        raise ValueError("Missing captcha response")
    return answer


def rejection(html: str) -> ValueError:
    """The error for a sign-in page that came back instead of a redirect.

    ``ValueError('Credentials rejected. <server messages>')``, or
    :class:`~teslapy.errors.RecaptchaRequiredError` when the page asks for a reCAPTCHA
    (only a browser can pass it).
    """
    messages = [message.strip() for message in parse_messages(html)]
    if any(RECAPTCHA_MESSAGE in message.lower() for message in messages):
        return RecaptchaRequiredError()
    parts = ["Credentials rejected"] if has_inputs(html) else []
    parts += messages
    return ValueError(". ".join(part for part in parts if part) or "Credentials rejected")


# -- MFA ----------------------------------------------------------------------------


def factors_from_reply(body: Any) -> List[Dict[str, Any]]:
    """The list of MFA factors from the ``mfa/factors`` reply.

    Raises:
        ValueError: the reply holds no factor (``'No registered factors'``) or is not
            the expected ``{"data": [...]}`` shape.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise ValueError("The MFA factors reply is not understood (no data list)")
    factors = [factor for factor in data if isinstance(factor, dict)]
    if not factors:
        raise ValueError("No registered factors")
    return factors


def choose_factor(factors: List[Dict[str, Any]], selection: Union[Dict[str, Any], str, None]) -> Optional[Dict[str, Any]]:
    """The factor to use, from the selector's answer (a factor dict or a factor name).

    Returns None when the answer is empty (the user cancelled).

    Raises:
        ValueError: the name matches no factor (``'No such factor name X'``).
        NotImplementedError: the factor is not a TOTP (``token:software``) factor.
    """
    if not selection:
        return None
    if isinstance(selection, dict):
        factor = selection
    else:
        name = str(selection)
        found = next((f for f in factors if f.get("name") == name), None)
        if found is None:
            raise ValueError(f"No such factor name {name}")
        factor = found
    check_factor(factor)
    return factor


def check_factor(factor: Dict[str, Any]) -> Dict[str, Any]:
    """The factor if teslapy can use it.

    Raises:
        NotImplementedError: the factor type is not ``token:software``.
        ValueError: the factor has no id.
    """
    factor_type = factor.get("factorType")
    if factor_type != TOTP_FACTOR_TYPE:
        raise NotImplementedError(f"{factor_type} factor is not implemented")
    if not factor.get("id"):
        raise ValueError("The selected MFA factor has no id")
    return factor


def verify_body(transaction: str, factor: Dict[str, Any], passcode: str) -> Dict[str, str]:
    """The JSON body of the passcode verification."""
    return {"transaction_id": transaction, "factor_id": factor["id"], "passcode": passcode}


def check_verify_reply(body: Any) -> None:
    """Accept the ``mfa/verify`` reply or raise what the server said.

    Raises:
        ValueError: the server's error message, or ``'Invalid passcode'`` when the
            passcode was not valid.
    """
    if not isinstance(body, dict):
        raise ValueError("The passcode verification reply is not understood")
    error = body.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        raise ValueError(str(message or "Passcode verification failed"))
    data = body.get("data")
    if not isinstance(data, dict) or not data.get("valid"):
        raise ValueError("Invalid passcode")


def continue_form(transaction: str) -> Dict[str, str]:
    """The form that finishes the sign-in after a verified passcode."""
    return {"transaction_id": transaction}


def cancel_form(transaction: str) -> Dict[str, str]:
    """The form that cancels the sign-in (empty factor or passcode)."""
    return {"transaction_id": transaction, "cancel": "1"}


# -- the Owner API token -----------------------------------------------------------------


def owner_exchange_body() -> Dict[str, str]:
    """The form body of the RFC 7523 exchange of an SSO token for an Owner API token."""
    return {"grant_type": JWT_BEARER_GRANT, "client_id": OWNER_API_CLIENT_ID}
