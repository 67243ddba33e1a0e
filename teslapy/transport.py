"""The one seam between teslapy and HTTP: adapters, retries, TLS settings and token minting.

Every requests session teslapy makes (the :class:`~teslapy.session.Tesla` session
itself, its SSO sign-in session) is a :class:`Session`: it mounts the adapter from
:func:`build_adapter` and reads the environment's proxy and CA settings once, when it
is made (:class:`Environment`), so that a ``verify`` given to the constructor always
holds (requests would otherwise let ``REQUESTS_CA_BUNDLE`` override it on every
request) and no request pays for scanning the environment.

Tokens are minted (authorization-code and refresh grants) by :class:`TokenClient`:
over HTTP/2 with TLS 1.3 for https hosts, the only way Tesla accepts since June 2026
(it answers 200 to other clients, then refuses their tokens). There is no fallback:
when HTTP/2 with TLS 1.3 cannot be had, :class:`~teslapy.errors.Http2UnavailableError`
is raised before any form is sent, so a single-use code is never spent on a token that
would not work. Plain ``http`` is allowed only to loopback hosts (a local simulator);
tokens and OAuth forms are never sent in clear anywhere else.
"""
from __future__ import annotations

import functools
import ipaddress
import logging
import os
import socket
import ssl
import threading
import urllib.request
from typing import TYPE_CHECKING, Any, Dict, Optional, Set, Tuple, Union
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from teslapy.errors import Http2UnavailableError, ResponseError
from teslapy.limits import (
    DEFAULT_DEADLINE, Deadline, DeadlineAdapter, collect, read_within, replies_within, within,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx

logger = logging.getLogger(__name__)

#: Statuses retried when ``retry`` is an int (idempotent methods only, as urllib3 does).
RETRY_STATUSES = (500, 502, 503, 504)
RETRY_BACKOFF_FACTOR = 0.3
#: A CA bundle used when ``verify`` is left at True (e.g. the simulator's own CA).
CA_BUNDLE_ENV = "TESLAPY_CA_BUNDLE"
#: Where ``verify=True`` finds a CA bundle, first match wins (then the default store).
CA_BUNDLE_ENVS = (CA_BUNDLE_ENV, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

RetrySetting = Union[int, Retry]
Verify = Union[bool, str]


def build_retry(retry: RetrySetting) -> Retry:
    """The urllib3 ``Retry`` for a ``retry`` setting.

    An int ``n`` becomes ``Retry(total=n, connect=n, read=n, ...)`` that retries the
    statuses in ``RETRY_STATUSES`` with a short backoff and, when retries run out, hands
    back the last reply (so Tesla's error text still reaches the caller). A server's
    ``Retry-After`` is never slept on inside a call (it may ask for hours): a 429 is
    raised at once as :class:`~teslapy.errors.RateLimitError` with its ``retry_after``.
    With ``n`` = 0 a read timeout stays ``requests.ReadTimeout``, as in a plain
    ``requests`` session. A ``Retry`` instance is used as given.

    Raises:
        ValueError: ``retry`` is neither a non-negative int nor a ``Retry``.
    """
    if isinstance(retry, Retry):
        return retry
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
        raise ValueError(f"retry must be a number of retries (>= 0) or a urllib3 Retry, not {retry!r}")
    return Retry(
        total=retry, connect=retry, read=retry or False, status=retry,
        status_forcelist=RETRY_STATUSES, backoff_factor=RETRY_BACKOFF_FACTOR,
        raise_on_status=False, respect_retry_after_header=False,
    )


def build_adapter(retry: RetrySetting = 0) -> HTTPAdapter:
    """The transport adapter every teslapy session mounts (HTTP/1.1 via urllib3).

    Its connections end the wait for a reply's headers at the reply's deadline
    (:mod:`teslapy.limits`).
    """
    return DeadlineAdapter(max_retries=build_retry(retry))


def default_verify(verify: Verify) -> Verify:
    """``verify`` as given; True means the first CA bundle of ``CA_BUNDLE_ENVS`` that is set."""
    if verify is True:
        return next((os.environ[name] for name in CA_BUNDLE_ENVS if os.environ.get(name)), True)
    return verify


class Environment:
    """The process environment's proxy and CA settings, read once.

    Parameters:
        proxy: (optional) a proxy for every request; the environment's are not read then.
        verify: True, False or a CA bundle path; True takes a bundle from the environment.
    """

    def __init__(self, proxy: Optional[str] = None, verify: Verify = True) -> None:
        self.proxy = proxy
        self.verify = default_verify(verify)
        self._settings = {} if proxy else urllib.request.getproxies_environment()
        self._by_origin: Dict[Tuple[str, str], Dict[str, str]] = {}

    def proxies_for(self, url: str) -> Dict[str, str]:
        """The proxies for ``url`` (``{}`` for none), honouring ``NO_PROXY``."""
        if self.proxy:
            return {"http": self.proxy, "https": self.proxy}
        parts = urlsplit(url)
        origin = (parts.scheme.lower(), parts.netloc.lower())
        found = self._by_origin.get(origin)
        if found is None:
            chosen = self._settings.get(origin[0]) or self._settings.get("all")
            bypass = bool(chosen) and urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
                parts.hostname or "", self._settings)
            found = {origin[0]: chosen} if chosen and not bypass else {}
            self._by_origin[origin] = found
        return found


class Session(requests.Session):
    """A requests session with teslapy's adapter, retries and settings read once.

    Every request gets the ``verify`` and proxies fixed at construction (a request may
    still pass its own); the environment is not read again. A session made for another
    one (its sign-in session) shares that one's ``environment``. ``deadline`` bounds
    the time a whole reply may take, headers and body (:mod:`teslapy.limits`).
    """

    def __init__(self, *, retry: RetrySetting = 0, verify: Verify = True,
                 proxy: Optional[str] = None, user_agent: Optional[str] = None,
                 environment: Optional[Environment] = None,
                 deadline: Optional[float] = DEFAULT_DEADLINE) -> None:
        super().__init__()
        self.deadline = deadline
        self.trust_env = False
        self.environment = environment or Environment(proxy, verify)
        self.verify = self.environment.verify if environment is None else verify
        if proxy:
            self.proxies.update({"http": proxy, "https": proxy})
        adapter = build_adapter(retry)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        if user_agent:
            self.headers["User-Agent"] = user_agent
        self.hooks["response"].append(_refuse_unreadable_redirect)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Send a request with the session's ``verify``, the proxies for ``url`` and the deadline.

        Raises:
            ResponseError: the server redirects to an address that is not UTF-8.
        """
        kwargs.setdefault("verify", self.verify)
        if not kwargs.get("proxies"):
            kwargs["proxies"] = self.environment.proxies_for(url)
        deadline = None if self.deadline is None else Deadline.starting_now(self.deadline)
        with replies_within(deadline):
            if kwargs.get("stream"):
                return super().request(method, url, *args, **kwargs)
            kwargs["stream"] = True
            response = super().request(method, url, *args, **kwargs)
        read_within(response, deadline)
        return response


def _refuse_unreadable_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A response hook: a redirect to an address that is not UTF-8 is a ``ResponseError``.

    requests reads the address of every redirect, even one it does not follow, and
    would fail with a ``UnicodeDecodeError``.
    """
    if not response.is_redirect:
        return
    try:
        response.headers["Location"].encode("latin-1").decode("utf-8")
    except UnicodeError:
        response.close()
        raise ResponseError(f"{urlsplit(response.url).netloc} redirects to an address that is "
                            "not UTF-8", response) from None


class BearerAuth(requests.auth.AuthBase):
    """Sends ``token`` as the ``Authorization: Bearer`` header of the request it is given to.

    Given per request, and only to requests for the Owner API's host (``Tesla.request``),
    so the token reaches no other host; its repr does not show the token.
    """

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self.token
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}('***')"


def is_loopback_http(url: str) -> bool:
    """Whether ``url`` is plain ``http``/``ws`` on 127.0.0.0/8, ::1 or localhost."""
    parts = urlsplit(url or "")
    if parts.scheme.lower() not in ("http", "ws"):
        return False
    return _is_loopback_host((parts.hostname or "").lower())


@functools.lru_cache(maxsize=256)
def _is_loopback_host(host: str) -> bool:
    """Whether ``host`` is localhost or a loopback address (asked of every API call)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str) -> None:
    """Refuse to send secrets to ``url`` unless it is https/wss or loopback http/ws.

    Raises:
        oauthlib.oauth2.InsecureTransportError: ``url`` would carry them in clear over
            a network.
    """
    if urlsplit(url).scheme.lower() in ("https", "wss") or is_loopback_http(url):
        return
    from oauthlib.oauth2 import InsecureTransportError

    raise InsecureTransportError(description=f"OAuth 2 requires https; refusing {url}")


# -- token minting -------------------------------------------------------------------


def client_context(verify: Verify) -> ssl.SSLContext:
    """A client TLS context for ``verify`` as requests reads it: False checks nothing, a
    path is the CA bundle (file or directory), True is requests' default bundle.

    Raises:
        OSError, ValueError: the CA bundle cannot be loaded.
    """
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def tls13_context(verify: Verify) -> ssl.SSLContext:
    """A client TLS context that allows only TLS 1.3 and offers only ``h2`` by ALPN."""
    context = client_context(verify)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols(["h2"])
    return context


class TokenClient:
    """Posts forms to the SSO token endpoint the way Tesla accepts; one per ``Tesla``.

    https hosts get one persistent HTTP/2 client (``httpx``) with TLS 1.3 only; loopback
    ``http`` hosts (a local simulator of 2021's rules) go through the session's own
    requests transport. Every reply is a :class:`requests.Response`, whatever carried it.

    Parameters:
        session: a plain :class:`Session` for loopback http hosts (closed with this
            client); its ``verify``, proxies and ``deadline`` are used for the HTTP/2
            client too.
        timeout: (optional) seconds for each phase of a request.
    """

    def __init__(self, session: Session, timeout: Optional[float] = None) -> None:
        self.session = session
        self.verify: Verify = True if session.verify is None else session.verify
        self.proxy: Optional[str] = None
        self.timeout = timeout
        self._client: Optional["httpx.Client"] = None
        self._checked: Set[Tuple[str, int]] = set()
        self._lock = threading.Lock()

    def post_form(self, url: str, form: Dict[str, str]) -> requests.Response:
        """POST ``form`` to ``url``; returns the reply (any status).

        Raises:
            oauthlib.oauth2.InsecureTransportError: ``url`` is plain http beyond loopback.
            Http2UnavailableError: HTTP/2 with TLS 1.3 could not be negotiated (nothing
                was sent).
            requests.exceptions.SSLError: the server's certificate is not trusted.
            requests.ConnectionError, requests.Timeout: the network failed.
        """
        require_secure(url)
        if urlsplit(url).scheme.lower() != "https":
            return self.session.post(url, data=form, allow_redirects=False, timeout=self.timeout)
        self.proxy = self.session.environment.proxies_for(url).get("https")
        return self._post_http2(url, form)

    def close(self) -> None:
        """Close the connections (the HTTP/2 one, if it was opened)."""
        self._discard_client()
        self.session.close()

    def _discard_client(self) -> None:
        """Close the HTTP/2 client, if one was opened; the next form opens another."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http2_client(self, url: str) -> "httpx.Client":
        with self._lock:
            if self._client is None:
                import httpx

                proxy = self.proxy
                self._client = httpx.Client(
                    http1=False, http2=True, verify=tls13_context(self.verify), proxy=proxy,
                    trust_env=False, timeout=self.timeout, follow_redirects=False)
            return self._client

    def _check_http2(self, url: str) -> None:
        """Make sure ``url``'s host offers HTTP/2 over TLS 1.3 before any form is sent.

        Checked once per host with a handshake of its own (not through a proxy, where
        the proxy's tunnel decides).

        Raises:
            Http2UnavailableError: the server chose another protocol, or no TLS 1.3.
            requests.exceptions.SSLError: its certificate is not trusted.
            requests.ConnectionError, requests.ConnectTimeout: it cannot be reached.
        """
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        if self.proxy or (host, port) in self._checked:
            return
        try:
            with socket.create_connection((host, port), timeout=self.timeout) as raw:
                with tls13_context(self.verify).wrap_socket(raw, server_hostname=host) as tls:
                    chosen = tls.selected_alpn_protocol()
        except socket.timeout as error:
            raise requests.ConnectTimeout(f"The SSO {parts.netloc} did not answer in time") from error
        except OSError as error:
            raise _connection_error(parts.netloc, error) from error
        if chosen != "h2":
            raise Http2UnavailableError(
                f"The SSO {parts.netloc} did not speak HTTP/2 (it offered {chosen or 'nothing'}); "
                "no token was minted, because Tesla refuses tokens minted over HTTP/1.1. Check "
                "that no proxy or middlebox stands in the way")
        self._checked.add((host, port))

    def _post_http2(self, url: str, form: Dict[str, str]) -> requests.Response:
        """POST ``form`` over HTTP/2; the handshake and the reply end by the session's deadline."""
        seconds = self.session.deadline
        deadline = None if seconds is None else Deadline.starting_now(seconds)
        return within(deadline, urlsplit(url).netloc,
                      lambda: self._exchange_http2(url, form, deadline), self._discard_client)

    def _exchange_http2(self, url: str, form: Dict[str, str],
                        deadline: Optional[Deadline]) -> requests.Response:
        import httpx

        host = urlsplit(url).netloc
        self._check_http2(url)
        try:
            with self._http2_client(url).stream("POST", url, data=form,
                                                headers={"Accept": "application/json"}) as reply:
                if reply.http_version != "HTTP/2":  # cannot happen with http1=False; checked anyway
                    raise Http2UnavailableError(f"The SSO {host} answered over {reply.http_version}")
                content = collect(reply.iter_bytes(), deadline, host)
        except httpx.TimeoutException as error:
            timeout = requests.ConnectTimeout if isinstance(error, httpx.ConnectTimeout) \
                else requests.ReadTimeout
            raise timeout(f"The SSO {host} did not answer in time") from error
        except httpx.ProtocolError as error:
            raise Http2UnavailableError(
                f"The SSO {host} did not speak HTTP/2; no token was minted, because Tesla "
                "refuses tokens minted over HTTP/1.1. Check that no proxy or middlebox "
                "downgrades the connection") from error
        except httpx.TransportError as error:
            raise _connection_error(host, error) from error
        return _as_requests_response(reply, content)


def _connection_error(host: str, error: BaseException) -> requests.RequestException:
    """The requests-style error for a failure to connect (an ``OSError`` or httpx's)."""
    cause: Optional[BaseException] = error
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return requests.exceptions.SSLError(
            f"The certificate of the SSO {host} is not trusted: {cause.verify_message}")
    if isinstance(cause, ssl.SSLError):
        return Http2UnavailableError(
            f"TLS 1.3 could not be negotiated with the SSO {host} ({cause.reason or cause}); "
            "no token was minted, because Tesla refuses tokens minted without it")
    return requests.ConnectionError(f"Cannot reach the SSO {host}: {error}")


def _as_requests_response(reply: "httpx.Response", content: bytes) -> requests.Response:
    """An httpx reply and its body as a :class:`requests.Response` (status, headers, body, URL)."""
    response = requests.Response()
    response.status_code = reply.status_code
    response.headers = CaseInsensitiveDict(reply.headers)
    response._content = content
    response.url = str(reply.url)
    response.reason = reply.reason_phrase
    response.encoding = reply.encoding
    return response
