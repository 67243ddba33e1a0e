"""Routes of the simulated compositor service."""
from __future__ import annotations

ROUTES: list = []
