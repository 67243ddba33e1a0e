"""The Fleet API's regions: their base URLs, and which hosts a client may be sent to.

Tesla serves the Fleet API from one host per region: North America and Asia-Pacific
(``na``), Europe, the Middle East and Africa (``eu``) and China (``cn``, with its own
apps and accounts). An account is served by one region; asked elsewhere, Tesla answers
421 naming the right base URL. Tokens come from one token host (``fleet-auth``).

Each URL can be replaced per session or through the environment (a simulator uses
this): ``TESLAPY_FLEET_NA_BASE_URL``, ``TESLAPY_FLEET_EU_BASE_URL``,
``TESLAPY_FLEET_CN_BASE_URL``, ``TESLAPY_FLEET_AUTH_BASE_URL`` and
``TESLAPY_FLEET_PAIRING_URL`` (where the key-pairing links point).
"""
from __future__ import annotations

import os
import re
from typing import Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

REGIONS = ("na", "eu", "cn")
BASE_URLS = {
    "na": "https://fleet-api.prd.na.vn.cloud.tesla.com/",
    "eu": "https://fleet-api.prd.eu.vn.cloud.tesla.com/",
    "cn": "https://fleet-api.prd.cn.vn.cloud.tesla.cn/",
}
BASE_URL_ENVS = {region: f"TESLAPY_FLEET_{region.upper()}_BASE_URL" for region in REGIONS}
AUTH_BASE_URL = "https://fleet-auth.prd.vn.cloud.tesla.com/"
AUTH_BASE_URL_ENV = "TESLAPY_FLEET_AUTH_BASE_URL"
#: The page, followed by the app's domain, where a car's owner approves the app's key.
PAIRING_URL = "https://tesla.com/_ak/"
PAIRING_URL_ENV = "TESLAPY_FLEET_PAIRING_URL"
#: Hosts a 421 answer may send a client to, besides the configured regions' hosts.
TESLA_HOST_SUFFIXES = (".tesla.com", ".tesla.cn", ".teslamotors.com")

_URL = re.compile(r"https?://[^\s,;'\"<>()]+", re.IGNORECASE)


def with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def setting(given: Optional[str], env_name: str, default: str) -> str:
    """A URL setting: the argument, else the environment variable, else Tesla's, with a slash."""
    return with_slash(given or os.environ.get(env_name) or default)


def base_urls(given: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Each region's base URL: from ``given``, else the environment, else Tesla's.

    Raises:
        ValueError: ``given`` names a region that does not exist.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(REGIONS))
    if unknown:
        raise ValueError(f"unknown Fleet API region(s) {unknown}; the regions are "
                         f"{', '.join(REGIONS)}")
    return {region: setting(given.get(region), BASE_URL_ENVS[region], BASE_URLS[region])
            for region in REGIONS}


def check_region(region: str) -> str:
    """``region`` if it is one of :data:`REGIONS`.

    Raises:
        ValueError: it is not.
    """
    if region not in REGIONS:
        raise ValueError(f"unknown Fleet API region {region!r}; choose one of "
                         f"{', '.join(REGIONS)}")
    return region


def _origin(url: str) -> Tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def region_of(url: str, bases: Mapping[str, str]) -> Optional[str]:
    """The region whose base URL has the scheme and host of ``url``, or None."""
    for region, base in bases.items():
        if _origin(base) == _origin(url):
            return region
    return None


def trusted_base(url: str, bases: Mapping[str, str]) -> Optional[str]:
    """``url`` as a base URL a client may switch to, or None.

    A configured region's host (its base URL is returned), or an https host of
    Tesla's (``*.tesla.com``, ``*.tesla.cn``, ``*.teslamotors.com``), as Tesla's own
    client accepts. Anything else is refused: a 421 must not send the token elsewhere.
    """
    region = region_of(url, bases)
    if region is not None:
        return bases[region]
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https" or not host.endswith(TESLA_HOST_SUFFIXES) \
            or parts.username is not None or parts.password is not None:
        return None
    return f"https://{parts.netloc.lower()}/"


def base_from_refusal(text: str, bases: Mapping[str, str]) -> Optional[str]:
    """The base URL a 421 answer's text names (``... use base URL: https://...``), if trusted.

    A configured region's URL is taken first, then a Tesla Fleet API host
    (``fleet-api.*``); links to documentation in the same text are not bases.
    """
    found = [match.group(0).rstrip(".") for match in _URL.finditer(text or "")]
    for url in found:
        if region_of(url, bases) is not None:
            return trusted_base(url, bases)
    for url in found:
        base = trusted_base(url, bases)
        if base is not None and (urlsplit(base).hostname or "").startswith("fleet-api."):
            return base
    return None
