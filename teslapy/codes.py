"""Vehicle codes: VIN decoding, option code descriptions and display units.

Everything here is pure (no I/O besides reading the packaged ``option_codes.json``
once), so ``Vehicle`` and the apps can share it and tests need no server.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, List, Optional

logger = logging.getLogger(__name__)

MANUFACTURER = "Tesla Motors, Inc."
UNKNOWN = "Unknown"
VIN_LENGTH = 17
# Characters a VIN may contain: digits and capitals without I, O and Q.
VIN_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")

# Position 5: body style and driving side.
VIN_BODY_TYPES = {
    "A": "Hatchback 5 Dr / LHD",
    "B": "Hatchback 5 Dr / RHD",
    "C": "MPV / 5 Dr / LHD",
    "D": "MPV / 5 Dr / RHD",
    "E": "Sedan 4 Dr / LHD",
    "F": "Sedan 4 Dr / RHD",
    "G": "MPV / 5 Dr / LHD",
}
# Position 7: battery.
VIN_BATTERY_TYPES = {
    "E": "Electric",
    "H": "High Capacity",
    "S": "Standard Capacity",
    "V": "Ultra Capacity",
}
# Position 8: drive unit.
VIN_DRIVE_UNITS = {
    "1": "Single Motor",
    "2": "Dual Motor",
    "3": "Performance Single Motor",
    "4": "Performance Dual Motor",
    "A": "Single Motor",
    "B": "Dual Motor",
    "C": "Base, Tier 2",
    "F": "Performance Dual Motor",
    "G": "Base, Tier 4",
    "N": "Base, Tier 7",
    "P": "Performance, Tier 7",
}
# Position 10: model year, 2009 plus the character's index in this sequence.
VIN_YEAR_SEQUENCE = "9ABCDEFGHJKLMNPRSTVWXY12345678"
VIN_FIRST_YEAR = 2009
# Position 11: assembly plant.
VIN_PLANTS = {
    "C": "Shanghai, China",
    "F": "Fremont, CA, USA",
    "P": "Palo Alto, CA, USA",
}

KM_PER_MILE = 1.609344


# -- VIN --------------------------------------------------------------------------

def check_vin(vin: object) -> str:
    """Return ``vin`` upper-cased after checking that it can be a VIN.

    Raises ``ValueError`` when it is not a 17-character string of VIN characters
    (digits and capital letters other than I, O and Q).
    """
    if not isinstance(vin, str):
        raise ValueError(f"VIN must be a string, not {type(vin).__name__}")
    text = vin.strip().upper()
    if len(text) != VIN_LENGTH:
        raise ValueError(f"VIN {vin!r} has {len(text)} characters; a VIN has {VIN_LENGTH}")
    bad = sorted(set(text) - VIN_ALPHABET)
    if bad:
        raise ValueError(f"VIN {vin!r} contains {', '.join(map(repr, bad))}, "
                         "which never occur in a VIN")
    return text


def model_year(character: str) -> int:
    """Return the model year that a VIN's 10th character stands for.

    Raises ``ValueError`` for characters that are never used as a year code
    (0, I, O, Q, U, Z).
    """
    index = VIN_YEAR_SEQUENCE.find(character.upper()) if len(character) == 1 else -1
    if index < 0:
        raise ValueError(f"{character!r} is not a model year code (VIN position 10)")
    return VIN_FIRST_YEAR + index


def decode_vin(vin: object) -> Dict[str, str]:
    """Decode a Tesla VIN into manufacturer, make, body, battery, drive, year and plant.

    Characters missing from the position tables decode as ``'Unknown'``; ``year`` is
    a string such as ``'2031'``.

    Raises ``ValueError`` for a malformed VIN (see :func:`check_vin`) or an
    impossible model year character.
    """
    text = check_vin(vin)
    return {
        "manufacturer": MANUFACTURER,
        "make": "Model " + text[3],
        "body_type": VIN_BODY_TYPES.get(text[4], UNKNOWN),
        "battery_type": VIN_BATTERY_TYPES.get(text[6], UNKNOWN),
        "drive_unit": VIN_DRIVE_UNITS.get(text[7], UNKNOWN),
        "year": str(model_year(text[9])),
        "plant_code": VIN_PLANTS.get(text[10], UNKNOWN),
    }


def compositor_model(vin: object) -> str:
    """Return the image compositor's model name for a VIN: ``'m'`` + 4th character.

    Raises ``ValueError`` for a malformed VIN.
    """
    return "m" + check_vin(vin)[3].lower()


# -- option codes -------------------------------------------------------------------

@lru_cache(maxsize=1)
def option_codes() -> Dict[str, str]:
    """Return the packaged option code table (code -> description), read once."""
    text = resources.files("teslapy").joinpath("option_codes.json").read_text("utf-8")
    table: Dict[str, str] = json.loads(text)
    return table


def split_option_codes(codes: Optional[str]) -> List[str]:
    """Split a vehicle's comma-separated ``option_codes`` string into codes."""
    if not codes:
        return []
    return [code.strip() for code in codes.split(",") if code.strip()]


def describe_option_codes(codes: Optional[str]) -> List[str]:
    """Return descriptions of the known codes in ``codes``, in the vehicle's order.

    Unknown codes are skipped; ``None`` or an empty string gives an empty list.
    """
    table = option_codes()
    return [table[code] for code in split_option_codes(codes) if code in table]


# -- units --------------------------------------------------------------------------

def uses_kilometres(gui_settings: Dict[str, Any]) -> bool:
    """True when the car's GUI shows distances in kilometres."""
    return "km" in str(gui_settings.get("gui_distance_units") or "")


def uses_fahrenheit(gui_settings: Dict[str, Any]) -> bool:
    """True when the car's GUI shows temperatures in Fahrenheit."""
    return str(gui_settings.get("gui_temperature_units") or "").upper() == "F"


def format_distance(miles: Optional[float], kilometres: bool,
                    speed: bool = False) -> Optional[str]:
    """Format a distance in miles (or a speed in mph) for display.

    One decimal and the unit: ``'160.9 km'``, ``'100.0 mi'``, and with ``speed``
    ``'160.9 km/h'`` or ``'100.0 mi/h'``. ``None`` passes through.
    """
    if miles is None:
        return None
    value = float(miles) * KM_PER_MILE if kilometres else float(miles)
    unit = "km" if kilometres else "mi"
    return f"{value:.1f} {unit}/h" if speed else f"{value:.1f} {unit}"


def format_temperature(celsius: Optional[float], fahrenheit: bool) -> Optional[str]:
    """Format a temperature in degrees Celsius for display.

    One decimal and the unit letter: ``'21.0 C'`` or ``'69.8 F'``. ``None`` passes
    through.
    """
    if celsius is None:
        return None
    if fahrenheit:
        return f"{float(celsius) * 9 / 5 + 32:.1f} F"
    return f"{float(celsius):.1f} C"
