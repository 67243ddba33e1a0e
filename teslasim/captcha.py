"""Image captchas: a random answer drawn as an SVG a person can read and a program must parse.

Each character sits in its own ``<text>`` element, shifted and rotated a little, over
noise lines and dots. The answer uses letters and digits that are hard to confuse.
"""
from __future__ import annotations

import logging
import random
import secrets
from xml.sax.saxutils import escape

logger = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 4
WIDTH = 150
HEIGHT = 50
COLOURS = ("#222", "#0b3d91", "#7a1f1f", "#1f5e2c", "#5b2a86")


def new_answer(length: int = LENGTH) -> str:
    """A fresh random captcha answer."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def render_svg(answer: str, seed: int | None = None) -> str:
    """Draw ``answer`` as an SVG document (deterministic for a given ``seed``)."""
    rng = random.Random(seed if seed is not None else secrets.randbits(32))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0,0,{WIDTH},{HEIGHT}">',
        f'<rect width="100%" height="100%" fill="#f3f3f3"/>',
    ]
    for _ in range(5):
        x1, y1 = rng.randint(0, WIDTH), rng.randint(0, HEIGHT)
        x2, y2 = rng.randint(0, WIDTH), rng.randint(0, HEIGHT)
        colour = rng.choice(COLOURS)
        parts.append(f'<path d="M{x1} {y1} Q{rng.randint(0, WIDTH)} {rng.randint(0, HEIGHT)} '
                     f'{x2} {y2}" stroke="{colour}" stroke-width="1.5" fill="none"/>')
    for _ in range(12):
        parts.append(f'<circle cx="{rng.randint(0, WIDTH)}" cy="{rng.randint(0, HEIGHT)}" '
                     f'r="1" fill="{rng.choice(COLOURS)}"/>')
    pitch = (WIDTH - 20) / max(len(answer), 1)
    for index, char in enumerate(answer):
        x = 12 + index * pitch + rng.uniform(-3, 3)
        y = 34 + rng.uniform(-5, 5)
        angle = rng.uniform(-25, 25)
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="Verdana, sans-serif" font-size="26" '
            f'fill="{rng.choice(COLOURS)}" transform="rotate({angle:.1f} {x:.1f} {y:.1f})">'
            f'{escape(char)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def matches(expected: str | None, given: str | None) -> bool:
    """Case-insensitive comparison of a captcha answer (surrounding blanks ignored)."""
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.lower().encode(), given.strip().lower().encode())
