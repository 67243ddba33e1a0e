"""The one seam between teslapy and HTTP: adapters, retries and transport security.

Every session teslapy makes (the :class:`~teslapy.session.Tesla` session itself and the
short-lived SSO and refresh sessions) is set up by :func:`configure_session`, which
mounts the adapter from :func:`build_adapter` for ``http://`` and ``https://``. Another
transport (HTTP/2, for one) is added here without touching the API surface.

This module is also the one place that decides whether plain-http URLs may be used for
OAuth: oauthlib refuses them unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set, and
:func:`oauth_transport` sets it only while every configured host is ``http`` on a
loopback address (a local simulator), never for any other host.
"""
from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import threading
from typing import Iterable, Iterator, Optional, Union
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import InsecureTransportError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

#: Statuses retried when ``retry`` is an int (idempotent methods only, as urllib3 does).
RETRY_STATUSES = (500, 502, 503, 504)
RETRY_BACKOFF_FACTOR = 0.3
INSECURE_TRANSPORT_VAR = "OAUTHLIB_INSECURE_TRANSPORT"

RetrySetting = Union[int, Retry]


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


def configure_session(
    session: requests.Session,
    *,
    retry: RetrySetting = 0,
    verify: Union[bool, str] = True,
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


def plain_http_allowed(urls: Iterable[str]) -> bool:
    """Whether OAuth may run over plain http: every URL given is loopback http."""
    urls = [url for url in urls if url]
    return bool(urls) and all(is_loopback_http(url) for url in urls)


def require_oauth_safe(url: str, allowed: bool) -> None:
    """Refuse to send OAuth traffic to ``url`` unless it is https or permitted loopback.

    Raises:
        oauthlib.oauth2.InsecureTransportError: ``url`` is not https, and it is not a
            loopback http URL in a session whose hosts are all loopback.
    """
    if urlsplit(url).scheme.lower() == "https":
        return
    if allowed and is_loopback_http(url):
        return
    raise InsecureTransportError(description=f"OAuth 2 requires https; refusing {url}")


_insecure_lock = threading.Lock()
_insecure_users = 0
_insecure_saved: Optional[str] = None


@contextlib.contextmanager
def oauth_transport(urls: Iterable[str]) -> Iterator[bool]:
    """Let oauthlib use plain http inside the block if every URL is loopback http.

    Yields whether plain http is permitted. Outside loopback-only setups nothing
    changes and oauthlib keeps refusing non-https URLs.
    """
    global _insecure_users, _insecure_saved
    allowed = plain_http_allowed(urls)
    if not allowed:
        yield False
        return
    with _insecure_lock:
        if _insecure_users == 0:
            _insecure_saved = os.environ.get(INSECURE_TRANSPORT_VAR)
            os.environ[INSECURE_TRANSPORT_VAR] = "1"
        _insecure_users += 1
    try:
        yield True
    finally:
        with _insecure_lock:
            _insecure_users -= 1
            if _insecure_users == 0:
                if _insecure_saved is None:
                    os.environ.pop(INSECURE_TRANSPORT_VAR, None)
                else:
                    os.environ[INSECURE_TRANSPORT_VAR] = _insecure_saved
