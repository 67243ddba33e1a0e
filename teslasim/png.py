"""A small PNG encoder and the car pictures the simulated compositor draws.

:func:`encode_rgb` writes 8-bit RGB PNGs with ``zlib`` and ``struct`` only.
:func:`render_car` paints a flat car silhouette row by row: each row is a background
row with a few coloured spans pasted in by slice assignment, so even large images
take a few milliseconds. The body outline depends on the model and view, the paint
colour on the paint option code, the rim colour and a stripe under the car on the
wheel code, the seats on the interior code, and a thin strip of marks near the
bottom on the whole option set. Codes outside those families (``PC30``, ``WR00``)
never colour anything.
"""
from __future__ import annotations

import functools
import logging
import math
import struct
import zlib
from typing import Iterable, Sequence

logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Colour = tuple  # (r, g, b)

MODELS = ("ms", "mx", "m3", "my")
VIEWS = ("STUD_3QTR", "STUD_3QTR_V2", "STUD_SIDE", "STUD_REAR", "STUD_SEAT", "STUD_WHEEL")
# Every paint, wheel and interior code of Tesla's option code table; other codes
# (PC30 "no performance chassis", WR00 "no wrap", ...) never colour the picture.
PAINT_COLOURS = {
    "PBCW": (236, 236, 236),     # solid white
    "PBSB": (22, 22, 24),        # solid black
    "PMAB": (112, 82, 62),       # anza brown metallic
    "PMBL": (16, 16, 20),        # obsidian black multi-coat
    "PMMB": (40, 70, 130),       # monterey blue metallic
    "PMNG": (92, 95, 102),       # midnight silver metallic
    "PMSG": (48, 88, 68),        # green metallic
    "PMSS": (190, 193, 194),     # san simeon silver metallic
    "PMTG": (118, 122, 126),     # dolphin grey metallic
    "PN00": (160, 162, 164),     # quicksilver
    "PN01": (70, 72, 76),        # stealth grey
    "PPMR": (162, 18, 28),       # red multi-coat
    "PPSB": (30, 56, 104),       # deep blue metallic
    "PPSR": (150, 14, 22),       # signature red
    "PPSW": (240, 240, 236),     # pearl white multi-coat
    "PPTI": (140, 136, 128),     # titanium metallic
    "PR00": (90, 16, 30),        # midnight cherry red
    "PR01": (182, 20, 32),       # ultra red
}
DEFAULT_PAINT = (150, 150, 154)
_BLACK_SEATS, _WHITE_SEATS = (20, 20, 20), (232, 230, 224)
INTERIOR_COLOURS = {
    **dict.fromkeys(("IN3PB", "IN3BB", "INPB0", "INPB1", "INYPB", "INFBP", "INBFP", "INBPP",
                     "INBTB", "INLPP", "S3PB", "S32P"), _BLACK_SEATS),
    **dict.fromkeys(("IN3PW", "IN3BW", "INPW0", "INPW1", "INYPW", "INBPW", "INBBW",
                     "INBC3W", "S3PW"), _WHITE_SEATS),
    "INLPC": (226, 214, 188), "INB3C": (226, 214, 188),      # cream
    "INWPT": (176, 130, 92),                                 # tan
}
DEFAULT_INTERIOR = (48, 44, 42)
_SILVER, _GREY, _DARK = (200, 200, 204), (128, 130, 134), (40, 40, 44)
WHEEL_COLOURS = {
    "W38B": (170, 172, 176), "W39B": (60, 62, 66), "W40B": (210, 212, 215),
    "W41B": _DARK, "W38A": (184, 186, 190), "W39S": (96, 98, 102),
    **dict.fromkeys(("WTAS", "WT19", "WT20", "WT22", "WTSS", "WTSP", "WS90"), _SILVER),
    **dict.fromkeys(("WTDS", "WTSD", "WTTG", "WTHX", "WTX1", "WY18B", "WY19B", "WY9S",
                     "W32P", "WX00", "WS10"), _GREY),
    **dict.fromkeys(("WTAB", "WTD2", "WTSC", "WTSG", "WTTB", "WTTC", "WTUT", "W30P", "W32D",
                     "W33D", "WY0S", "WY1S", "WY20P", "WX20"), _DARK),
}
DEFAULT_WHEEL = (120, 122, 126)
TYRE = (28, 28, 30)
GLASS = (60, 72, 86)


class ImageError(ValueError):
    """An image request the compositor cannot draw."""


def _chunk(kind: bytes, payload: bytes) -> bytes:
    checksum = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)


def encode_rgb(width: int, height: int, rows: Iterable[bytes]) -> bytes:
    """A PNG of ``height`` rows of ``width`` RGB pixels (each row ``3 * width`` bytes).

    Raises ``ValueError`` for a non-positive size or a row of the wrong length.
    """
    if width < 1 or height < 1:
        raise ValueError("a PNG needs at least one pixel")
    raw = bytearray()
    count = 0
    for row in rows:
        if len(row) != 3 * width:
            raise ValueError(f"row {count} has {len(row)} bytes, expected {3 * width}")
        raw += b"\x00"          # filter type: none
        raw += row
        count += 1
    if count != height:
        raise ValueError(f"got {count} rows, expected {height}")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + _chunk(b"IEND", b""))


# -- the picture ------------------------------------------------------------------

def _colour_for(codes: Sequence[str], table: dict, default: Colour) -> Colour:
    """The colour of the first of ``codes`` that ``table`` knows, else ``default``."""
    return next((table[code] for code in codes if code in table), default)


# Body outlines: (top of roof, top of bonnet/boot, bottom of body) as fractions of the
# height, roof start/end and body start/end as fractions of the width, per model.
_SIDE_SHAPES = {
    "m3": (0.30, 0.50, 0.78, 0.34, 0.70, 0.08, 0.92),
    "ms": (0.31, 0.50, 0.78, 0.30, 0.74, 0.05, 0.95),
    "my": (0.24, 0.48, 0.80, 0.30, 0.78, 0.08, 0.92),
    "mx": (0.20, 0.47, 0.81, 0.26, 0.82, 0.05, 0.95),
}

_MODEL_SHIFT = {"m3": 0.0, "ms": 0.02, "my": 0.04, "mx": 0.06}


def _span(row: bytearray, x0: float, x1: float, colour: Colour, width: int) -> None:
    start = max(0, min(width, int(round(x0))))
    end = max(0, min(width, int(round(x1))))
    if end > start:
        row[3 * start:3 * end] = bytes(colour) * (end - start)


def _disc_spans(y: int, cx: float, cy: float, radius: float) -> tuple[float, float] | None:
    dy = y + 0.5 - cy
    if abs(dy) >= radius:
        return None
    half = math.sqrt(radius * radius - dy * dy)
    return cx - half, cx + half


def _paint_side(row: bytearray, y: int, width: int, height: int, model: str, paint: Colour,
                rim: Colour, skew: float) -> None:
    roof, waist, bottom, roof0, roof1, body0, body1 = _SIDE_SHAPES[model]
    fy = (y + 0.5) / height
    if roof <= fy < waist:
        # the cabin narrows towards the roof; ``skew`` leans it for the 3/4 view
        t = (waist - fy) / (waist - roof)
        left = roof0 - 0.12 * (1 - t) + skew * t
        right = roof1 + 0.10 * (1 - t) + skew * t
        _span(row, left * width, right * width, paint, width)
        _span(row, (left + 0.03) * width, (right - 0.03) * width, GLASS, width)
    elif waist <= fy < bottom:
        inset = 0.02 * max(0.0, (fy - waist) / (bottom - waist) - 0.6) * 10
        _span(row, (body0 + inset) * width, (body1 - inset) * width, paint, width)
    radius = 0.13 * height
    for centre in (0.25 if model != "ms" else 0.22, 0.76 if model != "ms" else 0.79):
        cx, cy = centre * width, bottom * height
        tyre = _disc_spans(y, cx, cy, radius)
        if tyre:
            _span(row, tyre[0], tyre[1], TYRE, width)
            hub = _disc_spans(y, cx, cy, radius * 0.6)
            if hub:
                _span(row, hub[0], hub[1], rim, width)


def _paint_rear(row: bytearray, y: int, width: int, height: int, model: str, paint: Colour,
                rim: Colour) -> None:
    roof, waist, bottom = _SIDE_SHAPES[model][:3]
    fy = (y + 0.5) / height
    half_body = {"m3": 0.30, "ms": 0.31, "my": 0.32, "mx": 0.34}[model]
    if roof <= fy < waist:
        t = (fy - roof) / (waist - roof)
        half = half_body * (0.55 + 0.4 * t)
        _span(row, (0.5 - half) * width, (0.5 + half) * width, paint, width)
        _span(row, (0.5 - half + 0.03) * width, (0.5 + half - 0.03) * width, GLASS, width)
    elif waist <= fy < bottom:
        _span(row, (0.5 - half_body) * width, (0.5 + half_body) * width, paint, width)
        if waist + 0.05 <= fy < waist + 0.09:
            _span(row, (0.5 - half_body + 0.02) * width, (0.5 - half_body + 0.1) * width,
                  (200, 20, 20), width)
            _span(row, (0.5 + half_body - 0.1) * width, (0.5 + half_body - 0.02) * width,
                  (200, 20, 20), width)
    if bottom <= fy < bottom + 0.08:
        for x in (0.5 - half_body + 0.02, 0.5 + half_body - 0.1):
            _span(row, x * width, (x + 0.08) * width, TYRE, width)
            _span(row, (x + 0.03) * width, (x + 0.05) * width, rim, width)


def _paint_seat(row: bytearray, y: int, width: int, height: int, model: str, interior: Colour,
                paint: Colour) -> None:
    fy = (y + 0.5) / height - _MODEL_SHIFT[model]
    seats = 3 if model in ("mx", "my") else 2
    if 0.05 <= fy < 0.1:
        _span(row, 0.0, width, paint, width)
    for n in range(seats):
        left = 0.12 + n * (0.76 / seats)
        seat_width = 0.76 / seats - 0.06
        if 0.2 <= fy < 0.55:
            _span(row, left * width, (left + seat_width) * width, interior, width)
        elif 0.55 <= fy < 0.8:
            _span(row, (left - 0.02) * width, (left + seat_width + 0.02) * width, interior,
                  width)


def _paint_wheel(row: bytearray, y: int, width: int, height: int, model: str, rim: Colour,
                 paint: Colour) -> None:
    cx, cy = width / 2, height / 2
    radius = (0.40 + _MODEL_SHIFT[model]) * height
    for scale, colour in ((1.0, TYRE), (0.72, rim), (0.2, paint)):
        spans = _disc_spans(y, cx, cy, radius * scale)
        if spans:
            _span(row, spans[0], spans[1], colour, width)


@functools.lru_cache(maxsize=64)
def render_car(model: str, view: str, size: int, options: tuple[str, ...] = (),
               plain_background: bool = True) -> bytes:
    """A PNG of a car, ``size`` wide and ``size * 9 // 16`` (at least 1) high.

    Raises :class:`ImageError` for an unknown model or view or a size outside 1..2048.
    """
    if model not in MODELS:
        raise ImageError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    if view not in VIEWS:
        raise ImageError(f"unknown view {view!r}; use one of {', '.join(VIEWS)}")
    if not 1 <= size <= 2048:
        raise ImageError("size must be a whole number from 1 to 2048")
    width, height = size, max(1, size * 9 // 16)
    codes = [code.strip().lstrip("$").upper() for code in options if code.strip()]
    paint = _colour_for(codes, PAINT_COLOURS, DEFAULT_PAINT)
    rim = _colour_for(codes, WHEEL_COLOURS, DEFAULT_WHEEL)
    interior = _colour_for(codes, INTERIOR_COLOURS, DEFAULT_INTERIOR)
    background = (255, 255, 255) if plain_background else (226, 230, 236)
    blank = bytes(background) * width
    signature = zlib.crc32(",".join(sorted(codes)).encode())
    marks = bytearray(blank)
    for bit in range(32):
        if signature >> bit & 1:
            _span(marks, width * bit / 32, width * (bit + 0.5) / 32, (200, 204, 210), width)
    rows, marked = [], False
    for y in range(height):
        row = bytearray(blank)
        fy = (y + 0.5) / height
        if view in ("STUD_3QTR", "STUD_3QTR_V2", "STUD_SIDE"):
            skew = {"STUD_3QTR": 0.06, "STUD_3QTR_V2": 0.09}.get(view, 0.0)
            _paint_side(row, y, width, height, model, paint, rim, skew)
            if 0.93 <= fy < 0.955:
                _span(row, 0.1 * width, 0.9 * width, rim, width)
        elif view == "STUD_REAR":
            _paint_rear(row, y, width, height, model, paint, rim)
            if 0.93 <= fy < 0.955:
                _span(row, 0.2 * width, 0.8 * width, rim, width)
        elif view == "STUD_SEAT":
            _paint_seat(row, y, width, height, model, interior, paint)
        else:
            _paint_wheel(row, y, width, height, model, rim, paint)
        if 0.97 <= fy < 0.99 or (y == height - 1 and height > 2 and not marked):
            row, marked = marks, True
        rows.append(bytes(row))
    return encode_rgb(width, height, rows)
