"""Fixtures of the app tests: the apps aimed at the simulator of today's rules."""
from __future__ import annotations

import contextlib

import pytest

from app_helpers import ScriptedBrowser


@pytest.fixture
def browser(sim_2026):
    """A browser that signs in on the 2026 simulator's page when an app opens it there."""
    return ScriptedBrowser(sim_2026.ca_file)


@pytest.fixture
def demo_cars_wake_at_once(monkeypatch):
    """In-process demos (--demo) whose asleep cars come online as soon as they are woken."""
    from teslapy_apps import common

    started = common.demo_cloud

    @contextlib.contextmanager
    def quick_demo_cloud():
        with started() as simulator:
            for vehicle in simulator.world.vehicles:
                vehicle.wake_delay = 0
            yield simulator

    monkeypatch.setattr(common, "demo_cloud", quick_demo_cloud)
