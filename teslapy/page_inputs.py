"""The ``<input>`` fields of an HTML page, read with :mod:`html.parser`.

A module of its own so that ``html.parser`` is imported only when a sign-in page is
read (:func:`teslapy.auth.parse_form`), not with the package.
"""
from __future__ import annotations

from html.parser import HTMLParser
from typing import Dict, List, Optional, Tuple


class InputCollector(HTMLParser):
    """Collects every ``<input>`` outside scripts: name -> value (missing value = "")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inputs: Dict[str, str] = {}
        self.input_count = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag.lower() != "input":
            return
        self.input_count += 1
        fields = dict(attrs)
        name = fields.get("name")
        if name:
            self.inputs[name] = fields.get("value") or ""

    handle_startendtag = handle_starttag
