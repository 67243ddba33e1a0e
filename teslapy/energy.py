"""Energy products: Powerwall batteries and solar panels."""
from __future__ import annotations

from typing import TYPE_CHECKING

from teslapy._types import JsonDict

if TYPE_CHECKING:
    from teslapy.session import Tesla


class Product(JsonDict):
    """An energy product on the account (a Powerwall site or a solar site)."""

    def __init__(self, data: dict, tesla: "Tesla") -> None:
        super().__init__(data)
        self.tesla = tesla


class Battery(Product):
    """A Powerwall battery."""


class SolarPanel(Product):
    """A solar-only energy site."""
