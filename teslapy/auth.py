"""Tesla's SSO, step by step: small functions over replies that give the next request.

The sign-in conversation (authorize page, credentials, captcha, MFA, cancel) and the
Owner API token exchange are described here as data; :class:`teslapy.session.Tesla`
does all I/O, and requests-oauthlib checks the callback's ``state`` and turns the code
into a token. Each function takes what the previous reply said and returns what to send
next, or raises the error a user should see.

Every Tesla-specific constant lives here once: hosts, client ids, paths, scope and the
redirect URI.
"""
from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

DEFAULT_SSO_BASE_URL = "https://auth.tesla.com/"
SSO_CLIENT_ID = "ownerapi"
#: The registered redirect URI; the same literal is sent to every regional SSO host.
REDIRECT_URI = "https://auth.tesla.com/void/callback"
SCOPE = ["openid", "email", "offline_access"]
AUTHORIZE_PATH = "oauth2/v3/authorize"
TOKEN_PATH = "oauth2/v3/token"
CAPTCHA_PATH = "captcha"
MFA_FACTORS_PATH = "oauth2/v3/authorize/mfa/factors"
MFA_VERIFY_PATH = "oauth2/v3/authorize/mfa/verify"
#: PKCE (RFC 7636) method; requests-oauthlib makes the verifier and sends the challenge.
PKCE_METHOD = "S256"
TOTP_FACTOR_TYPE = "token:software"

#: The Owner API side of the login: RFC 7523 exchange of the SSO token.
OWNER_TOKEN_PATH = "oauth/token"
OWNER_API_CLIENT_ID = "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

_MESSAGES_RE = re.compile(r"var\s+messages\s*=\s*(\{.*?\})\s*;\s*$", re.MULTILINE)

# -- logging --------------------------------------------------------------------

#: Loggers of the OAuth libraries that write request bodies and token replies at DEBUG.
OAUTH_LIBRARY_LOGGERS = ("requests_oauthlib", "requests_oauthlib.oauth2_session", "oauthlib")


class _NoOAuthDebug(logging.Filter):
    """Drops the OAuth libraries' DEBUG records (they carry passwords, codes and tokens)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_OAUTH_FILTER = _NoOAuthDebug()


def silence_oauth_debug_logs() -> None:
    """Keep secrets out of logs, however the application configures logging.

    requests-oauthlib logs request bodies and token replies at DEBUG. A filter on its
    loggers drops those records even when a user sets every logger to DEBUG; other
    levels pass. Safe to call more than once.
    """
    names = set(OAUTH_LIBRARY_LOGGERS)
    names.update(name for name in list(logging.root.manager.loggerDict)
                 if name.split(".")[0] in ("requests_oauthlib", "oauthlib"))
    for name in sorted(names):
        target = logging.getLogger(name)
        if _OAUTH_FILTER not in target.filters:
            target.addFilter(_OAUTH_FILTER)


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


# -- the sign-in page -----------------------------------------------------------


class _FormParser(HTMLParser):
    """Collects every ``<input>`` outside scripts: name -> value (missing value = "")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inputs: Dict[str, str] = {}
        self.input_count = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag.lower() != "input":
            return
        self.input_count += 1
        fields = dict(attrs)
        name = fields.get("name")
        if name:
            self.inputs[name] = fields.get("value") or ""

    handle_startendtag = handle_starttag


def parse_form(html: str) -> Dict[str, str]:
    """Every named ``<input>`` of the page with its value, in page order.

    Inputs inside ``<script>`` templates are not part of the page and are ignored, as
    a browser would.
    """
    parser = _FormParser()
    parser.feed(html or "")
    parser.close()
    return parser.inputs


def has_inputs(html: str) -> bool:
    """Whether the page has any ``<input>`` outside scripts (a sign-in form)."""
    parser = _FormParser()
    parser.feed(html or "")
    parser.close()
    return parser.input_count > 0


def parse_messages(html: str) -> List[str]:
    """The server's messages from the page's ``var messages = {...};`` line.

    Values may be strings or lists of strings; lists are flattened, empty values
    skipped. A page without the line, or with one that is not JSON, has no messages.
    """
    match = _MESSAGES_RE.search(html or "")
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

    ``ValueError('Credentials rejected. <server messages>')``.
    """
    parts = ["Credentials rejected"] if has_inputs(html) else []
    parts += [message.strip() for message in parse_messages(html)]
    return ValueError(". ".join(part for part in parts if part) or "Credentials rejected")


# -- MFA ----------------------------------------------------------------------------


def factors_from_reply(body: Any) -> List[dict]:
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


def choose_factor(factors: List[dict], selection: Union[dict, str, None]) -> Optional[dict]:
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
        factor = next((f for f in factors if f.get("name") == name), None)
        if factor is None:
            raise ValueError(f"No such factor name {name}")
    check_factor(factor)
    return factor


def check_factor(factor: dict) -> dict:
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


def verify_body(transaction: str, factor: dict, passcode: str) -> Dict[str, str]:
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
