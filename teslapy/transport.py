"""The one seam between teslapy and HTTP: adapters, retries, TLS settings and token minting.

Every :class:`requests.Session` teslapy makes (the :class:`~teslapy.session.Tesla`
session itself and its SSO sign-in session) is set up by :func:`configure_session`,
which mounts the adapter from :func:`build_adapter` for ``http://`` and ``https://``.

Tokens are minted (authorization-code and refresh grants) by :class:`TokenClient`:
over HTTP/2 with TLS 1.3 for https hosts, the only way Tesla accepts since June 2026
(it answers 200 to other clients, then refuses their tokens). There is no fallback:
when HTTP/2 with TLS 1.3 cannot be had, :class:`~teslapy.errors.Http2UnavailableError`
is raised before any form is sent, so a single-use code is never spent on a token that
would not work. Plain ``http`` is allowed only to loopback hosts (a local simulator);
tokens and OAuth forms are never sent in clear anywhere else.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Dict, Optional, Set, Tuple, Union
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from teslapy.errors import Http2UnavailableError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

logger = logging.getLogger(__name__)

#: Statuses retried when ``retry`` is an int (idempotent methods only, as urllib3 does).
RETRY_STATUSES = (500, 502, 503, 504)
RETRY_BACKOFF_FACTOR = 0.3
#: A CA bundle used when ``verify`` is left at True (e.g. the simulator's own CA).
CA_BUNDLE_ENV = "TESLAPY_CA_BUNDLE"

RetrySetting = Union[int, Retry]
Verify = Union[bool, str]


def build_retry(retry: RetrySetting) -> Retry:
    """The urllib3 ``Retry`` for a ``retry`` setting.

    An int ``n`` becomes ``Retry(total=n, connect=n, read=n, ...)`` that retries the
    statuses in ``RETRY_STATUSES`` with a short backoff and, when retries run out, hands
    back the last reply (so Tesla's error text still reaches the caller). With ``n`` = 0
    a read timeout stays ``requests.ReadTimeout``, as in a plain ``requests`` session. A
    ``Retry`` instance is used as given.

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
        raise_on_status=False,
    )


def build_adapter(retry: RetrySetting = 0) -> HTTPAdapter:
    """The transport adapter every teslapy session mounts (HTTP/1.1 via urllib3)."""
    return HTTPAdapter(max_retries=build_retry(retry))


def default_verify(verify: Verify) -> Verify:
    """``verify`` as given, except that True means ``TESLAPY_CA_BUNDLE`` when that is set."""
    if verify is True:
        return os.environ.get(CA_BUNDLE_ENV) or True
    return verify


def configure_session(
    session: requests.Session,
    *,
    retry: RetrySetting = 0,
    verify: Verify = True,
    proxies: Optional[dict] = None,
    user_agent: Optional[str] = None,
) -> requests.Session:
    """Mount the teslapy adapter on ``session`` and apply the shared settings."""
    adapter = build_adapter(retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = verify
    if proxies:
        session.proxies.update(proxies)
    if user_agent:
        session.headers["User-Agent"] = user_agent
    return session


def is_loopback_http(url: str) -> bool:
    """Whether ``url`` is plain ``http``/``ws`` on 127.0.0.0/8, ::1 or localhost."""
    parts = urlsplit(url or "")
    if parts.scheme.lower() not in ("http", "ws"):
        return False
    host = (parts.hostname or "").lower()
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


def tls13_context(verify: Verify) -> ssl.SSLContext:
    """A client TLS context that allows only TLS 1.3 and offers only ``h2`` by ALPN."""
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        if os.path.isdir(verify):
            context = ssl.create_default_context(capath=verify)
        else:
            context = ssl.create_default_context(cafile=verify)
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols(["h2"])
    return context


class TokenClient:
    """Posts forms to the SSO token endpoint the way Tesla accepts; one per ``Tesla``.

    https hosts get one persistent HTTP/2 client (``httpx``) with TLS 1.3 only; loopback
    ``http`` hosts (a local simulator of 2021's rules) go through the session's own
    requests transport. Every reply is a :class:`requests.Response`, whatever carried it.

    Parameters:
        session: a plain requests session for loopback http hosts (closed with this client).
        verify: True, False or a CA bundle path (as for requests).
        proxy: (optional) proxy URL; else the environment's proxy for the host.
        timeout: (optional) seconds for each phase of a request.
    """

    def __init__(self, session: requests.Session, verify: Verify, proxy: Optional[str] = None,
                 timeout: Optional[float] = None) -> None:
        self.session = session
        self.verify = verify
        self.proxy = proxy
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
            return self.session.post(url, data=form, allow_redirects=False,
                                     timeout=self.timeout, verify=self.verify)
        return self._post_http2(url, form)

    def close(self) -> None:
        """Close the connections (the HTTP/2 one, if it was opened)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
        self.session.close()

    def _http2_client(self, url: str) -> "httpx.Client":
        with self._lock:
            if self._client is None:
                import httpx

                proxy = self.proxy or requests.utils.select_proxy(
                    url, requests.utils.get_environ_proxies(url))
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
        import httpx

        host = urlsplit(url).netloc
        self._check_http2(url)
        try:
            reply = self._http2_client(url).post(url, data=form,
                                                 headers={"Accept": "application/json"})
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
        if reply.http_version != "HTTP/2":      # cannot happen with http1=False; checked anyway
            raise Http2UnavailableError(f"The SSO {host} answered over {reply.http_version}")
        return _as_requests_response(reply)


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


def _as_requests_response(reply: "httpx.Response") -> requests.Response:
    """An httpx reply as a :class:`requests.Response` (status, headers, body, URL)."""
    response = requests.Response()
    response.status_code = reply.status_code
    response.headers = CaseInsensitiveDict(reply.headers)
    response._content = reply.content
    response.url = str(reply.url)
    response.reason = reply.reason_phrase
    response.encoding = reply.encoding
    return response
