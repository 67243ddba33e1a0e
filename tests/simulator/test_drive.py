"""Driving cars in the simulator: motion follows the clock, plausibly and reproducibly."""
from __future__ import annotations

import copy

import pytest

from teslasim import drive
from teslasim.state import World

START = 1_700_000_000.0


def _road_runner(world: World):
    return next(v for v in world.vehicles if v.data["display_name"] == "Road Runner")


def _snapshot(vehicle) -> dict:
    return {group: copy.deepcopy(vehicle.data[group])
            for group in ("drive_state", "charge_state", "vehicle_state")}


@pytest.fixture
def car():
    return _road_runner(World.demo())


def test_a_driving_car_moves_along_its_route_with_the_clock(car):
    drive.advance(car, START)
    before = _snapshot(car)
    drive.advance(car, START + 60)
    after = _snapshot(car)

    moved = drive.haversine_miles(
        (before["drive_state"]["latitude"], before["drive_state"]["longitude"]),
        (after["drive_state"]["latitude"], after["drive_state"]["longitude"]))
    # a minute at 20..45 mph covers 1/3..3/4 of a mile (less in a straight line at a corner)
    assert 0.05 < moved < 0.8
    odometer_gain = after["vehicle_state"]["odometer"] - before["vehicle_state"]["odometer"]
    assert 20 / 60 <= odometer_gain <= 45 / 60
    assert after["drive_state"]["shift_state"] == "D"
    assert 20 <= after["drive_state"]["speed"] <= 45
    assert 0 <= after["drive_state"]["heading"] < 360
    assert after["drive_state"]["gps_as_of"] == int(START + 60)
    assert after["drive_state"]["timestamp"] == int((START + 60) * 1000)
    assert after["charge_state"]["timestamp"] == int((START + 60) * 1000)


def test_speed_varies_within_a_plausible_band():
    speeds = {drive.speed_mph(START + second) for second in range(0, 600, 5)}
    assert min(speeds) >= 20 and max(speeds) <= 45
    assert max(speeds) - min(speeds) > 10


def test_the_battery_drains_while_driving(car):
    drive.advance(car, START)
    level = car.data["charge_state"]["battery_level"]
    ranges = [car.data["charge_state"][key]
              for key in ("battery_range", "est_battery_range", "ideal_battery_range")]
    drive.advance(car, START + 3600)
    charge = car.data["charge_state"]
    assert charge["battery_level"] < level
    assert charge["usable_battery_level"] == charge["battery_level"]
    assert all(charge[key] < old for key, old in zip(
        ("battery_range", "est_battery_range", "ideal_battery_range"), ranges))


def test_the_car_stays_near_its_route(car):
    lats = [p[0] for p in car.route]
    lons = [p[1] for p in car.route]
    drive.advance(car, START)
    for minute in range(0, 120, 7):
        drive.advance(car, START + 60 * minute)
        state = car.data["drive_state"]
        assert min(lats) - 1e-6 <= state["latitude"] <= max(lats) + 1e-6
        assert min(lons) - 1e-6 <= state["longitude"] <= max(lons) + 1e-6


def test_motion_is_deterministic_and_independent_of_polling(car):
    other = _road_runner(World.demo())
    drive.advance(car, START)
    drive.advance(other, START)
    for step in range(1, 50):                 # one car is polled often, the other once
        drive.advance(car, START + step * 7.3)
    drive.advance(other, START + 49 * 7.3)
    assert _snapshot(car) == _snapshot(other)


def test_a_parked_car_does_not_move():
    world = World.demo()
    parked = next(v for v in world.vehicles if v.data["display_name"] == "Tim's Tesla")
    before = _snapshot(parked)
    drive.advance(parked, START)
    drive.advance(parked, START + 3600)
    assert _snapshot(parked) == before


def test_a_car_whose_route_is_removed_parks_where_it_is(car):
    drive.advance(car, START)
    drive.advance(car, START + 120)
    position = (car.data["drive_state"]["latitude"], car.data["drive_state"]["longitude"])
    car.route = None
    drive.advance(car, START + 180)
    drive.advance(car, START + 600)
    state = car.data["drive_state"]
    assert (state["latitude"], state["longitude"]) == position
    assert state["speed"] is None and state["shift_state"] == "P" and state["power"] == 0


def test_refresh_moves_a_driving_car_with_the_world_clock():
    world = World.demo()
    car = _road_runner(world)
    world.refresh_vehicle(car)
    odometer = car.data["vehicle_state"]["odometer"]
    world.clock.advance(600)
    assert world.refresh_vehicle(car) == "online"
    assert car.data["vehicle_state"]["odometer"] > odometer + 3


def test_position_on_route_rejects_an_empty_route():
    with pytest.raises(ValueError):
        drive.position_on_route([], 1.0)
