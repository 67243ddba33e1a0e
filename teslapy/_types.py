"""Shared types: the JSON dict the API returns, what a bearer token is, aliases for user hooks."""
from __future__ import annotations

import json
import re
from typing import Any, Callable, ContextManager, Dict, List, Union

Token = Dict[str, Any]
Cache = Dict[str, Any]
CacheLoader = Callable[[], Cache]
CacheDumper = Callable[[Cache], None]
#: Returns a context manager holding a lock on the cache store, across processes.
CacheLock = Callable[[], ContextManager[None]]
PasscodeGetter = Callable[[], str]
FactorSelector = Callable[[List[Dict[str, Any]]], Union[Dict[str, Any], str]]
CaptchaSolver = Callable[[bytes], str]
#: Takes the authorize URL, returns the URL the browser ended on (or the bare code).
Authenticator = Callable[[str], str]
#: Called with the SSO token dict whenever the tokens change.
TokenUpdater = Callable[[Token], None]


#: What RFC 6750 allows as a bearer token (``b64token``); Tesla's tokens are JWTs.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def is_bearer_token(value: Any) -> bool:
    """Whether ``value`` can be sent as ``Authorization: Bearer <value>`` (RFC 6750)."""
    return isinstance(value, str) and _BEARER_TOKEN.fullmatch(value) is not None


#: Keys whose values are secrets: a repr shows them as ``'***'``.
SECRET_KEYS = frozenset({"tokens", "access_token", "refresh_token", "id_token", "password",
                         "backseat_token"})


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: "***" if key in SECRET_KEYS and item is not None else _masked(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


class JsonDict(dict):  # type: ignore[type-arg]
    """A dict that prints itself as indented JSON; its repr hides secrets."""

    def __str__(self) -> str:
        return json.dumps(self, indent=4)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_masked(dict(self))!r})"
