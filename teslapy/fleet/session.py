"""``TeslaFleet``: the ``Tesla`` session over the Fleet API, with an app's own sign-in.

The Fleet API is Tesla's API for third-party apps. It serves the same paths as the
Owner API (``api/1/...``) from one host per region, with tokens an app gets through
third-party OAuth, and it carries signed commands to cars that need the Vehicle
Command Protocol. :class:`TeslaFleet` is a :class:`~teslapy.session.Tesla`: the token
cache, the single-flight renewal, errors and products (``Vehicle``, ``Battery``,
``SolarPanel``) work the same; only the hosts, the token endpoint, the redirect URI
and the grant forms differ, plus regions, partner registration and command signing.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Dict, Iterable, Mapping, Optional, Union

from teslapy import auth, cache, transport
from teslapy._types import JsonDict, Token
from teslapy.errors import ResponseError, WrongRegionError
from teslapy.fleet import oauth, regions
from teslapy.session import Tesla, region_url
from teslapy.vehicle import Vehicle, api_response

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric import ec

    from teslapy.fleet.signing import CommandSigner

logger = logging.getLogger(__name__)

USER_REGION_PATH = "api/1/users/region"
PARTNER_ACCOUNTS_PATH = "api/1/partner_accounts"
PARTNER_PUBLIC_KEY_PATH = "api/1/partner_accounts/public_key"
#: A partner token this close to its expiry is minted again (seconds).
PARTNER_TOKEN_MARGIN = 60


class TeslaFleet(Tesla):
    """A session with the Fleet API for one account, signed in through a Fleet API app.

    Parameters:
        email: the account (the cache keeps its tokens per email and app).
        client_id: the app's client id (developer.tesla.com).
        client_secret: (optional) the app's secret; without one the sign-in uses PKCE
            alone (an open-source app), which cannot get partner tokens.
        redirect_uri: (optional) the app's redirect URI exactly as registered; needed
            to sign in in a browser.
        scopes: (optional) the scopes to ask for (names, or one string separated by
            spaces); :data:`~teslapy.fleet.oauth.DEFAULT_SCOPES` by default.
        region: (optional) ``na``, ``eu`` or ``cn``. By default the account's region is
            asked (``api/1/users/region``) at first use and kept in the cache; a 421
            answer moves the session to the region it names, once per request.
        command_key: (optional) a P-256 private key, or the path of its PEM file:
            commands to cars that need the Vehicle Command Protocol are then signed.
        domain: (optional) the app's domain (registration, pairing link).
        fleet_base_urls: (optional) ``{region: base URL}`` to use instead of Tesla's (or
            of ``TESLAPY_FLEET_<REGION>_BASE_URL``).
        fleet_auth_base_url: (optional) the token host (``TESLAPY_FLEET_AUTH_BASE_URL``,
            else Tesla's ``fleet-auth`` host).
        pairing_url: (optional) where pairing links point (``TESLAPY_FLEET_PAIRING_URL``,
            else ``https://tesla.com/_ak/``).
        options: the other keyword arguments of :class:`~teslapy.session.Tesla`
            (``cache_file``, ``verify``, ``authenticator``, ``token_updater``, ...); there
            is no password sign-in.

    Raises:
        ValueError: an empty client id or secret, a malformed redirect URI, scope,
            domain or region.
        teslapy.vcp.CommandKeyError: the command key file cannot be read.
    """

    def __init__(self, email: str, client_id: str, client_secret: Optional[str] = None,
                 redirect_uri: Optional[str] = None,
                 scopes: Iterable[str] = oauth.DEFAULT_SCOPES, region: Optional[str] = None,
                 command_key: Union[str, "ec.EllipticCurvePrivateKey", None] = None,
                 domain: Optional[str] = None, *,
                 fleet_base_urls: Optional[Mapping[str, str]] = None,
                 fleet_auth_base_url: Optional[str] = None, pairing_url: Optional[str] = None,
                 **options: Any) -> None:
        app = oauth.new_app(client_id, client_secret, redirect_uri, scopes)
        bases = regions.base_urls(fleet_base_urls)
        start = regions.check_region(region) if region is not None else "na"
        if start == "cn" and not options.get("sso_base_url"):
            options["sso_base_url"] = region_url("cn", "sso")
        super().__init__(email, None, api_base_url=bases[start], **options)
        self.app = app
        self.fleet_base_urls = bases
        self.token_base_url = regions.setting(fleet_auth_base_url, regions.AUTH_BASE_URL_ENV,
                                              regions.AUTH_BASE_URL)
        self.pairing_url = regions.setting(pairing_url, regions.PAIRING_URL_ENV,
                                           regions.PAIRING_URL)
        self.domain = _checked_domain(domain) if domain is not None else None
        self.command_key = _load_key(command_key) if command_key is not None else None
        self._region_known = region is not None
        self._partner_tokens: Dict[str, Token] = {}
        self._signer: Optional["CommandSigner"] = None

    def __repr__(self) -> str:
        return f"<TeslaFleet {self.email} app {self.app.client_id} region {self.region}>"

    @property
    def region(self) -> Optional[str]:
        """The region the session talks to (``na``, ``eu``, ``cn``), or None for another host."""
        return regions.region_of(self.api_base_url, self.fleet_base_urls)

    # -- what a Fleet API app sends (the hooks of Tesla) ------------------------------------

    @property
    def _cache_key(self) -> str:
        return f"{self.email} fleet:{self.app.client_id}"

    def _authorize_url(self, sso_base: str, pkce: auth.Pkce, state: str) -> str:
        return oauth.authorize_url(sso_base, self.app, pkce, state, self.email)

    def _token_url(self, sso_base: str) -> str:
        return auth.join(self.token_base_url, auth.TOKEN_PATH)

    def _code_grant_form(self, code: str, pkce: auth.Pkce) -> Dict[str, str]:
        return oauth.code_grant_form(self.app, code, pkce, self.api_base_url)

    def _refresh_grant_form(self, refresh_token: str) -> Dict[str, str]:
        return oauth.refresh_grant_form(self.app, refresh_token)

    def _cache_entry(self) -> Dict[str, Any]:
        entry = super()._cache_entry()
        if self._region_known and self.region is not None:
            entry["region"] = self.region
        return entry

    def _read_entry(self) -> Dict[str, Any]:
        """The cached entry; a region learned earlier (by discovery or a 421) is taken over.

        Tokens from the Fleet token host work in every region, so an entry recorded for
        any of this session's regions counts; one recorded for another host holds tokens
        of another cloud and counts as no entry.
        """
        current = self.cache_loader()
        entry = current.get(self._cache_key) if isinstance(current, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("api_url"), str) \
                or regions.region_of(entry["api_url"], self.fleet_base_urls) is None:
            return cache.read_entry(current, self._cache_key, self.api_base_url)
        recorded, region = entry["api_url"], entry.get("region")
        if region in self.fleet_base_urls and self.fleet_base_urls[region] == recorded:
            self.api_base_url = recorded
            self._region_known = True
        return cache.read_entry(current, self._cache_key, recorded)

    # -- regions ----------------------------------------------------------------------------

    def discover_region(self) -> str:
        """Ask Tesla which region serves the account and use it; returns its name.

        ``GET api/1/users/region`` answers from every region. The session then talks to
        the base URL it names, and the cache remembers it.

        Raises:
            ResponseError: the answer names no base URL this session may use.
            requests.HTTPError: the Fleet API refused (401, 403 missing scopes, ...).
        """
        if not self.authorized:
            self.fetch_token()
        reply = Tesla.request(self, "GET", USER_REGION_PATH)
        answer = api_response(reply, "users/region")
        url = answer.get("fleet_api_base_url")
        base = regions.trusted_base(url, self.fleet_base_urls) if isinstance(url, str) else None
        if base is None:
            raise ResponseError(f"users/region named no Fleet API host teslapy may use: "
                                f"{str(answer)[:200]!r}")
        self._move_to(base)
        logger.info("%s is served by the Fleet API region %s", self.email, self.region or base)
        return self.region or str(answer.get("region") or base)

    def _move_to(self, base: str) -> None:
        """Talk to ``base`` from now on, and keep it in the cache with the newest tokens."""
        with self._cache_lock():
            self._ensure_loaded()
            holds_tokens = self.authorized
            if holds_tokens:
                self._adopt_cached_tokens()      # never write back tokens spent elsewhere
            self.api_base_url = regions.with_slash(base)
            self._region_known = True
            if holds_tokens:
                self._save_cache()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
        """Send a request as :meth:`Tesla.request` does, in the account's region.

        The region is discovered first when it is not known yet. A 421 answer naming a
        trusted host (a configured region's, or Tesla's) moves the session there and
        sends the request again, once.

        Raises: as :meth:`Tesla.request`; :class:`~teslapy.errors.WrongRegionError`
        when the 421 names a host teslapy does not trust, or comes again.
        """
        self._ensure_loaded()                   # the cache may know the region
        target = self._absolute(url)
        to_api = not kwargs.get("withhold_token") and self._is_api_url(target)
        if to_api and not self._region_known and not url.endswith(USER_REGION_PATH):
            self.discover_region()
            target = self._rebased(target)
        try:
            return super().request(method, target, **kwargs)
        except WrongRegionError as refusal:
            reason = refusal.response.reason if refusal.response is not None else ""
            base = regions.base_from_refusal(reason or "", self.fleet_base_urls)
            if not to_api or base is None:
                raise
            logger.info("The Fleet API sent %s to %s", self.email, base)
            old_base = self.api_base_url
            self._move_to(base)
        return super().request(method, self._rebased(target, old_base), **kwargs)

    def _rebased(self, url: str, old_base: Optional[str] = None) -> str:
        """``url`` moved from ``old_base`` (any configured region) to the current base."""
        bases = [old_base] if old_base else list(self.fleet_base_urls.values())
        for base in bases:
            if url.startswith(base):
                return self.api_base_url + url[len(base):]
        return url

    # -- partner tokens and registration ------------------------------------------------

    def _base(self, region: Optional[str]) -> str:
        return self.api_base_url if region is None \
            else self.fleet_base_urls[regions.check_region(region)]

    def partner_token(self, region: Optional[str] = None) -> Token:
        """A partner token (``client_credentials``) for ``region`` (default: the session's).

        Kept in memory (never cached) and minted again shortly before it expires.

        Raises:
            ValueError: the app has no client secret, or an unknown region.
            oauthlib.oauth2.rfc6749.errors.OAuth2Error: the token host refused.
            Http2UnavailableError: no HTTP/2 with TLS 1.3 to the token host.
        """
        base = self._base(region)
        with self._auth_lock:
            token = self._partner_tokens.get(base)
            if token is not None and float(token.get("expires_at") or 0) \
                    > time.time() + PARTNER_TOKEN_MARGIN:
                return token
            token = self._mint(self.sso_base_url, oauth.partner_grant_form(self.app, base))
            self._partner_tokens[base] = token
            return token

    def _partner_call(self, method: str, region: Optional[str], path: str,
                      **kwargs: Any) -> JsonDict:
        url = auth.join(self._base(region), path)
        transport.require_secure(url)
        headers = {"Authorization": f"Bearer {self.partner_token(region)['access_token']}"}
        reply: JsonDict = Tesla.request(self, method, url, withhold_token=True, headers=headers,
                                        **kwargs)
        return reply

    def register_partner(self, domain: Optional[str] = None, region: Optional[str] = None,
                         public_key: Optional[str] = None) -> JsonDict:
        """Register the app's domain in ``region`` (default: the session's); returns Tesla's answer.

        Needed once per region before any call there (else 412). Tesla downloads the
        public key from the domain's ``.well-known`` path (see
        :func:`teslapy.vcp.public_key_url`), so serve it first.

        Parameters:
            domain: (optional) the domain of the app's allowed origin; the session's
                ``domain`` by default.
            public_key: (optional) the public key PEM, for a server that cannot download
                it (the simulator); leave it out for Tesla.

        Raises:
            ValueError: no domain, a malformed one, or no client secret.
            requests.HTTPError: Tesla refused (424 when it could not get the key).
        """
        body = {"domain": self._domain(domain)}
        if public_key is not None:
            body["public_key"] = public_key
        return self._partner_call("POST", region, PARTNER_ACCOUNTS_PATH, json=body)

    def partner_public_key(self, domain: Optional[str] = None,
                           region: Optional[str] = None) -> str:
        """The public key (hex, uncompressed point) Tesla holds for the domain in ``region``.

        Raises:
            requests.HTTPError: the domain is not registered there (404), or another refusal.
            ResponseError: the answer holds no key.
        """
        reply = self._partner_call("GET", region, PARTNER_PUBLIC_KEY_PATH,
                                   params={"domain": self._domain(domain)})
        key = api_response(reply, "partner_accounts/public_key").get("public_key")
        if not isinstance(key, str) or not key:
            raise ResponseError("partner_accounts/public_key gave no public key")
        return key

    def _domain(self, domain: Optional[str]) -> str:
        if domain is not None:
            return _checked_domain(domain)
        if self.domain is None:
            raise ValueError("no domain: give the app's domain (TeslaFleet(domain=...))")
        return self.domain

    def pairing_link(self, domain: Optional[str] = None) -> str:
        """The link a car's owner opens in the Tesla app to approve the app's command key.

        Raises:
            ValueError: no domain, or a malformed one.
        """
        return self.pairing_url + self._domain(domain)

    # -- commands -------------------------------------------------------------------------

    def vehicle_command(self, vehicle: Vehicle, name: str, **kwargs: Any) -> Any:
        """Send command ``name`` to ``vehicle``: signed where the car needs it, else REST.

        With a command key, the commands :data:`teslapy.vcp.SIGNED_COMMANDS` lists go
        to the car as ``signed_command`` messages; a car that does not take them (422)
        gets REST commands from then on. Without a key every command is REST, which
        cars built since 2021 refuse (:class:`~teslapy.errors.CommandProtocolRequiredError`).

        Raises:
            teslapy.vcp.KeyNotPairedError: the car does not know the key (the message
                holds the pairing link).
            teslapy.vcp.SignedCommandError: another reason the car did not run it.
            ValueError: a parameter the command needs is missing or malformed.
            requests.HTTPError: as for every request (408 asleep, ...).
        """
        signer = self._command_signer()
        if signer is not None:
            reply = signer.send(vehicle, name, kwargs)
            if reply is not None:
                return reply
        return super().vehicle_command(vehicle, name, **kwargs)

    def _command_signer(self) -> Optional["CommandSigner"]:
        if self.command_key is None:
            return None
        with self._auth_lock:
            if self._signer is None:
                from teslapy.fleet.signing import CommandSigner

                self._signer = CommandSigner(self, self.command_key)
            return self._signer


def _checked_domain(domain: str) -> str:
    from teslapy.vcp.keys import check_domain

    return check_domain(domain)


def _load_key(key: Union[str, "ec.EllipticCurvePrivateKey"]) -> "ec.EllipticCurvePrivateKey":
    from cryptography.hazmat.primitives.asymmetric import ec

    from teslapy.vcp.errors import CommandKeyError
    from teslapy.vcp.keys import load_key_file

    if isinstance(key, str):
        return load_key_file(key)
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return key
    raise CommandKeyError("command_key must be a P-256 private key or the path of its PEM file")

