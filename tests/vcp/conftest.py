"""Fixtures for the signed-command tests: a client key, a simulated car and a link to it."""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import pytest

from teslapy.vcp.keys import generate_private_key, public_key_bytes
from teslasim.state import Clock
from teslasim.vehicle_security import CarAnswer, VehicleSecurity

VIN = "5YJ3E111111111111"


class Link:
    """Carries messages between a session and a simulated car, as the Fleet API would.

    Every request and answer is kept; ``tamper`` may rewrite a request on its way to the
    car, ``outcome`` is what the car reports after running an accepted command.
    """

    def __init__(self, car: VehicleSecurity) -> None:
        self.car = car
        self.requests: List[bytes] = []
        self.answers: List[CarAnswer] = []
        self.tamper: Optional[Callable[[bytes], bytes]] = None
        self.outcome: Tuple[bool, str] = (True, "")

    def __call__(self, data: bytes) -> bytes:
        if self.tamper is not None:
            data = self.tamper(data)
        self.requests.append(data)
        answer = self.car.handle(data)
        self.answers.append(answer)
        return answer.reply(*self.outcome)

    @property
    def commands(self) -> list:
        """The payloads the car accepted, in order."""
        return [answer.command for answer in self.answers if answer.command is not None]

    @property
    def faults(self) -> List[int]:
        return [answer.fault for answer in self.answers if answer.fault]


@pytest.fixture
def car_clock() -> Clock:
    return Clock()


@pytest.fixture
def client_key():
    return generate_private_key()


@pytest.fixture
def car(car_clock, client_key) -> VehicleSecurity:
    """A simulated car that has the client key paired."""
    vehicle = VehicleSecurity(VIN, now=car_clock.now)
    vehicle.pair(public_key_bytes(client_key))
    return vehicle


@pytest.fixture
def link(car) -> Link:
    return Link(car)
