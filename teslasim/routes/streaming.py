"""Routes of the simulated streaming service."""
from __future__ import annotations

ROUTES: list = []
