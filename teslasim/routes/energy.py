"""Routes of the simulated energy service."""
from __future__ import annotations

ROUTES: list = []
