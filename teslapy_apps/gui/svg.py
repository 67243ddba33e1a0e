"""Draw an SVG document (the login captcha) as a Pillow image.

cairosvg is used when it is installed and its libcairo loads; otherwise the SVG's
rectangles, lines, circles and text are drawn with Pillow, which is enough for a
captcha.
"""
from __future__ import annotations

import io
import logging
import re
import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import PIL.Image

logger = logging.getLogger(__name__)


def _number(text: Optional[str], default: float = 0.0, whole: float = 0.0) -> float:
    """An SVG length as a number; a percentage is taken of ``whole``."""
    match = re.match(r"\s*(-?(?:\d+\.?\d*|\.\d+))\s*(%?)", text or "")
    if not match:
        return default
    value = float(match.group(1))
    return value * whole / 100 if match.group(2) else value


def render_svg(svg: bytes, scale: float = 2.0) -> "PIL.Image.Image":
    """A Pillow image of an SVG: cairosvg when it is usable, else a drawing of its
    rectangles, lines, circles and text (enough for a captcha).

    Raises ImportError without Pillow; ValueError for a document that is not SVG.
    """
    from PIL import Image, ImageDraw, ImageFont

    try:
        import cairosvg  # type: ignore[import-not-found]
        return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg, scale=scale)))
    except Exception:                       # cairosvg or its libcairo missing: draw it ourselves
        logger.debug("cairosvg unavailable, drawing the SVG with Pillow", exc_info=True)
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise ValueError("The captcha is not a valid SVG document: %s" % error) from error
    view_box = [_number(v) for v in (root.get("viewBox") or "").replace(",", " ").split()]
    width = _number(root.get("width"), view_box[2] if len(view_box) == 4 else 150)
    height = _number(root.get("height"), view_box[3] if len(view_box) == 4 else 50)
    sx = sy = scale
    if len(view_box) == 4 and view_box[2] and view_box[3]:
        sx, sy = scale * width / view_box[2], scale * height / view_box[3]
    image = Image.new("RGB", (max(1, int(width * scale)), max(1, int(height * scale))), "white")
    draw = ImageDraw.Draw(image)

    def colour(element, attribute: str, default: Optional[str]) -> Optional[str]:
        value = element.get(attribute, default)
        if value in (None, "none", "transparent"):
            return None
        try:
            from PIL import ImageColor
            ImageColor.getrgb(value)
            return value
        except ValueError:
            return default

    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "rect":
            x, y = _number(element.get("x")) * sx, _number(element.get("y")) * sy
            w = _number(element.get("width"), width, width) * sx
            h = _number(element.get("height"), height, height) * sy
            draw.rectangle((x, y, x + w, y + h), fill=colour(element, "fill", "black"))
        elif tag == "line":
            draw.line((_number(element.get("x1")) * sx, _number(element.get("y1")) * sy,
                       _number(element.get("x2")) * sx, _number(element.get("y2")) * sy),
                      fill=colour(element, "stroke", "black"),
                      width=max(1, int(_number(element.get("stroke-width"), 1) * sx)))
        elif tag == "circle":
            cx, cy = _number(element.get("cx")) * sx, _number(element.get("cy")) * sy
            r = _number(element.get("r")) * sx
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour(element, "fill", "black"))
        elif tag == "text":
            text = "".join(element.itertext()).strip()
            size = _number(element.get("font-size"), 20) * sy
            try:
                font = ImageFont.load_default(size)
            except TypeError:               # Pillow < 10.1 has one bitmap size
                font = ImageFont.load_default()
            draw.text((_number(element.get("x")) * sx, _number(element.get("y")) * sy), text,
                      fill=colour(element, "fill", "black"), font=font, anchor="ls")
    return image
