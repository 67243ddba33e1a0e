"""Which of a car's data groups a ``vehicle_data`` call returns (its ``endpoints`` parameter).

``endpoints`` is a list separated by ``;`` (``charge_state;location_data``). Groups the
simulated cars keep are returned when named (``vehicle_data_combo`` names them all);
the car's location (the position fields of ``drive_state``) comes only with
``location_data``, and on the Fleet API only for a token with the ``vehicle_location``
scope. Without ``endpoints`` the Owner API returns every group with the location, the
Fleet API every group without it (as cars since firmware 2023.38 do).
"""
from __future__ import annotations

from typing import Optional

from teslasim.errors import ModelError
from teslasim.state import DATA_GROUPS

ENDPOINTS = frozenset(DATA_GROUPS) | {"closures_state", "location_data",
                                      "charge_schedule_data",
                                      "preconditioning_schedule_data", "vehicle_data_combo"}
LOCATION_FIELDS = frozenset({"latitude", "longitude", "heading", "native_latitude",
                             "native_longitude", "native_location_supported", "native_type",
                             "gps_as_of", "corrected_latitude", "corrected_longitude"})


def requested(endpoints: Optional[str]) -> Optional[frozenset]:
    """The endpoint names of an ``endpoints`` value (None when not given).

    Raises:
        ModelError: 400 naming an unknown endpoint.
    """
    if endpoints is None:
        return None
    names = frozenset(name.strip() for name in endpoints.split(";") if name.strip())
    unknown = sorted(names - ENDPOINTS)
    if unknown:
        raise ModelError(400, f"invalid_field: unknown vehicle data endpoint {unknown[0]!r}")
    return names


def select(data: dict, names: Optional[frozenset], fleet: bool, may_locate: bool) -> dict:
    """``data`` (a full vehicle_data answer, changed in place) with only what was asked for."""
    wanted = set(DATA_GROUPS) if names is None or "vehicle_data_combo" in names \
        else names & set(DATA_GROUPS)
    located = may_locate and ((names is None and not fleet)
                              or (names is not None and "location_data" in names))
    drive_state = data.get("drive_state")
    for group in DATA_GROUPS:
        if group not in wanted:
            data.pop(group, None)
    if not isinstance(drive_state, dict):
        return data
    if located:
        position = {key: value for key, value in drive_state.items() if key in LOCATION_FIELDS}
        data["drive_state"] = {**data.get("drive_state", {}), **position}
    elif "drive_state" in data:
        data["drive_state"] = {key: value for key, value in drive_state.items()
                               if key not in LOCATION_FIELDS}
    return data
