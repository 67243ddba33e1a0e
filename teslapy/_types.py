"""Shared types: the JSON dict the API returns and aliases for user hooks."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Union

Token = Dict[str, Any]
Cache = Dict[str, Any]
CacheLoader = Callable[[], Cache]
CacheDumper = Callable[[Cache], None]
PasscodeGetter = Callable[[], str]
FactorSelector = Callable[[List[dict]], Union[dict, str]]
CaptchaSolver = Callable[[bytes], str]
#: Takes the authorize URL, returns the URL the browser ended on (or the bare code).
Authenticator = Callable[[str], str]
#: Called with the SSO token dict whenever the tokens change.
TokenUpdater = Callable[[Token], None]


class JsonDict(dict):
    """A dict that prints itself as indented JSON."""

    def __str__(self) -> str:
        return json.dumps(self, indent=4)
