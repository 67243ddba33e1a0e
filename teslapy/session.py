"""The ``Tesla`` session: tokens, the cache, refresh, and calls to the Owner API.

:class:`Tesla` is a :class:`requests.Session`. Relative URLs go to the Owner API base,
which also gets the bearer token; :meth:`Tesla.api` calls an endpoint by name. Signing
in is :mod:`teslapy.login` (the password conversation) and the browser's callback
(:meth:`Tesla.authorization_url`, :meth:`Tesla.fetch_token`); tokens are minted only
through :class:`teslapy.transport.TokenClient` (HTTP/2 with TLS 1.3).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from typing import Any, ContextManager, Dict, Iterator, List, NamedTuple, Optional, Union
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from teslapy import __version__, auth, cache, endpoints, errors, limits, prompts, transport
from teslapy._types import (
    Authenticator, CacheDumper, CacheLoader, CacheLock, CaptchaSolver, FactorSelector,
    PasscodeGetter, Token, TokenUpdater, is_bearer_token,
)
from teslapy.energy import Battery, SolarPanel
from teslapy.errors import FleetApiRequiredError, ResponseError, TokenRejectedError
from teslapy.vehicle import Vehicle

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://owner-api.teslamotors.com/"
DEFAULT_STREAMING_BASE_URL = "wss://streaming.vn.teslamotors.com/streaming/"
DEFAULT_COMPOSITOR_URL = "https://static-assets.tesla.com/v1/compositor/"
DEFAULT_SSO_BASE_URL = auth.DEFAULT_SSO_BASE_URL
CHINA_API_BASE_URL = "https://owner-api.vn.cloud.tesla.cn/"
CHINA_STREAMING_BASE_URL = "wss://streaming.vn.cloud.tesla.cn/streaming/"
DEFAULT_USER_AGENT = f"teslapy/{__version__}"
DEFAULT_TIMEOUT = 10
#: An Owner API token this close to its expiry is refreshed before use (seconds)...
EXPIRY_MARGIN = 60
#: ... or this share of its lifetime, when that is less (tokens living a few minutes).
EXPIRY_MARGIN_SHARE = 0.1

SSO_BASE_URL_ENV = "TESLAPY_SSO_BASE_URL"
API_BASE_URL_ENV = "TESLAPY_API_BASE_URL"
STREAMING_BASE_URL_ENV = "TESLAPY_STREAMING_BASE_URL"
COMPOSITOR_URL_ENV = "TESLAPY_COMPOSITOR_URL"

#: Each region's hosts: (environment variable, Tesla's host) for the SSO, the Owner API
#: and streaming. An account whose SSO is the China host uses the China hosts.
REGION_HOSTS = {
    "global": {"sso": (SSO_BASE_URL_ENV, DEFAULT_SSO_BASE_URL),
               "api": (API_BASE_URL_ENV, DEFAULT_API_BASE_URL),
               "streaming": (STREAMING_BASE_URL_ENV, DEFAULT_STREAMING_BASE_URL)},
    "cn": {"sso": ("TESLAPY_SSO_CN_BASE_URL", auth.CHINA_SSO_BASE_URL),
           "api": ("TESLAPY_API_CN_BASE_URL", CHINA_API_BASE_URL),
           "streaming": ("TESLAPY_STREAMING_CN_BASE_URL", CHINA_STREAMING_BASE_URL)},
}


#: The package's TeslaPy 1.5 names a script may set to change the default hosts.
PACKAGE_DEFAULTS = {SSO_BASE_URL_ENV: "SSO_BASE_URL", API_BASE_URL_ENV: "BASE_URL",
                    STREAMING_BASE_URL_ENV: "STREAMING_BASE_URL"}


def _setting(value: Optional[str], env_name: str, default: str) -> str:
    """A host setting: the argument, else the environment variable, else the package's
    name for it (``teslapy.BASE_URL``, which a script may have set), else Tesla's host."""
    if value or os.environ.get(env_name):
        return value or os.environ[env_name]
    package = sys.modules.get("teslapy")
    override = getattr(package, PACKAGE_DEFAULTS.get(env_name, ""), None) if package else None
    return override if isinstance(override, str) and override else default


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def region_url(region: str, kind: str) -> str:
    """The ``kind`` host (sso, api, streaming) of ``region``: the environment's, the
    package's 1.5 name for it (global only), or Tesla's."""
    env_name, default = REGION_HOSTS[region][kind]
    return _setting(None, env_name, default)


def region_of(sso_base: str) -> str:
    """``cn`` for the China SSO host (Tesla's or ``TESLAPY_SSO_CN_BASE_URL``), else ``global``."""
    host = (urlsplit(sso_base).hostname or "").lower()
    if host.endswith(".cn") or auth.same_base(sso_base, region_url("cn", "sso")):
        return "cn"
    return "global"


def _expiry(token: Token) -> Optional[float]:
    """When an Owner API token expires (epoch seconds): ``expires_at``, else
    ``created_at`` + ``expires_in``; None when unknown."""
    try:
        if token.get("expires_at") is not None:
            return float(token["expires_at"])
        return float(token["created_at"]) + float(token["expires_in"])
    except (KeyError, TypeError, ValueError):
        return None


def _expired(token: Token, now: Optional[float] = None) -> bool:
    """Whether ``token`` expires within its margin (False when its expiry is unknown).

    The margin is ``EXPIRY_MARGIN`` seconds, or ``EXPIRY_MARGIN_SHARE`` of the token's
    lifetime when that is less, so a short-lived token is still used for most of its life.
    """
    expiry = _expiry(token)
    if expiry is None:
        return False
    try:
        lifetime = max(float(token["expires_in"]), 0.0)
    except (KeyError, TypeError, ValueError):
        lifetime = float("inf")
    margin = min(EXPIRY_MARGIN, EXPIRY_MARGIN_SHARE * lifetime)
    return 0 < expiry <= (now if now is not None else time.time()) + margin


def _newer(token: Token, than: Token) -> bool:
    """Whether the SSO token ``token`` was minted after ``than`` (by ``expires_at``)."""
    def expiry(value: Token) -> float:
        try:
            return float(value.get("expires_at") or 0)
        except (TypeError, ValueError):
            return 0.0
    return expiry(token) > expiry(than)


def bearer_from_sso(sso_token: Token) -> Token:
    """The Owner API token when the SSO access token is the bearer (Tesla since 2022)."""
    token: Token = {key: sso_token[key] for key in ("access_token", "token_type", "expires_in",
                                                     "created_at") if key in sso_token}
    token.setdefault("token_type", "Bearer")
    return token


class _PendingSignIn(NamedTuple):
    pkce: auth.Pkce
    state: str
    sso_base: str


class Tesla(transport.Session):
    """A session with Tesla's cloud for one account (``email``).

    Parameters:
        email: SSO identity.
        password: (optional) SSO credential for the password sign-in (servers that
            still allow it); without one, signing in happens in a browser.
        passcode_getter: (optional) function returning the TOTP passcode.
        factor_selector: (optional) function taking the list of factor dicts and
            returning the chosen dict or factor name.
        captcha_solver: (optional) function taking the captcha SVG bytes and returning
            its characters.
        verify: (optional) verify TLS certificates (or a CA bundle path); True uses
            ``TESLAPY_CA_BUNDLE`` when it is set. Held for every request, whatever
            ``REQUESTS_CA_BUNDLE`` says.
        proxy: (optional) URL of a proxy server.
        retry: (optional) number of connection retries or a urllib3 ``Retry``.
        user_agent: (optional) the User-Agent string.
        cache_file: (optional) path of the cache file of the default loader/dumper.
        cache_loader: (optional) function returning the cache dict.
        cache_dumper: (optional) function taking the cache dict to store.
        sso_base_url, api_base_url, streaming_base_url, compositor_url: (optional)
            Tesla's hosts; default to ``TESLAPY_SSO_BASE_URL``, ``TESLAPY_API_BASE_URL``,
            ``TESLAPY_STREAMING_BASE_URL``, ``TESLAPY_COMPOSITOR_URL``, then the real
            hosts. An account of the China SSO uses the China Owner API and streaming
            hosts unless these are given.
        timeout: (optional) seconds to wait for each piece of a reply (connecting,
            each read).
        deadline: (optional) seconds a whole reply may take, however slowly it
            arrives (default 60; None: no limit); past it ``requests.ReadTimeout``.
        authenticator: (optional) function taking the authorize URL and returning the
            URL the browser ended on (``tesla://auth/callback?code=...``) or the bare
            code; the default opens the browser and reads the pasted URL from stdin.
        token_updater: (optional) function called with the SSO token dict (which holds
            the refresh token) whenever the tokens change.
        cache_lock: (optional) with ``cache_loader``/``cache_dumper``, a function
            returning a context manager that holds a lock shared by every process using
            that store (the default file store locks ``<cache_file>.lock`` itself).
            Renewals run under it, so one refresh serves them all.

    The callbacks and the cache functions are also attributes. ``token`` is the Owner
    API token dict, ``sso_token`` the SSO token dict.

    Raises:
        ValueError: ``email`` is empty or ``retry`` is not usable.
    """

    def __init__(
        self,
        email: str,
        password: Optional[str] = None,
        passcode_getter: Optional[PasscodeGetter] = None,
        factor_selector: Optional[FactorSelector] = None,
        captcha_solver: Optional[CaptchaSolver] = None,
        verify: Union[bool, str] = True,
        proxy: Optional[str] = None,
        retry: Union[int, Retry] = 0,
        user_agent: str = DEFAULT_USER_AGENT,
        cache_file: str = cache.DEFAULT_CACHE_FILE,
        cache_loader: Optional[CacheLoader] = None,
        cache_dumper: Optional[CacheDumper] = None,
        *,
        sso_base_url: Optional[str] = None,
        api_base_url: Optional[str] = None,
        streaming_base_url: Optional[str] = None,
        compositor_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        authenticator: Optional[Authenticator] = None,
        token_updater: Optional[TokenUpdater] = None,
        cache_lock: Optional[CacheLock] = None,
        deadline: Optional[float] = limits.DEFAULT_DEADLINE,
    ) -> None:
        super().__init__(retry=retry, verify=verify, proxy=proxy, user_agent=user_agent,
                         deadline=deadline)
        if not email:
            raise ValueError("An email is required to identify the Tesla account")
        self.email = email
        self.password = password
        self.passcode_getter = passcode_getter or prompts.ask_passcode
        self.factor_selector = factor_selector or prompts.ask_factor
        self.captcha_solver = captcha_solver or prompts.ask_captcha
        self.authenticator = authenticator or prompts.ask_for_callback
        self.token_updater = token_updater
        self.retry = retry
        self.user_agent = user_agent
        self.proxy = proxy
        self.timeout = timeout
        self.cache_file = cache_file
        self.cache_loader = cache_loader or self._load_cache_file
        self.cache_dumper = cache_dumper or self._dump_cache_file
        self.cache_lock = cache_lock
        self.sso_base_url = _with_slash(_setting(sso_base_url, SSO_BASE_URL_ENV, DEFAULT_SSO_BASE_URL))
        self.api_base_url = _with_slash(_setting(api_base_url, API_BASE_URL_ENV, DEFAULT_API_BASE_URL))
        self.streaming_base_url = _setting(
            streaming_base_url, STREAMING_BASE_URL_ENV, DEFAULT_STREAMING_BASE_URL)
        self.compositor_url = _setting(compositor_url, COMPOSITOR_URL_ENV, DEFAULT_COMPOSITOR_URL)
        self._fixed_hosts = {"api": api_base_url is not None,
                             "streaming": streaming_base_url is not None}
        self._token: Token = {}
        self._sso_token: Token = {}
        self._region_sso_base_url: Optional[str] = None
        self._pending: Optional[_PendingSignIn] = None
        self._authorized: Optional[bool] = None
        self._loaded = False
        self._auth_lock = threading.RLock()
        self._cache_lock_depth = 0
        self._token_client: Optional[transport.TokenClient] = None

    def close(self) -> None:
        """Close the session's connections (the API's and the SSO token endpoint's)."""
        super().close()
        client = getattr(self, "_token_client", None)
        if client is not None:
            client.close()

    # -- token state ----------------------------------------------------------------

    @property
    def token(self) -> Token:
        """The Owner API token (``access_token``, ``expires_in``, ``created_at``, ...)."""
        self._ensure_loaded()
        return self._token

    @token.setter
    def token(self, value: Token) -> None:
        self._ensure_loaded()
        self._token = dict(value or {})

    @property
    def sso_token(self) -> Token:
        """The SSO token (``access_token``, ``refresh_token``, ``expires_at``, ...)."""
        self._ensure_loaded()
        return self._sso_token

    @sso_token.setter
    def sso_token(self, value: Token) -> None:
        self._ensure_loaded()
        self._sso_token = dict(value or {})

    @property
    def active_sso_base_url(self) -> str:
        """The SSO base used for refresh: the account's regional host once known."""
        self._ensure_loaded()
        return self._region_sso_base_url or self.sso_base_url

    @property
    def authorized(self) -> bool:
        """Whether an Owner API token is held (it is refreshed on use when expired).

        May be set: False makes the next :meth:`fetch_token` sign in again even with a
        token held, as in TeslaPy 1.5.
        """
        if self._authorized is not None:
            return self._authorized
        return bool(self.token.get("access_token"))

    @authorized.setter
    def authorized(self, value: bool) -> None:
        self._authorized = bool(value)

    @property
    def expires_at(self) -> float:
        """When the Owner API token expires, in epoch seconds (0 when no token is held).

        May be set (to force an early refresh, for instance).
        """
        return _expiry(self.token) or 0.0

    @expires_at.setter
    def expires_at(self, value: float) -> None:
        self.token["expires_at"] = float(value)

    @property
    def endpoints(self) -> Dict[str, Dict[str, Any]]:
        """The endpoint table (``endpoints.json``): name -> ``{TYPE, URI, AUTH, ...}``."""
        return endpoints.endpoint_table()

    @property
    def sso_base(self) -> str:
        """The SSO base URL in use (the account's regional host once known)."""
        return self.active_sso_base_url

    @sso_base.setter
    def sso_base(self, value: str) -> None:
        self.sso_base_url = _with_slash(value)
        self._region_sso_base_url = None

    def token_expired(self) -> bool:
        """Whether the Owner API token is expired (or about to expire).

        False without a token or when its expiry is unknown; a token the API refuses is
        still refreshed then, on its 401.
        """
        return bool(self.token.get("access_token")) and _expired(self.token)

    def _uses_exchange(self) -> bool:
        """Whether the Owner API token came from the RFC 7523 exchange (not the SSO token)."""
        owner = self._token.get("access_token")
        return bool(owner) and owner != self._sso_token.get("access_token")

    # -- hosts ----------------------------------------------------------------------

    def _use_region_hosts(self, sso_base: str) -> None:
        """Point the Owner API and streaming hosts the caller did not set at ``sso_base``'s region."""
        region = region_of(sso_base)
        if not self._fixed_hosts["api"]:
            self.api_base_url = _with_slash(region_url(region, "api"))
        if not self._fixed_hosts["streaming"]:
            self.streaming_base_url = region_url(region, "streaming")

    def _known_sso_bases(self) -> List[str]:
        bases = [self.sso_base_url, region_url("global", "sso"), region_url("cn", "sso")]
        if self._region_sso_base_url:
            bases.append(self._region_sso_base_url)
        if self._pending is not None:
            bases.append(self._pending.sso_base)
        return bases

    def _known_base_of(self, issuer: Optional[str], default: str) -> str:
        """The SSO base an issuer names if it is a host teslapy knows, else ``default``."""
        try:
            return self._sso_base_of_issuer(issuer, default)
        except ValueError:
            return default

    def _sso_base_of_issuer(self, issuer: Optional[str], default: str) -> str:
        """The SSO base a callback's ``issuer`` names, if it is a host teslapy knows.

        Raises:
            ValueError: the issuer is another host (the code and verifier are never
                sent to a host the sign-in did not start at or Tesla's regions).
        """
        if not issuer:
            return default
        base = auth.sso_base_from_issuer(issuer)
        for known in [default, *self._known_sso_bases()]:
            if auth.same_base(base, known):
                return _with_slash(known)
        raise ValueError(f"The callback names the issuer {issuer}, which is not a Tesla SSO "
                         "host this session knows; the sign-in was not finished")

    # -- cache ----------------------------------------------------------------------

    def _load_cache_file(self) -> Dict[str, Any]:
        return cache.load_cache_file(self.cache_file)

    def _dump_cache_file(self, data: Dict[str, Any]) -> None:
        cache.dump_cache_file(self.cache_file, data)

    def _uses_cache_file(self) -> bool:
        return self.cache_loader == self._load_cache_file and self.cache_dumper == self._dump_cache_file

    @contextlib.contextmanager
    def _cache_lock(self) -> Iterator[None]:
        """Hold this session's lock and the cache file's lock (re-entrant within the session)."""
        with self._auth_lock:
            if self._cache_lock_depth:
                self._cache_lock_depth += 1
                try:
                    yield
                finally:
                    self._cache_lock_depth -= 1
                return
            if self._uses_cache_file():
                store_lock: ContextManager[None] = cache.locked(self.cache_file)
            elif self.cache_lock is not None:
                store_lock = self.cache_lock()
            else:
                store_lock = contextlib.nullcontext()
            with store_lock:
                self._cache_lock_depth = 1
                try:
                    yield
                finally:
                    self._cache_lock_depth = 0

    @property
    def _cache_key(self) -> str:
        """The key of this session's entry in the cache (the email for the Owner API)."""
        return self.email

    def _read_entry(self) -> Dict[str, Any]:
        """This account's cached entry, for the hosts its SSO region implies."""
        current = self.cache_loader()
        sso_url = cache.cached_sso_url(current, self._cache_key)
        if sso_url:
            self._use_region_hosts(sso_url)
        return cache.read_entry(current, self._cache_key, self.api_base_url)

    def _ensure_loaded(self) -> None:
        """Read this account's tokens from the cache on first use (so hooks set later count)."""
        if self._loaded:
            return
        with self._auth_lock:
            if self._loaded:
                return
            entry = self._read_entry()
            self._token = dict(entry["ownerapi"] or {})
            self._sso_token = dict(entry["sso"] or {})
            self._region_sso_base_url = entry["url"]
            self._loaded = True
        if self._token:
            logger.debug("Using the cached token of %s", self.email)

    def _cache_entry(self) -> Dict[str, Any]:
        """This account's entry as :meth:`_save_cache` stores it."""
        return {"url": self._region_sso_base_url or self.sso_base_url, "sso": self._sso_token,
                "ownerapi": self._token, "api_url": self.api_base_url}

    def _save_cache(self) -> None:
        """Store this account's entry; other accounts in the cache are kept as they are."""
        with self._cache_lock():
            current = self.cache_loader()
            if not isinstance(current, dict):
                current = {}
            current[self._cache_key] = self._cache_entry()
            self.cache_dumper(current)
            if self._uses_cache_file():
                cache.remove_leftovers(self.cache_file)

    def _store(self, sso_token: Token, owner_token: Token, sso_base: str) -> Token:
        """Hold and cache new tokens of the account at ``sso_base``; tell the token updater."""
        self._sso_token = dict(sso_token)
        self._token = dict(owner_token)
        self._authorized = None
        self._region_sso_base_url = _with_slash(sso_base)
        self._use_region_hosts(sso_base)
        self._save_cache()
        self._notify()
        return self._token

    def _notify(self) -> None:
        if self.token_updater is not None:
            self.token_updater(dict(self._sso_token))

    def _adopt_cached_tokens(self, refused: Optional[str] = None) -> bool:
        """Take the tokens another process renewed meanwhile; call under the cache lock.

        An SSO token minted later than the held one replaces it (the held refresh token
        may be spent). Returns True when the cache held another unexpired Owner API
        token (not ``refused``), which is then used.
        """
        entry = self._read_entry()
        owner, sso = entry["ownerapi"], entry["sso"]
        if sso and sso.get("refresh_token") and _newer(sso, self._sso_token):
            self._sso_token = dict(sso)
        if not owner or owner.get("access_token") in (self._token.get("access_token"), refused) \
                or _expired(owner):
            return False
        self._token = dict(owner)
        if sso:
            self._sso_token = dict(sso)
        logger.info("Using the token another process renewed for %s", self.email)
        return True

    def logout(self, sign_out: bool = False) -> str:
        """Forget this account's tokens, here and in the cache; returns Tesla's sign-out URL.

        Other accounts in the cache are kept. No token is revoked: opening the URL
        (``sign_out=True`` opens it in the system browser) ends the browser's session
        at Tesla's SSO.
        """
        with self._cache_lock():
            url = auth.logout_url(self.active_sso_base_url)
            current = self.cache_loader()
            if isinstance(current, dict) and self._cache_key in current:
                del current[self._cache_key]
                self.cache_dumper(current)
            self._token, self._sso_token = {}, {}
            self._region_sso_base_url = None
            self._pending = None
            self._authorized = None
        logger.info("Forgot the tokens of %s", self.email)
        if sign_out:
            import webbrowser

            webbrowser.open(url)
        return url

    # -- what this kind of client sends (TeslaFleet overrides these) ----------------------

    def _authorize_url(self, sso_base: str, pkce: auth.Pkce, state: str) -> str:
        """The URL that starts a browser sign-in at ``sso_base``."""
        return auth.authorize_url(sso_base, pkce, state, self.email)

    def _token_url(self, sso_base: str) -> str:
        """The token endpoint for an account whose SSO is ``sso_base``."""
        return auth.join(sso_base, auth.TOKEN_PATH)

    def _code_grant_form(self, code: str, pkce: auth.Pkce) -> Dict[str, str]:
        """The token endpoint form that turns an authorization code into tokens."""
        return auth.code_grant_form(code, pkce)

    def _refresh_grant_form(self, refresh_token: str) -> Dict[str, str]:
        """The token endpoint form that refreshes tokens with ``refresh_token``."""
        return auth.refresh_grant_form(refresh_token)

    # -- signing in -------------------------------------------------------------------

    def _mint(self, sso_base: str, form: Dict[str, str]) -> Token:
        """Tokens from the token endpoint of ``sso_base`` (the one place they are minted)."""
        with self._auth_lock:
            if self._token_client is None:
                self._token_client = transport.TokenClient(self._plain_session(),
                                                           timeout=self.timeout)
            client = self._token_client
        return auth.parse_token_reply(client.post_form(self._token_url(sso_base), form))

    def authorization_url(self) -> str:
        """Start a browser sign-in: the URL to open, where the person signs in.

        Finish it with :meth:`fetch_token` ``(authorization_response=...)`` and the URL
        the browser was sent to. Each call starts a new sign-in.
        """
        with self._auth_lock:
            self._pending = _PendingSignIn(auth.new_pkce(), auth.new_state(), self.sso_base_url)
            return self._authorize_url(self.sso_base_url, self._pending.pkce,
                                       self._pending.state)

    def fetch_token(self, authorization_response: Optional[str] = None) -> Token:
        """Sign in unless a token is held; returns the Owner API token.

        With ``authorization_response`` (the URL the browser was sent to, or the bare
        code) the sign-in started by :meth:`authorization_url` is finished. Otherwise a
        held or cached token is returned as it is; without one, a session with a
        password signs in with it, and one without signs in in a browser through
        ``authenticator``. Tokens are stored in the cache.

        Raises:
            ValueError: credentials rejected (with the server's messages), ``Missing
                captcha response``, unknown factor name, invalid passcode, a callback
                URL without a code, or no terminal for the default authenticator.
            RecaptchaRequiredError: the SSO wants a reCAPTCHA; sign in in a browser.
            NotImplementedError: the chosen MFA factor is not TOTP.
            oauthlib.oauth2.rfc6749.errors.OAuth2Error: the sign-in was refused or
                cancelled (``(login_cancelled) User cancelled login``), or the callback's
                state is not this sign-in's (``MismatchingStateError``).
            Http2UnavailableError: the token could not be minted over HTTP/2 + TLS 1.3.
            requests.HTTPError: a Tesla service answered with an error (nothing stored).
        """
        with self._auth_lock:
            if authorization_response is not None:
                return self._finish_sign_in(authorization_response)
            if self.authorized:
                return self.token
            if self.password:
                return self._sign_in_with_password()
            return self._finish_sign_in(self.authenticator(self.authorization_url()))

    def _finish_sign_in(self, authorization_response: str) -> Token:
        pending = self._pending
        if pending is None:
            raise ValueError("No browser sign-in was started: call authorization_url() first")
        callback = auth.parse_callback(authorization_response, pending.state)
        sso_base = self._sso_base_of_issuer(callback.issuer, pending.sso_base)
        self._pending = None            # the code is single use: never sent twice
        sso_token = self._mint(sso_base, self._code_grant_form(callback.code, pending.pkce))
        logger.info("Signed in %s in a browser", self.email)
        return self._store(sso_token, bearer_from_sso(sso_token), sso_base)

    def _plain_session(self) -> transport.Session:
        """A new requests session with this one's transport settings and its own cookies."""
        return transport.Session(retry=self.retry, verify=True if self.verify is None else self.verify,
                                 proxy=self.proxy, user_agent=self.user_agent,
                                 environment=self.environment, deadline=self.deadline)

    def _sign_in_with_password(self) -> Token:
        from teslapy import login     # the password conversation: loaded when first used

        assert self.password
        http = self._plain_session()
        try:
            result = login.PasswordSignIn(
                http, self.email, self.password, passcode_getter=self.passcode_getter,
                factor_selector=self.factor_selector, captcha_solver=self.captcha_solver,
                timeout=self.timeout).run(self.sso_base_url)
        finally:
            http.close()
        callback = auth.parse_callback(result.callback, result.state)
        sso_base = self._sso_base_of_issuer(callback.issuer, result.sso_base)
        logger.debug("Sign-in finished; exchanging the authorization code")
        sso_token = self._mint(sso_base, self._code_grant_form(callback.code, result.pkce))
        owner_token = self._owner_token(sso_token, try_exchange=True)
        logger.info("Logged in %s", self.email)
        return self._store(sso_token, owner_token, sso_base)

    def _owner_token(self, sso_token: Token, try_exchange: bool) -> Token:
        """The Owner API token for an SSO token: the exchange's where offered, else the SSO token."""
        if try_exchange:
            exchanged = self._exchange(sso_token)
            if exchanged is not None:
                return exchanged
            logger.info("The Owner API no longer exchanges tokens; the SSO token is the bearer")
        return bearer_from_sso(sso_token)

    def _exchange(self, sso_token: Token) -> Optional[Token]:
        """The Owner API token for an SSO token (RFC 7523 at ``oauth/token``), or None if retired.

        Raises:
            requests.HTTPError: the Owner API refused the exchange for another reason.
            ResponseError: the reply holds no access token.
        """
        access = sso_token.get("access_token")
        if not isinstance(access, str) or not access:
            raise ResponseError("The SSO token reply holds no usable access token")
        reply = super().request(
            "POST", self._absolute(auth.OWNER_TOKEN_PATH), data=auth.owner_exchange_body(),
            headers={"Authorization": f"Bearer {access}"}, timeout=self.timeout)
        body = auth.json_object(reply)
        if 400 <= reply.status_code < 500 and body is not None \
                and body.get("error") == auth.EXCHANGE_RETIRED_ERROR:
            return None
        errors.raise_for_status(reply)
        parsed = errors.json_body(reply, "Owner API token")
        if not isinstance(parsed, dict) or not is_bearer_token(parsed.get("access_token")):
            raise ResponseError("The Owner API token reply holds no access token", reply)
        token = dict(parsed)
        token.setdefault("created_at", int(time.time()))
        return token

    # -- refreshing -------------------------------------------------------------------

    def refresh_token(self, refresh_token: Optional[str] = None) -> Token:
        """Get new tokens with a refresh token; returns the Owner API token.

        Without an argument the held refresh token is used (a rotated one replaces it;
        a reply without one keeps it). With ``refresh_token`` (one from another app or a
        backup) tokens are minted for it with nothing cached, and stored at once.
        On failure the tokens held and cached stay as they were (except a newly rotated
        SSO token, which is kept so the next try can use it).

        Raises:
            ValueError: no refresh token is held (or the one given is empty).
            oauthlib.oauth2.rfc6749.errors.OAuth2Error: the SSO refused the refresh
                token (``InvalidGrantError``, ``LoginRequired``: sign in again).
            Http2UnavailableError: the token could not be minted over HTTP/2 + TLS 1.3.
            requests.HTTPError: a Tesla service answered with an error.
        """
        with self._auth_lock:
            if refresh_token is not None:
                return self._import_refresh_token(refresh_token)
            with self._cache_lock():
                self._ensure_loaded()
                self._adopt_cached_tokens()
                return self._refresh()

    def _import_refresh_token(self, refresh_token: str) -> Token:
        if not isinstance(refresh_token, str) or not refresh_token.strip():
            raise ValueError("The refresh token to import is empty")
        refresh_token = refresh_token.strip()
        self._ensure_loaded()
        sso_base = self._known_base_of(auth.token_issuer(refresh_token), self.active_sso_base_url)
        sso_token = self._mint(sso_base, self._refresh_grant_form(refresh_token))
        sso_token.setdefault("refresh_token", refresh_token)
        logger.info("Imported a refresh token for %s", self.email)
        return self._store(sso_token, bearer_from_sso(sso_token), sso_base)

    def _refresh(self) -> Token:
        """Refresh with the held refresh token; call under the cache lock."""
        refresh = self._sso_token.get("refresh_token")
        if not refresh:
            raise ValueError(f"No refresh token is held for {self.email}; sign in with fetch_token()")
        exchange = self._uses_exchange()
        sso_token = self._mint(self.active_sso_base_url, self._refresh_grant_form(refresh))
        if not sso_token.get("refresh_token"):
            sso_token["refresh_token"] = refresh
        self._sso_token = sso_token
        if exchange:
            self._save_cache()              # the old refresh token is spent: keep the new one
        self._token = self._owner_token(sso_token, try_exchange=exchange)
        self._save_cache()
        self._notify()
        logger.info("Refreshed the token of %s", self.email)
        return self._token

    def _renew(self, refused: Optional[str] = None) -> None:
        """Replace an expired or ``refused`` token: another process's, a refresh or a sign-in.

        One renewal at a time across threads and processes: it runs under the cache's
        lock and first re-reads the cache, where another process may have renewed.
        """
        with self._cache_lock():
            if refused is None and not self.token_expired():
                return
            if refused is not None and self._token.get("access_token") != refused:
                return                      # another thread renewed meanwhile
            if self._adopt_cached_tokens(refused):
                return
            self._refresh_or_sign_in()

    def _refresh_or_sign_in(self) -> None:
        """Refresh the token; sign in again when the SSO refuses the refresh token.

        A new sign-in needs the password; without one the SSO's error is raised. Network
        and server errors are raised as they are (they say nothing about the token).
        """
        from oauthlib.oauth2.rfc6749.errors import OAuth2Error

        if self._sso_token.get("refresh_token"):
            try:
                self._refresh()
                return
            except OAuth2Error as error:
                if self._adopt_cached_tokens():     # a refresh whose reply was lost elsewhere
                    return
                if not self.password:
                    raise
                logger.info("The SSO refused the refresh token of %s (%s); signing in again",
                            self.email, error.error)
        if self.password:
            self._token = {}
            self._sign_in_with_password()

    def valid_access_token(self) -> str:
        """An Owner API access token valid now, signing in or refreshing first if needed.

        Raises:
            ValueError: no token is held and none can be had (or as fetch_token()).
        """
        if not self.authorized:
            self.fetch_token()
        elif self.token_expired():
            self._renew()
        access: str = self.token["access_token"]
        return access

    # -- requests -------------------------------------------------------------------

    def _absolute(self, url: str) -> str:
        if urlsplit(url).scheme:
            return url
        return auth.join(self.api_base_url, url)

    def _is_api_url(self, url: str) -> bool:
        target, base = urlsplit(url), urlsplit(self.api_base_url)
        return (target.scheme.lower(), target.netloc.lower()) == (base.scheme.lower(), base.netloc.lower())

    def _send(self, method: str, url: str, with_token: bool, kwargs: Dict[str, Any]) -> requests.Response:
        call = dict(kwargs)
        access = self.token.get("access_token") if with_token else None
        if access:
            transport.require_secure(url)
            call.setdefault("auth", transport.BearerAuth(access))
        call.setdefault("timeout", self.timeout)
        response: requests.Response = super().request(method, url, **call)
        return response

    def _token_refused(self, response: requests.Response) -> bool:
        """Whether the API refused the token itself: 401, or Tesla's 403 for a badly minted one."""
        if response.status_code == 401:
            return True
        return response.status_code == 403 and errors.refusal_class(
            403, errors.error_reason(response) or "") is TokenRejectedError

    def request(self, method: str, url: str, *, serialize: bool = True,  # type: ignore[override]
                withhold_token: bool = False, **kwargs: Any) -> Any:
        """Send a request; relative URLs go to the Owner API with the bearer token.

        An expired token is refreshed first. A token the API refuses although it is
        believed valid (401, or Tesla's 403 for a token minted the way it no longer
        accepts) makes one refresh and one retry. When the SSO refuses the refresh
        token, a session that knows the password signs in again.

        Parameters:
            serialize: (optional) return the JSON reply as a ``JsonDict`` (default);
                False returns the :class:`requests.Response`.
            withhold_token: (optional) do not send the bearer token.
            data: (optional) a dict or list is sent as JSON, as TeslaPy 1.5 did (use
                ``json=`` for JSON and ``data=`` with a string for other bodies).

        Raises:
            requests.HTTPError: 4xx/5xx, with Tesla's error text as the reason (the
                subclasses of :mod:`teslapy.errors` for refusals with a known meaning).
            ResponseError: ``serialize`` is set and the reply is not JSON.
            oauthlib.oauth2.InsecureTransportError: the token would go to a plain-http
                host that is not loopback.
        """
        if isinstance(kwargs.get("data"), (dict, list)) and "json" not in kwargs:
            kwargs["json"] = kwargs.pop("data")     # TeslaPy 1.5 sent data= as JSON
        url = self._absolute(url)
        with_token = not withhold_token and self._is_api_url(url)
        if with_token and self.token_expired():
            self._renew()
        sent_token = self.token.get("access_token") if with_token else None
        response = self._send(method, url, with_token, kwargs)
        if sent_token and self._token_refused(response) and self.sso_token.get("refresh_token"):
            logger.info("The API refused the token of %s; renewing it and retrying once", self.email)
            response.close()
            self._renew(refused=sent_token)
            response = self._send(method, url, with_token, kwargs)
        errors.raise_for_status(response)
        if not serialize:
            return response
        return errors.json_body(response, method + " " + urlsplit(url).path)

    def api(self, name: str, path_vars: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
        """Call the named endpoint of ``endpoints.json``; returns the JSON reply.

        GET arguments go into the query string (None values dropped); other methods
        send them as a JSON body. An endpoint that needs a token signs in first when none
        is held.

        Raises:
            ValueError: unknown endpoint name (``'Unknown endpoint name X'``) or a missing
                path variable (``'VEHICLE_DATA requires path variable vehicle_id'``).
            NotImplementedError: the endpoint's reply is not JSON.
            requests.HTTPError: the API answered 4xx/5xx.
        """
        endpoint = endpoints.get_endpoint(name)
        if not endpoint.is_json or name in endpoints.NOT_JSON:
            raise NotImplementedError(f"Endpoint {name} not implemented")
        uri = endpoints.format_uri(name, path_vars)
        if endpoint.auth and not self.authorized:
            self.fetch_token()
        if endpoint.method == "GET":
            params = {key: value for key, value in kwargs.items() if value is not None}
            return self.request("GET", uri, params=params, withhold_token=not endpoint.auth)
        return self.request(endpoint.method, uri, json=kwargs, withhold_token=not endpoint.auth)

    def vehicle_command(self, vehicle: Vehicle, name: str, **kwargs: Any) -> Any:
        """Send command ``name`` to ``vehicle``; returns the reply as the REST endpoint gives it.

        The Owner API sends every command to its REST endpoint;
        :class:`~teslapy.fleet.TeslaFleet` signs the commands of cars that need the
        Vehicle Command Protocol.

        Raises: as :meth:`api`.
        """
        return vehicle.api(name, **kwargs)

    # -- products ---------------------------------------------------------------------

    def _response_list(self, name: str) -> List[Dict[str, Any]]:
        reply = self.api(name)
        items = reply.get("response") if isinstance(reply, dict) else None
        if not isinstance(items, list):
            raise ResponseError(f"{name}: the reply holds no response list")
        return [item for item in items if isinstance(item, dict)]

    def vehicle_list(self) -> List[Vehicle]:
        """The account's cars as :class:`~teslapy.vehicle.Vehicle` objects.

        Where the Owner API no longer lists vehicles (412, since 2024) they are taken
        from the products list.
        """
        try:
            items = self._response_list("VEHICLE_LIST")
        except FleetApiRequiredError:
            logger.info("The vehicle list moved to the Fleet API; reading the products list")
            items = [item for item in self._response_list("PRODUCT_LIST") if "vehicle_id" in item]
        return [Vehicle(item, self) for item in items]

    def battery_list(self) -> List[Battery]:
        """The account's Powerwall sites (products with ``resource_type`` battery)."""
        return [Battery(item, self) for item in self._response_list("PRODUCT_LIST")
                if item.get("resource_type") == "battery"]

    def solar_list(self) -> List[SolarPanel]:
        """The account's solar-only sites (products with ``resource_type`` solar)."""
        return [SolarPanel(item, self) for item in self._response_list("PRODUCT_LIST")
                if item.get("resource_type") == "solar"]
