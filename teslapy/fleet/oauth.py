"""Third-party OAuth for the Fleet API: the app's credentials and the forms it sends.

A Fleet API app is registered at developer.tesla.com with a ``client_id``, a
``client_secret`` (open-source apps use PKCE without one), its redirect URIs and the
scopes it may ask for. The person signs in at Tesla's SSO (the authorize page, as for
the Owner API); the code, refresh and partner grants go to the Fleet token host with
``audience`` naming the Fleet API region the tokens are for. Pure functions: the
session does the I/O.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, NamedTuple, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from teslapy import auth

#: What a session asks for unless told otherwise: every user scope a car and energy
#: app uses, with a refresh token (``offline_access``).
DEFAULT_SCOPES = ("openid", "offline_access", "user_data", "vehicle_device_data",
                  "vehicle_location", "vehicle_cmds", "vehicle_charging_cmds",
                  "energy_device_data", "energy_cmds")
#: Scopes that belong to a person, not to the app: never asked for a partner token.
USER_ONLY_SCOPES = frozenset({"offline_access"})
_SCOPE = re.compile(r"[a-z][a-z0-9_.:-]*\Z")


def check_scopes(scopes: Iterable[str]) -> Tuple[str, ...]:
    """The scopes as a tuple without repeats, in the order given.

    A single string is split at spaces (``"openid vehicle_cmds"``).

    Raises:
        ValueError: none is given, or one is not a scope name (lower-case letters,
            digits and ``_.:-``, starting with a letter).
    """
    names = scopes.split() if isinstance(scopes, str) else list(scopes)
    for name in names:
        if not isinstance(name, str) or not _SCOPE.match(name):
            raise ValueError(f"not a scope name: {name!r}")
    if not names:
        raise ValueError("give at least one scope, e.g. openid")
    return tuple(dict.fromkeys(names))


def check_redirect_uri(uri: str) -> str:
    """``uri`` if it can be a registered redirect URI (absolute, with a scheme and no fragment).

    Raises:
        ValueError: it cannot.
    """
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or not parts.scheme or not (parts.netloc or parts.path) or parts.fragment \
            or any(char.isspace() for char in uri):
        raise ValueError(f"the redirect URI must be the absolute URI registered for the app, "
                         f"not {uri!r}")
    return uri


class FleetApp(NamedTuple):
    """A Fleet API app's credentials as registered at Tesla.

    ``client_secret`` is None for an open-source app (PKCE only); ``redirect_uri`` is
    needed only to sign in in a browser. The secret never shows in the repr.
    """

    client_id: str
    client_secret: Optional[str] = None
    redirect_uri: Optional[str] = None
    scopes: Tuple[str, ...] = DEFAULT_SCOPES

    def __repr__(self) -> str:
        secret = "'***'" if self.client_secret else "None"
        return (f"FleetApp(client_id={self.client_id!r}, client_secret={secret}, "
                f"redirect_uri={self.redirect_uri!r}, scopes={self.scopes!r})")


def new_app(client_id: str, client_secret: Optional[str] = None,
            redirect_uri: Optional[str] = None,
            scopes: Iterable[str] = DEFAULT_SCOPES) -> FleetApp:
    """A :class:`FleetApp` from its settings, checked.

    Raises:
        ValueError: the client id is empty, the secret is empty, the redirect URI is
            not absolute, or a scope is malformed.
    """
    if not isinstance(client_id, str) or not client_id.strip():
        raise ValueError("the Fleet API app's client_id is required")
    if client_secret is not None and (not isinstance(client_secret, str)
                                      or not client_secret.strip()):
        raise ValueError("the client_secret is empty; leave it out for an open-source "
                         "(PKCE) app")
    return FleetApp(client_id.strip(), client_secret,
                    None if redirect_uri is None else check_redirect_uri(redirect_uri),
                    check_scopes(scopes))


def audience(base_url: str) -> str:
    """The ``audience`` that names a Fleet API region (its base URL without the slash)."""
    return base_url.rstrip("/")


def authorize_url(sso_base: str, app: FleetApp, pkce: auth.Pkce, state: str,
                  email: Optional[str] = None) -> str:
    """The SSO page where a person signs in and allows the app its scopes.

    Raises:
        ValueError: the app has no redirect URI (one is needed to sign in in a browser).
    """
    params = {"response_type": "code", "client_id": app.client_id,
              "redirect_uri": _redirect_uri(app), "scope": " ".join(app.scopes),
              "state": state, "code_challenge": pkce.challenge,
              "code_challenge_method": auth.PKCE_METHOD}
    if email:
        params["login_hint"] = email
    return auth.join(sso_base, auth.AUTHORIZE_PATH) + "?" + urlencode(params)


def _redirect_uri(app: FleetApp) -> str:
    if not app.redirect_uri:
        raise ValueError("signing in in a browser needs the app's redirect_uri, exactly as "
                         "registered at developer.tesla.com")
    return app.redirect_uri


def _with_secret(app: FleetApp, form: Dict[str, str]) -> Dict[str, str]:
    if app.client_secret:
        form["client_secret"] = app.client_secret
    return form


def code_grant_form(app: FleetApp, code: str, pkce: auth.Pkce, base_url: str) -> Dict[str, str]:
    """The form that turns an authorization code into tokens for the region at ``base_url``."""
    return _with_secret(app, {
        "grant_type": "authorization_code", "client_id": app.client_id, "code": code,
        "code_verifier": pkce.verifier, "redirect_uri": _redirect_uri(app),
        "audience": audience(base_url)})


def refresh_grant_form(app: FleetApp, refresh_token: str) -> Dict[str, str]:
    """The form that trades a (single-use) refresh token for new tokens."""
    return {"grant_type": "refresh_token", "client_id": app.client_id,
            "refresh_token": refresh_token}


def partner_grant_form(app: FleetApp, base_url: str) -> Dict[str, str]:
    """The ``client_credentials`` form of a partner token for the region at ``base_url``.

    Raises:
        ValueError: the app has no client secret (open-source apps get no partner token).
    """
    if not app.client_secret:
        raise ValueError("a partner token needs the app's client_secret; an open-source "
                         "(PKCE) app cannot get one")
    scopes = [scope for scope in app.scopes if scope not in USER_ONLY_SCOPES]
    return _with_secret(app, {"grant_type": "client_credentials", "client_id": app.client_id,
                              "audience": audience(base_url), "scope": " ".join(scopes)})
