"""Cars that drive: move a car with a route along its loop of waypoints over time."""
from __future__ import annotations

from teslasim.state import VehicleState


def advance(vehicle: VehicleState, now: float) -> None:
    """Update drive, charge and odometer values of a driving car to time ``now``."""
