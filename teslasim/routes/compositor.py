"""Routes of the simulated compositor service: PNG pictures of cars, no sign-in needed.

``GET /v1/compositor/?model=m3&view=STUD_3QTR&size=640&options=PBSB,W39B&bkba_opt=1``
answers a PNG ``size`` pixels wide and ``size * 9 // 16`` high (see
:func:`teslasim.png.render_car`). An unknown model or view, or a size that is not a
whole number from 1 to 2048, answers 400 with Tesla's JSON error envelope.
"""
from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teslasim.png import ImageError, render_car

logger = logging.getLogger(__name__)

DEFAULT_VIEW = "STUD_3QTR"
DEFAULT_SIZE = 640
LARGE_IMAGE = 1024          # drawn off the event loop from this width on


async def compose(request: Request) -> Response:
    """Draw the requested car picture."""
    query = request.query_params
    model = query.get("model", "").strip().lower()
    view = query.get("view", DEFAULT_VIEW).strip().upper() or DEFAULT_VIEW
    size_text = query.get("size", str(DEFAULT_SIZE)).strip()
    try:
        size = int(size_text)
    except ValueError:
        raise HTTPException(400, f"invalid size {size_text!r}: use a whole number of pixels "
                                 "from 1 to 2048") from None
    options = tuple(code for code in query.get("options", "").split(",") if code.strip())
    plain = query.get("bkba_opt", "1").strip() == "1"
    try:
        if size >= LARGE_IMAGE:
            image = await run_in_threadpool(render_car, model, view, size, options, plain)
        else:
            image = render_car(model, view, size, options, plain)
    except ImageError as error:
        raise HTTPException(400, str(error)) from None
    return Response(image, media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


ROUTES: list = [Route("/v1/compositor/", compose, methods=["GET", "HEAD"], name="compositor")]
