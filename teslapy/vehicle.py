"""Vehicle: a car's data as a dict, with methods for reads, commands and wake-up."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teslapy._types import JsonDict

if TYPE_CHECKING:
    from teslapy.session import Tesla


class Vehicle(JsonDict):
    """A car on the account; holds the API's vehicle object and data groups."""

    def __init__(self, data: dict, tesla: "Tesla") -> None:
        super().__init__(data)
        self.tesla = tesla
