"""Read a request's parameters the way Tesla's services accept them: query, JSON or form."""
from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request


async def read_params(request: Request) -> dict:
    """The request's parameters: query string, then a JSON object or form body on top.

    GET bodies are ignored (clients attach ``{}`` to GETs). Raises ``HTTPException``
    400 for a body that is not a JSON object or not form-encoded.
    """
    params: dict = dict(request.query_params)
    if request.method in ("GET", "HEAD"):
        return params
    raw = await request.body()
    if not raw.strip():
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                                    strict_parsing=False))
        except UnicodeDecodeError:
            raise HTTPException(400, "invalid_request: form body is not UTF-8") from None
        return params
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise HTTPException(400, "invalid_request: body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "invalid_request: body must be a JSON object")
    params.update(body)
    return params
