"""The simulated compositor: real PNG pictures that depend on model, view, size and options."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
import requests
from PIL import Image

from teslasim import png


@pytest.fixture
def compose(sim):
    def fetch(**params) -> requests.Response:
        params.setdefault("bkba_opt", 1)
        return requests.get(sim.urls["compositor_url"], params=params, timeout=10)
    return fetch


def _header(data: bytes) -> tuple[int, int]:
    assert data[:8] == png.PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def test_a_png_the_size_asked_for(compose):
    reply = compose(model="m3", view="STUD_3QTR", size=640, options="PBSB,W39B")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/png"
    assert _header(reply.content) == (640, 360)
    image = Image.open(io.BytesIO(reply.content))
    image.load()                    # decodes every row: the data is a valid PNG stream
    assert image.size == (640, 360)


def test_defaults_are_the_three_quarter_view_at_640(compose):
    default = compose(model="my", options="PPSW")
    assert _header(default.content) == (640, 360)
    explicit = compose(model="my", options="PPSW", view="STUD_3QTR", size=640)
    assert default.content == explicit.content


def test_pictures_differ_by_model_view_size_and_options(compose):
    def picture(**params):
        reply = compose(**{"model": "m3", "view": "STUD_3QTR", "size": 200,
                           "options": "PBSB,W39B", **params})
        assert reply.status_code == 200, reply.text
        return reply.content

    base = picture()
    assert picture() == base
    models = {picture(model=model) for model in png.MODELS}
    views = {picture(view=view) for view in png.VIEWS}
    sizes = {picture(size=size) for size in (1, 16, 200, 333)}
    paints = {picture(options=f"{paint},W39B") for paint in ("PBSB", "PPSW", "PMNG", "PPMR")}
    wheels = {picture(options=f"PBSB,{wheel}") for wheel in ("W38B", "W39B", "W40B")}
    assert len(models) == len(png.MODELS)
    assert len(views) == len(png.VIEWS)
    assert len(sizes) == 4
    assert len(paints) == 4 and len(wheels) == 3
    assert picture(options="PBSB,W39B,APF0") != base


def test_the_paint_colour_fills_the_body(compose):
    for code, colour in (("PPMR", png.PAINT_COLOURS["PPMR"]),
                         ("PPSW", png.PAINT_COLOURS["PPSW"])):
        reply = compose(model="m3", view="STUD_SIDE", size=320, options=code)
        image = Image.open(io.BytesIO(reply.content)).convert("RGB")
        assert image.getpixel((160, int(180 * 0.6))) == colour


def test_codes_of_other_families_never_colour_the_car(compose):
    def colours(options):
        reply = compose(model="m3", view="STUD_SIDE", size=320, options=options)
        image = Image.open(io.BytesIO(reply.content)).convert("RGB")
        return image.getpixel((160, int(180 * 0.6))), image.getpixel((160, int(180 * 0.94)))

    # "no performance chassis", "no wrap", "no winter wheels": a P- and two W- codes
    assert colours("PC30,WR00,WXW2") == (png.DEFAULT_PAINT, png.DEFAULT_WHEEL)
    assert colours("PC30,WR00,PPSB,WY19B") == (png.PAINT_COLOURS["PPSB"],
                                               png.WHEEL_COLOURS["WY19B"])


@pytest.mark.parametrize("params", [
    {"model": "mz"},
    {"model": ""},
    {"model": "m3", "view": "STUD_TOP"},
    {"model": "m3", "size": "big"},
    {"model": "m3", "size": 0},
    {"model": "m3", "size": 4096},
    {"model": "m3", "size": "12.5"},
])
def test_bad_requests_answer_400_with_a_json_error(compose, params):
    reply = compose(**params)
    assert reply.status_code == 400
    body = reply.json()
    assert body["response"] is None and body["error"]


def test_encoder_writes_what_it_was_given():
    rows = [bytes([x * 40, y * 80, 7]) * 1 for y in range(3) for x in range(1)]
    data = png.encode_rgb(1, 3, rows)
    assert _header(data) == (1, 3)
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert [image.getpixel((0, y)) for y in range(3)] == [(0, 0, 7), (0, 80, 7), (0, 160, 7)]
    # chunks carry valid CRCs
    offset = 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        payload = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        offset += 12 + length


def test_encoder_rejects_rows_of_the_wrong_length():
    with pytest.raises(ValueError):
        png.encode_rgb(2, 1, [b"\x00" * 3])
    with pytest.raises(ValueError):
        png.encode_rgb(1, 2, [b"\x00" * 3])
    with pytest.raises(ValueError):
        png.encode_rgb(0, 1, [])
