"""The named Owner API endpoints, read once from the packaged ``endpoints.json``.

Each entry of the file is ``NAME -> {"TYPE": method, "URI": path relative to the API
base, "AUTH": bearer required, "CONTENT": reply type when it is not JSON}``. URI
placeholders such as ``{vehicle_id}`` are filled from the caller's path variables.
"""
from __future__ import annotations

import functools
import json
import logging
import string
from importlib import resources
from typing import Any, Dict, List, Mapping, NamedTuple, Optional
from urllib.parse import quote

logger = logging.getLogger(__name__)

JSON_CONTENT = "JSON"
#: Endpoints whose reply is not JSON although the table gives no CONTENT.
NOT_JSON = frozenset({"STATUS"})


class Endpoint(NamedTuple):
    """One named endpoint: HTTP method, URI template, bearer required, reply type."""

    method: str
    uri: str
    auth: bool
    content: str = JSON_CONTENT

    @property
    def is_json(self) -> bool:
        """Whether the reply is a JSON document teslapy can return."""
        return self.content.upper() == JSON_CONTENT

    def path_variables(self) -> List[str]:
        """The placeholder names in the URI, in order (``['vehicle_id']``)."""
        return [field for _, field, _, _ in string.Formatter().parse(self.uri) if field]


@functools.lru_cache(maxsize=None)
def endpoint_table() -> Dict[str, Dict[str, Any]]:
    """The packaged ``endpoints.json`` as read: name -> ``{"TYPE", "URI", "AUTH", ...}``."""
    text = resources.files("teslapy").joinpath("endpoints.json").read_text("utf-8")
    table: Dict[str, Dict[str, Any]] = json.loads(text)
    return table


@functools.lru_cache(maxsize=None)
def all_endpoints() -> Dict[str, Endpoint]:
    """Every endpoint by name, read from the packaged ``endpoints.json`` on first use."""
    table = {}
    for name, entry in endpoint_table().items():
        table[name] = Endpoint(
            method=entry["TYPE"].upper(),
            uri=entry["URI"],
            auth=bool(entry.get("AUTH", True)),
            content=entry.get("CONTENT") or JSON_CONTENT,
        )
    logger.debug("Loaded %d endpoints", len(table))
    return table


def get_endpoint(name: str) -> Endpoint:
    """The endpoint called ``name``.

    Raises:
        ValueError: no endpoint has that name.
    """
    try:
        return all_endpoints()[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown endpoint name {name}") from None


def path_segment(name: str, field: str, value: object) -> str:
    """``value`` as one percent-encoded path segment (``? # %`` and the rest encoded).

    Raises:
        ValueError: the value is empty, ``.`` or ``..``, or holds a ``/`` (a segment
            that would change which endpoint is called; servers that decode ``%2F``
            before routing, as Starlette does, would split it).
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{name} path variable {field} cannot be {text!r}")
    if "/" in text:
        raise ValueError(f"{name} path variable {field} cannot hold a '/' ({text!r})")
    return quote(text, safe="")


def format_uri(name: str, path_vars: Optional[Mapping[str, object]] = None) -> str:
    """The URI of endpoint ``name`` with its placeholders filled from ``path_vars``.

    Each value stays inside its own path segment: it is percent-encoded, and a value
    holding a ``/`` (``123/command/door_unlock#``) is refused, so no value can reach
    another endpoint. Extra path variables are ignored.

    Raises:
        ValueError: unknown endpoint name, a placeholder without a value
            (``'VEHICLE_DATA requires path variable vehicle_id'``), or a value that is
            empty, ``.`` or ``..`` or holds a ``/``.
    """
    endpoint = get_endpoint(name)
    values = dict(path_vars or {})
    segments = {}
    for field in endpoint.path_variables():
        if values.get(field) is None:
            raise ValueError(f"{name} requires path variable {field}")
        segments[field] = path_segment(name, field, values[field])
    return endpoint.uri.format(**segments)
