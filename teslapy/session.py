"""The ``Tesla`` session: login through Tesla's SSO, token cache and refresh, API calls.

:class:`Tesla` is a :class:`requests.Session`. Relative URLs go to the Owner API base,
which also gets the bearer token; :meth:`Tesla.api` calls an endpoint by name.
"""
from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import urljoin, urlsplit

import requests
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error, OAuth2Error
from requests_oauthlib import OAuth2Session
from urllib3.util.retry import Retry

from teslapy import __version__, auth, cache, endpoints, errors, transport
from teslapy._types import (
    CacheDumper, CacheLoader, CaptchaSolver, FactorSelector, JsonDict, PasscodeGetter, Token,
)
from teslapy.energy import Battery, SolarPanel
from teslapy.errors import ResponseError
from teslapy.vehicle import Vehicle

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://owner-api.teslamotors.com/"
DEFAULT_STREAMING_BASE_URL = "wss://streaming.vn.teslamotors.com/streaming/"
DEFAULT_COMPOSITOR_URL = "https://static-assets.tesla.com/v1/compositor/"
DEFAULT_SSO_BASE_URL = auth.DEFAULT_SSO_BASE_URL
DEFAULT_USER_AGENT = f"teslapy/{__version__}"
DEFAULT_TIMEOUT = 10
#: An Owner API token this close to its expiry is refreshed before use (seconds).
EXPIRY_MARGIN = 60
#: Region redirects followed on the way to the sign-in page.
MAX_REGION_REDIRECTS = 3

SSO_BASE_URL_ENV = "TESLAPY_SSO_BASE_URL"
API_BASE_URL_ENV = "TESLAPY_API_BASE_URL"
STREAMING_BASE_URL_ENV = "TESLAPY_STREAMING_BASE_URL"
COMPOSITOR_URL_ENV = "TESLAPY_COMPOSITOR_URL"

_REDIRECT_STATUSES = (301, 302, 303, 307, 308)

auth.silence_oauth_debug_logs()


def _setting(value: Optional[str], env_name: str, default: str) -> str:
    """A host setting: the argument, else the environment variable, else Tesla's host."""
    return value or os.environ.get(env_name) or default


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


# -- stdio defaults for the login callbacks ------------------------------------------


def ask_passcode() -> str:
    """Ask for the MFA passcode on stdin."""
    return input("Passcode: ").strip()


def ask_factor(factors: List[dict]) -> Union[dict, str]:
    """Ask on stdin which MFA factor to use; returns the factor, or "" to cancel."""
    for number, factor in enumerate(factors, start=1):
        print(f"{number}: {factor.get('name')}")
    choice = input("Select factor: ").strip()
    if choice.isdigit() and 1 <= int(choice) <= len(factors):
        return factors[int(choice) - 1]
    return choice


def ask_captcha(svg: bytes) -> str:
    """Show the captcha in the system browser and ask for its characters on stdin.

    The image goes to a private temporary file, whose path is also printed for machines
    without a browser; the file is removed once the characters are typed.
    """
    handle, path = tempfile.mkstemp(prefix="teslapy-captcha-", suffix=".svg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(svg)
        print(f"Captcha image: {path}")
        webbrowser.open(Path(path).as_uri())
        return input("Captcha: ").strip()
    finally:
        os.unlink(path)


def _check_token_reply(response: requests.Response) -> requests.Response:
    """Let oauthlib read only token replies it can parse; raise for the others.

    OAuth errors (a 4xx JSON object with ``error``) are left to oauthlib, which raises
    its matching class (``InvalidGrantError``, ...); so is a JSON object without an
    access token (``MissingTokenError``).

    Raises:
        requests.HTTPError: a 5xx reply, or a 4xx reply that is not an OAuth error.
        ResponseError: a 2xx reply whose body is not a JSON object.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500:
        errors.raise_for_status(response)
    if response.status_code >= 400:
        if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
            errors.raise_for_status(response)
    elif not isinstance(body, dict):
        kind = response.headers.get("Content-Type") or "no type"
        raise ResponseError(f"The SSO token reply ({response.status_code}, {kind}) is not "
                            "a JSON object", response)
    return response


class Tesla(requests.Session):
    """A session with Tesla's cloud for one account (``email``).

    Parameters:
        email: SSO identity.
        password: (optional) SSO credential; may be empty when a cached token exists.
        passcode_getter: (optional) function returning the TOTP passcode.
        factor_selector: (optional) function taking the list of factor dicts and
            returning the chosen dict or factor name.
        captcha_solver: (optional) function taking the captcha SVG bytes and returning
            its characters.
        verify: (optional) verify TLS certificates (or a CA bundle path).
        proxy: (optional) URL of a proxy server.
        retry: (optional) number of connection retries or a urllib3 ``Retry``.
        user_agent: (optional) the User-Agent string.
        cache_file: (optional) path of the cache file of the default loader/dumper.
        cache_loader: (optional) function returning the cache dict.
        cache_dumper: (optional) function taking the cache dict to store.
        sso_base_url, api_base_url, streaming_base_url, compositor_url: (optional)
            Tesla's hosts; default to ``TESLAPY_SSO_BASE_URL``, ``TESLAPY_API_BASE_URL``,
            ``TESLAPY_STREAMING_BASE_URL``, ``TESLAPY_COMPOSITOR_URL``, then the real hosts.
        timeout: (optional) seconds to wait for each reply.

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
    ) -> None:
        super().__init__()
        if not email:
            raise ValueError("An email is required to identify the Tesla account")
        self.email = email
        self.password = password
        self.passcode_getter = passcode_getter or ask_passcode
        self.factor_selector = factor_selector or ask_factor
        self.captcha_solver = captcha_solver or ask_captcha
        self.retry = retry
        self.user_agent = user_agent
        self.proxy = proxy
        transport.configure_session(
            self, retry=retry, verify=verify, user_agent=user_agent,
            proxies={"http": proxy, "https": proxy} if proxy else None)
        self.timeout = timeout
        self.cache_file = cache_file
        self.cache_loader = cache_loader or self._load_cache_file
        self.cache_dumper = cache_dumper or self._dump_cache_file
        self.sso_base_url = _with_slash(_setting(sso_base_url, SSO_BASE_URL_ENV, DEFAULT_SSO_BASE_URL))
        self.api_base_url = _with_slash(_setting(api_base_url, API_BASE_URL_ENV, DEFAULT_API_BASE_URL))
        self.streaming_base_url = _setting(
            streaming_base_url, STREAMING_BASE_URL_ENV, DEFAULT_STREAMING_BASE_URL)
        self.compositor_url = _setting(compositor_url, COMPOSITOR_URL_ENV, DEFAULT_COMPOSITOR_URL)
        self._token: Token = {}
        self._sso_token: Token = {}
        self._region_sso_base_url: Optional[str] = None
        self._loaded = False
        self._auth_lock = threading.RLock()

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
        return self._region_sso_base_url or self.sso_base_url

    @property
    def authorized(self) -> bool:
        """Whether an Owner API token is held (it is refreshed on use when expired)."""
        return bool(self.token.get("access_token"))

    def expires_at(self) -> Optional[float]:
        """When the Owner API token expires (epoch seconds), or None if unknown."""
        try:
            return float(self.token["created_at"]) + float(self.token["expires_in"])
        except (KeyError, TypeError, ValueError):
            return None

    def token_expired(self) -> bool:
        """Whether the Owner API token is expired (or about to expire).

        False without a token or when its expiry is unknown; a token the API refuses is
        still refreshed then, on its 401.
        """
        if not self.authorized:
            return False
        expiry = self.expires_at()
        return expiry is not None and 0 < expiry <= time.time() + EXPIRY_MARGIN

    # -- cache ----------------------------------------------------------------------

    def _load_cache_file(self) -> Dict[str, Any]:
        return cache.load_cache_file(self.cache_file)

    def _dump_cache_file(self, data: Dict[str, Any]) -> None:
        cache.dump_cache_file(self.cache_file, data)

    def _uses_cache_file(self) -> bool:
        return self.cache_loader == self._load_cache_file and self.cache_dumper == self._dump_cache_file

    def _cache_lock(self):
        return cache.locked(self.cache_file) if self._uses_cache_file() else contextlib.nullcontext()

    def _read_entry(self) -> Dict[str, Any]:
        return cache.read_entry(self.cache_loader(), self.email, self.api_base_url)

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

    def _save_cache(self) -> None:
        """Store this account's entry; other accounts in the cache are kept as they are."""
        entry = {"url": self.active_sso_base_url, "sso": self._sso_token, "ownerapi": self._token,
                 "api_url": self.api_base_url}
        with self._cache_lock():
            current = self.cache_loader()
            if not isinstance(current, dict):
                current = {}
            current[self.email] = entry
            self.cache_dumper(current)

    def _adopt_newer_cached_tokens(self) -> bool:
        """Take the tokens another process refreshed meanwhile, if they are usable now.

        Returns True when the cache held a different, unexpired Owner API token (it is
        adopted together with the SSO token stored beside it).
        """
        entry = self._read_entry()
        owner, sso = entry["ownerapi"], entry["sso"]
        if not owner or owner.get("access_token") == self._token.get("access_token"):
            return False
        held = self._token
        self._token = dict(owner)
        if self.token_expired():
            self._token = held
            return False
        if sso and sso.get("refresh_token"):
            self._sso_token = dict(sso)
        logger.info("Using the token another process refreshed for %s", self.email)
        return True

    # -- login ----------------------------------------------------------------------

    def _oauth_hosts(self) -> List[str]:
        return [self.sso_base_url, self.active_sso_base_url, self.api_base_url]

    def _new_sso_session(self) -> OAuth2Session:
        """A fresh OAuth 2 session (own cookie jar) with the teslapy transport."""
        oauth = OAuth2Session(client_id=auth.SSO_CLIENT_ID, scope=auth.SCOPE,
                              redirect_uri=auth.REDIRECT_URI, pkce=auth.PKCE_METHOD)
        transport.configure_session(oauth, retry=self.retry, verify=self.verify,
                                    proxies=dict(self.proxies), user_agent=self.user_agent)
        oauth.register_compliance_hook("access_token_response", _check_token_reply)
        oauth.register_compliance_hook("refresh_token_response", _check_token_reply)
        return oauth

    def fetch_token(self) -> Token:
        """Log in through Tesla's SSO unless a token is held; returns the Owner API token.

        The authorization code grant with PKCE: sign-in form (with captcha when asked),
        MFA passcode when the account has factors, code for SSO token, then the RFC
        7523 exchange for the Owner API token. A region redirect is followed and the
        regional SSO host remembered. Tokens are stored in the cache.

        Raises:
            ValueError: no password, credentials rejected (with the server's messages),
                ``Missing captcha response``, unknown factor name, invalid passcode.
            NotImplementedError: the chosen MFA factor is not TOTP.
            oauthlib.oauth2.rfc6749.errors.CustomOAuth2Error: the login was cancelled
                (empty factor or passcode): ``(login_cancelled) User cancelled login``.
            requests.HTTPError: a Tesla service answered with an error (nothing stored).
        """
        with self._auth_lock:
            if self.authorized:
                return self.token
            return self._login()

    def _login(self) -> Token:
        if not self.password:
            raise ValueError(f"No usable token is cached for {self.email}; "
                             "give the password to log in")
        with transport.oauth_transport(self._oauth_hosts()) as plain_http_ok:
            sso_base = self.sso_base_url
            transport.require_oauth_safe(sso_base, plain_http_ok)
            oauth = self._new_sso_session()
            try:
                url, _state = oauth.authorization_url(
                    auth.join(sso_base, auth.AUTHORIZE_PATH), login_hint=self.email)
                page, sso_base = self._open_sign_in(oauth, url, sso_base, plain_http_ok)
                if self._is_redirect(page):          # the SSO answered with the callback
                    callback = page.headers["Location"]
                else:
                    callback = self._sign_in(oauth, sso_base, page.text)
                logger.debug("Sign-in finished; exchanging the authorization code")
                sso_token = oauth.fetch_token(
                    auth.join(sso_base, auth.TOKEN_PATH), authorization_response=callback,
                    include_client_id=True, timeout=self.timeout)
            finally:
                oauth.close()
            owner_token = self._exchange(sso_token)
        self._sso_token = dict(sso_token)
        self._token = owner_token
        self._region_sso_base_url = sso_base
        self._save_cache()
        logger.info("Logged in %s", self.email)
        return self._token

    def _open_sign_in(self, oauth: OAuth2Session, url: str, sso_base: str,
                      plain_http_ok: bool) -> Tuple[requests.Response, str]:
        """GET the sign-in page, following region redirects; returns (page, SSO base).

        Each redirect is checked before it is followed; one to the callback URI is
        returned as it is (it carries the SSO's error, or a code).

        Raises:
            requests.HTTPError: the SSO answered 4xx/5xx.
            oauthlib.oauth2.InsecureTransportError: a redirect leads to plain http.
            ResponseError: the SSO redirects in circles.
        """
        for _ in range(MAX_REGION_REDIRECTS + 1):
            page = oauth.get(url, allow_redirects=False, timeout=self.timeout)
            if not self._is_redirect(page):
                errors.raise_for_status(page)
                return page, sso_base
            location = urljoin(url, page.headers["Location"])
            if location.startswith(auth.REDIRECT_URI):
                page.headers["Location"] = location
                return page, sso_base
            transport.require_oauth_safe(location, plain_http_ok)
            url, sso_base = location, auth.sso_base_from_url(location)
            logger.info("%s signs in at the regional SSO %s", self.email, sso_base)
        raise ResponseError("The SSO sign-in page redirects too often", page)

    def _sign_in(self, oauth: OAuth2Session, sso_base: str, html: str) -> str:
        """Post the credentials (solving captchas when asked); returns the callback URL."""
        authorize_url = auth.join(sso_base, auth.AUTHORIZE_PATH)
        form = auth.parse_form(html)
        transaction = auth.transaction_id(form)
        captcha = self._solve_captcha(oauth, sso_base) if auth.needs_captcha(form) else None
        reply = self._post_form(oauth, authorize_url,
                                auth.credentials_form(form, self.email, self.password, captcha))
        if not self._is_redirect(reply) and auth.needs_captcha(auth.parse_form(reply.text)):
            logger.info("The sign-in form asks for a captcha")
            form = auth.parse_form(reply.text)
            transaction = form.get("transaction_id") or transaction
            captcha = self._solve_captcha(oauth, sso_base)
            reply = self._post_form(oauth, authorize_url,
                                    auth.credentials_form(form, self.email, self.password, captcha))
        if self._is_redirect(reply):
            return reply.headers["Location"]
        if auth.has_inputs(reply.text):
            raise auth.rejection(reply.text)
        errors.raise_for_status(reply)
        self._check_passcode_page(reply)
        logger.info("The account asks for a second factor")
        return self._multi_factor(oauth, sso_base, transaction)

    @staticmethod
    def _check_passcode_page(reply: requests.Response) -> None:
        """Accept what the SSO sent after the credentials as its passcode page.

        Raises:
            ResponseError: the reply is a redirect without a target, empty, or not HTML.
        """
        kind = reply.headers.get("Content-Type") or "no type"
        if (300 <= reply.status_code < 400 or not reply.text.strip()
                or "html" not in kind.lower()):
            raise ResponseError(
                f"The SSO answered the sign-in ({reply.status_code}, {kind}) with neither "
                "the callback, the form nor the passcode page", reply)

    def _solve_captcha(self, oauth: OAuth2Session, sso_base: str) -> str:
        image = oauth.get(auth.join(sso_base, auth.CAPTCHA_PATH), timeout=self.timeout)
        errors.raise_for_status(image)
        return auth.check_captcha_answer(self.captcha_solver(image.content))

    def _post_form(self, oauth: OAuth2Session, url: str, data: Dict[str, str]) -> requests.Response:
        return oauth.post(url, data=data, allow_redirects=False, timeout=self.timeout)

    @staticmethod
    def _is_redirect(reply: requests.Response) -> bool:
        return reply.status_code in _REDIRECT_STATUSES and bool(reply.headers.get("Location"))

    def _multi_factor(self, oauth: OAuth2Session, sso_base: str, transaction: str) -> str:
        """Choose a factor, verify the passcode, finish; returns the callback URL."""
        reply = oauth.get(auth.join(sso_base, auth.MFA_FACTORS_PATH),
                          params={"transaction_id": transaction}, timeout=self.timeout)
        errors.raise_for_status(reply)
        factors = auth.factors_from_reply(self._json_body(reply, "MFA factors"))
        if len(factors) == 1:
            factor: Optional[dict] = auth.check_factor(factors[0])
        else:
            factor = auth.choose_factor(factors, self.factor_selector(factors))
        if factor is None:
            return self._cancel(oauth, sso_base, transaction)
        passcode = str(self.passcode_getter() or "").strip()
        if not passcode:
            return self._cancel(oauth, sso_base, transaction)
        verify = oauth.post(auth.join(sso_base, auth.MFA_VERIFY_PATH),
                            json=auth.verify_body(transaction, factor, passcode),
                            timeout=self.timeout)
        try:
            body = verify.json()
        except ValueError:
            errors.raise_for_status(verify)
            raise ResponseError("The passcode verification reply is not JSON", verify) from None
        auth.check_verify_reply(body)
        reply = self._post_form(oauth, auth.join(sso_base, auth.AUTHORIZE_PATH),
                                auth.continue_form(transaction))
        if self._is_redirect(reply):
            return reply.headers["Location"]
        errors.raise_for_status(reply)
        raise ResponseError("The SSO did not finish the sign-in after the passcode was accepted",
                            reply)

    def _cancel(self, oauth: OAuth2Session, sso_base: str, transaction: str) -> str:
        """Cancel the sign-in; the callback it returns makes oauthlib raise login_cancelled."""
        logger.info("Cancelling the sign-in of %s", self.email)
        reply = self._post_form(oauth, auth.join(sso_base, auth.AUTHORIZE_PATH),
                                auth.cancel_form(transaction))
        if self._is_redirect(reply):
            return reply.headers["Location"]
        raise CustomOAuth2Error("login_cancelled", description="User cancelled login")

    def _exchange(self, sso_token: Token) -> Token:
        """The Owner API token for an SSO token (RFC 7523 exchange at ``oauth/token``).

        Raises:
            requests.HTTPError: the Owner API refused the exchange.
            ResponseError: the reply holds no access token.
        """
        access = sso_token.get("access_token")
        if not isinstance(access, str) or not access:
            raise ResponseError("The SSO token reply holds no usable access token")
        reply = super().request(
            "POST", self._absolute(auth.OWNER_TOKEN_PATH), data=auth.owner_exchange_body(),
            headers={"Authorization": f"Bearer {access}"}, timeout=self.timeout)
        errors.raise_for_status(reply)
        body = self._json_body(reply, "Owner API token")
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ResponseError("The Owner API token reply holds no access token", reply)
        token = dict(body)
        token.setdefault("created_at", int(time.time()))
        return token

    def refresh_token(self) -> Token:
        """Get a new Owner API token with the SSO refresh token; returns it.

        The SSO refresh grant (at the account's regional SSO host), then the RFC 7523
        exchange. A rotated refresh token replaces the old one; a reply without one
        keeps the old. On failure the tokens held and cached stay as they were (except
        a newly rotated SSO token, which is kept so the next try can use it).

        Raises:
            ValueError: no SSO refresh token is held.
            oauthlib.oauth2.rfc6749.errors.OAuth2Error: the SSO refused the refresh
                (e.g. ``InvalidGrantError``).
            requests.HTTPError: a Tesla service answered with an error.
        """
        with self._auth_lock:
            refresh = self.sso_token.get("refresh_token")
            if not refresh:
                raise ValueError(f"No refresh token is held for {self.email}; log in with fetch_token()")
            sso_base = self.active_sso_base_url
            with transport.oauth_transport(self._oauth_hosts()) as plain_http_ok:
                transport.require_oauth_safe(sso_base, plain_http_ok)
                oauth = self._new_sso_session()
                try:
                    sso_token = oauth.refresh_token(
                        auth.join(sso_base, auth.TOKEN_PATH), refresh_token=refresh,
                        client_id=auth.SSO_CLIENT_ID, timeout=self.timeout)
                finally:
                    oauth.close()
            sso_token = dict(sso_token)
            if not sso_token.get("refresh_token"):
                sso_token["refresh_token"] = refresh
            self._sso_token = sso_token
            self._save_cache()
            self._token = self._exchange(sso_token)
            self._save_cache()
            logger.info("Refreshed the token of %s", self.email)
            return self._token

    def _renew(self) -> None:
        """Replace an expired Owner API token: another process's, a refresh or a login."""
        with self._auth_lock:
            if not self.token_expired():
                return
            if self._adopt_newer_cached_tokens():
                return
            self._refresh_or_log_in()

    def _refresh_or_log_in(self) -> None:
        """Refresh the token; log in again when the SSO refuses the refresh token.

        A new login needs the password; without one the SSO's error is raised. Network
        and server errors are raised as they are (they say nothing about the token).
        """
        if self.sso_token.get("refresh_token"):
            try:
                self.refresh_token()
                return
            except OAuth2Error as error:
                if not self.password:
                    raise
                logger.info("The SSO refused the refresh token of %s (%s); logging in again",
                            self.email, error.error)
        if self.password:
            self._token = {}
            self._login()

    def valid_access_token(self) -> str:
        """An Owner API access token valid now, logging in or refreshing first if needed.

        Raises:
            ValueError: no token is held and no password is set (or as fetch_token()).
        """
        if not self.authorized:
            self.fetch_token()
        elif self.token_expired():
            self._renew()
        return self.token["access_token"]

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
        headers = dict(call.pop("headers", None) or {})
        if with_token and self.authorized:
            headers["Authorization"] = f"Bearer {self.token['access_token']}"
        call.setdefault("timeout", self.timeout)
        return super().request(method, url, headers=headers, **call)

    def request(self, method: str, url: str, *, serialize: bool = True,
                withhold_token: bool = False, **kwargs: Any) -> Any:
        """Send a request; relative URLs go to the Owner API with the bearer token.

        An expired token is refreshed first; a 401 for a token believed valid makes one
        refresh and one retry. When the SSO refuses the refresh token, a session that
        knows the password logs in again.

        Parameters:
            serialize: (optional) return the JSON reply as a ``JsonDict`` (default);
                False returns the :class:`requests.Response`.
            withhold_token: (optional) do not send the bearer token.

        Raises:
            requests.HTTPError: 4xx/5xx, with Tesla's error text as the reason.
            ResponseError: ``serialize`` is set and the reply is not JSON.
        """
        url = self._absolute(url)
        with_token = not withhold_token and self._is_api_url(url)
        if with_token and self.token_expired():
            self._renew()
        sent_token = self.token.get("access_token") if with_token else None
        response = self._send(method, url, with_token, kwargs)
        if (response.status_code == 401 and sent_token
                and self.sso_token.get("refresh_token")):
            logger.info("The API refused the token of %s; refreshing it and retrying once", self.email)
            response.close()
            with self._auth_lock:
                if self.token.get("access_token") == sent_token:   # not renewed by another thread
                    self._refresh_or_log_in()
            response = self._send(method, url, with_token, kwargs)
        errors.raise_for_status(response)
        if not serialize:
            return response
        return self._json_body(response, method + " " + urlsplit(url).path)

    @staticmethod
    def _json_body(response: requests.Response, what: str) -> Any:
        """The reply's JSON, objects as ``JsonDict``; a body that is not JSON raises."""
        if not response.content.strip():
            raise ResponseError(f"{what}: the reply ({response.status_code}) is empty", response)
        try:
            return response.json(object_pairs_hook=JsonDict)
        except ValueError:
            kind = response.headers.get("Content-Type") or "unknown type"
            raise ResponseError(f"{what}: the reply ({response.status_code}, {kind}) is not JSON",
                                response) from None

    def api(self, name: str, path_vars: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
        """Call the named endpoint of ``endpoints.json``; returns the JSON reply.

        GET arguments go into the query string (None values dropped); other methods
        send them as a JSON body. An endpoint that needs a token logs in first when none
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

    # -- products ---------------------------------------------------------------------

    def _response_list(self, name: str) -> List[dict]:
        reply = self.api(name)
        items = reply.get("response") if isinstance(reply, dict) else None
        if not isinstance(items, list):
            raise ResponseError(f"{name}: the reply holds no response list")
        return [item for item in items if isinstance(item, dict)]

    def vehicle_list(self) -> List[Vehicle]:
        """The account's cars as :class:`~teslapy.vehicle.Vehicle` objects."""
        return [Vehicle(item, self) for item in self._response_list("VEHICLE_LIST")]

    def battery_list(self) -> List[Battery]:
        """The account's Powerwall sites (products with ``resource_type`` battery)."""
        return [Battery(item, self) for item in self._response_list("PRODUCT_LIST")
                if item.get("resource_type") == "battery"]

    def solar_list(self) -> List[SolarPanel]:
        """The account's solar-only sites (products with ``resource_type`` solar)."""
        return [SolarPanel(item, self) for item in self._response_list("PRODUCT_LIST")
                if item.get("resource_type") == "solar"]
