"""The error the simulator's domain models raise; the apps render it as Tesla's envelope.

Models (:mod:`teslasim.vehicle_commands`, :mod:`teslasim.energy_model`) know nothing
of HTTP frameworks: they raise a :class:`ModelError` subclass carrying the status to
answer, and one handler in :mod:`teslasim.app` turns it into
``{"response": null, "error": "<message>", "error_description": ""}``.
"""
from __future__ import annotations


class ModelError(Exception):
    """A request a simulated product refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
