"""The measured figures of the reliability suite, printed at the end of the pytest run.

A test records a figure here; the suite's conftest attaches it to that test's report,
so the table is printed by the process that reports (the xdist controller included).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

#: Figures recorded by the running test and not yet attached to its report.
_PENDING: Dict[str, str] = {}
#: The key under which a figure travels in a report's ``user_properties``.
REPORT_KEY = "reliability figure"


def record(what: str, figure: str) -> None:
    """Keep ``figure`` for the summary under ``what`` (a later figure replaces an earlier one)."""
    _PENDING[what] = figure


def take() -> List[Tuple[str, str]]:
    """The figures recorded since the last call, as ``(what, figure)`` pairs."""
    pairs = list(_PENDING.items())
    _PENDING.clear()
    return pairs
