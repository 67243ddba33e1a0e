"""Which cars take only signed commands (the Vehicle Command Protocol), told from the VIN.

Tesla's Owner API refuses unsigned REST commands to every Model 3 and Model Y, and
to Model S and X of model year 2021 or later; older S and X still take them. Sending a
destination (``share``) stays a REST command for every car: the protocol does not carry it.
"""
from __future__ import annotations

#: VIN position 10 of model years 2021 (``M``) to 2039 (``9``): the 30-year cycle's second half.
MODEL_YEARS_FROM_2021 = frozenset("MNPRSTVWXY123456789")
#: VIN position 4 of the models whose older cars still take unsigned commands.
LEGACY_MODELS = frozenset("SX")
#: Commands every car takes unsigned (Tesla's command proxy sends them as REST too).
REST_ONLY_COMMANDS = frozenset({"share"})


def needs_command_protocol(vin: str) -> bool:
    """Whether the car with ``vin`` takes only signed commands.

    Model S and X (VIN position 4) of model year 2021 or later (position 10 ``M`` to
    ``Y`` or ``1`` to ``9``) need them, older ones do not; every other model (3, Y and
    anything newer) needs them. Only positions 4 and 10 decide; never raises.
    """
    model, year = vin[3:4], vin[9:10]
    if model in LEGACY_MODELS:
        return year in MODEL_YEARS_FROM_2021
    return True
