"""The measured figures of the reliability suite, printed at the end of the pytest run."""
from __future__ import annotations

from typing import Dict

#: what was measured -> the figure, in the order the tests ran.
FIGURES: Dict[str, str] = {}


def record(what: str, figure: str) -> None:
    """Keep ``figure`` for the summary under ``what`` (a later figure replaces an earlier one)."""
    FIGURES[what] = figure
