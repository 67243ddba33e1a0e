"""Charging cars in the simulator: energy, level, range and time to full add up."""
from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teslasim import charging
from teslasim.state import Clock, VehicleState, World
from teslasim.vehicle_commands import execute

START = 1_700_000_000.0
HOUR = 3600.0


class StoppedClock(Clock):
    """A clock that moves only when told, so elapsed times are exact."""

    def now(self) -> float:
        return START + self.offset


def demo() -> World:
    return World.demo(clock=StoppedClock())


def car_named(world: World, name: str) -> VehicleState:
    return next(v for v in world.vehicles if v.data["display_name"] == name)


def read(world: World, car: VehicleState) -> dict:
    """The car's charge state as a client reading it now would see it."""
    world.refresh_vehicle(car)
    return copy.deepcopy(car.data["charge_state"])


def command(world: World, car: VehicleState, name: str, **params) -> tuple:
    world.refresh_vehicle(car)          # as the Owner API does before every command
    return execute(name, world, car.owner, car, params)


def full_range(before: dict) -> float:
    """The rated range of a full pack, from what one reading shows."""
    return before["battery_range"] / before["battery_level"] * 100


def assert_range_follows_level(charge: dict, full: float) -> None:
    """The range is the full range times the state of charge, whose whole percent is the level.

    (Ranges are shown to 0.01 mi, so the percent they give is off by a hair either way.)
    """
    percent = charge["battery_range"] / full * 100
    assert percent - 1.01 < charge["battery_level"] <= percent + 0.01
    assert charge["usable_battery_level"] == charge["battery_level"]


# -- at rest -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Tim's Tesla", "Nikola", "Road Runner", "Second Signal",
                                  "Shanghai Express"])
def test_the_demo_fleet_already_agrees_with_the_model(name):
    world = demo()
    car = car_named(world, name)
    before = copy.deepcopy(car.data["charge_state"])
    charging.advance(car, START)             # no time passes: nothing may change
    assert car.data["charge_state"] == before
    assert_range_follows_level(before, car.pack.rated_miles)
    if before["charging_state"] == "Charging":
        assert car.data["drive_state"]["power"] == -before["charger_power"]


# -- AC: volts x amps x phases -----------------------------------------------------------

def test_an_hour_on_ac_adds_power_times_time_and_the_rest_follows():
    world = demo()
    car = car_named(world, "Second Signal")
    before = read(world, car)
    kw = before["charger_voltage"] * before["charger_actual_current"] \
        * before["charger_phases"] / 1000
    assert kw == pytest.approx(7.68)
    assert before["charger_power"] == round(kw)
    assert not before["fast_charger_present"]

    world.clock.advance(HOUR)
    after = read(world, car)

    added = after["charge_energy_added"] - before["charge_energy_added"]
    assert added == pytest.approx(kw * 1, abs=0.01)                   # energy = power x time
    miles_per_kwh = car.pack.rated_miles / car.pack_kwh
    gained = after["battery_range"] - before["battery_range"]
    assert gained == pytest.approx(added * miles_per_kwh, abs=0.02)
    assert after["charge_miles_added_rated"] - before["charge_miles_added_rated"] \
        == pytest.approx(gained, abs=0.1)
    assert after["charge_rate"] == pytest.approx(kw * miles_per_kwh, abs=0.05)
    assert after["battery_level"] == 52 + math.floor(added / car.pack_kwh * 100)
    assert_range_follows_level(after, full_range(before))
    # time to full: what is left up to the limit at this power, rounded up as a countdown
    left = after["charge_limit_soc"] / 100 * car.pack_kwh - after["battery_range"] / miles_per_kwh
    hours = left / kw
    assert hours - 1e-3 <= after["time_to_full_charge"] < hours + 0.01 + 1e-3
    assert hours * 60 - 0.1 <= after["minutes_to_full_charge"] < hours * 60 + 1.1
    assert after["charging_state"] == "Charging"
    assert car.data["drive_state"]["power"] == -after["charger_power"]


def test_an_ac_car_stops_at_its_limit_and_draws_nothing_after():
    world = demo()
    car = car_named(world, "Second Signal")
    before = read(world, car)
    world.clock.advance(10 * HOUR)
    done = read(world, car)
    assert done["charging_state"] == "Complete"
    assert done["battery_level"] == done["charge_limit_soc"] == 80
    assert (done["charger_power"], done["charger_actual_current"], done["charge_rate"]) \
        == (0, 0, 0.0)
    assert (done["minutes_to_full_charge"], done["time_to_full_charge"]) == (0, 0.0)
    assert car.data["drive_state"]["power"] == 0
    needed = (80 - 52) / 100 * car.pack_kwh
    assert done["charge_energy_added"] - before["charge_energy_added"] \
        == pytest.approx(needed, abs=0.01)
    world.clock.advance(HOUR)
    assert read(world, car) == done


# -- DC fast charging, reported as Tesla does --------------------------------------------

def test_supercharging_keeps_teslas_reporting_and_adds_its_power():
    world = demo()
    car = car_named(world, "Tim's Tesla")
    before = read(world, car)
    assert before["fast_charger_present"] is True
    assert (before["charger_power"], before["charger_voltage"],
            before["charger_actual_current"], before["charger_phases"]) == (100, 2, 0, None)
    assert car.data["drive_state"]["power"] == -100

    world.clock.advance(600)
    after = read(world, car)
    added = after["charge_energy_added"] - before["charge_energy_added"]
    assert added == pytest.approx(100 * 600 / HOUR, abs=0.01)
    assert (after["charger_power"], after["charger_voltage"],
            after["charger_actual_current"]) == (100, 2, 0)
    assert_range_follows_level(after, full_range(before))
    assert after["minutes_to_full_charge"] < before["minutes_to_full_charge"]


def test_an_hour_of_supercharging_ends_complete_at_the_limit():
    world = demo()
    car = car_named(world, "Tim's Tesla")
    before = read(world, car)
    world.clock.advance(HOUR)
    after = read(world, car)
    assert after["charging_state"] == "Complete"
    assert after["battery_level"] == after["charge_limit_soc"] == 90
    # range is proportional to level: the same full range before and after
    assert full_range(after) == pytest.approx(full_range(before), rel=1e-3)
    needed = (90 - 44) / 100 * car.pack_kwh
    added = after["charge_energy_added"] - before["charge_energy_added"]
    assert added == pytest.approx(needed, abs=0.01)
    assert needed < 100 * 1                    # it did not take the whole hour
    assert after["charger_power"] == 0 and car.data["drive_state"]["power"] == 0


def test_charging_does_not_depend_on_how_often_the_car_is_read():
    often, once = demo(), demo()
    polled, left = car_named(often, "Second Signal"), car_named(once, "Second Signal")
    read(often, polled)
    read(once, left)
    for _ in range(37):
        often.clock.advance(97)
        read(often, polled)
    once.clock.advance(37 * 97)
    mine, theirs = read(often, polled), read(once, left)
    assert mine.keys() == theirs.keys()
    for key, value in theirs.items():
        if isinstance(value, float):
            assert mine[key] == pytest.approx(value, abs=0.011), key
        else:
            assert mine[key] == value, key


def test_a_charging_car_stays_awake_and_sleeps_only_once_idle_after_its_limit():
    world = demo()
    world.settings.vehicle_idle_sleep = 600
    car = car_named(world, "Second Signal")
    before = read(world, car)
    world.clock.advance(HOUR)                   # nobody polls it, but it charges
    assert world.refresh_vehicle(car) == "online"
    assert car.data["charge_state"]["charge_energy_added"] \
        == pytest.approx(before["charge_energy_added"] + 7.68, abs=0.01)
    hours_left = before["time_to_full_charge"] - 1
    world.clock.advance(hours_left * HOUR + 500)   # complete, idle for 500 s
    assert world.refresh_vehicle(car) == "online"
    assert car.data["charge_state"]["charging_state"] == "Complete"
    world.clock.advance(200)
    assert world.refresh_vehicle(car) == "asleep"


# -- commands drive the same model --------------------------------------------------------

def test_fewer_amps_charge_slower_from_the_moment_they_are_set():
    world = demo()
    car = car_named(world, "Second Signal")
    start = read(world, car)["charge_energy_added"]
    world.clock.advance(HOUR / 2)
    assert command(world, car, "set_charging_amps", charging_amps=16) == (True, "")
    charge = read(world, car)
    assert (charge["charger_actual_current"], charge["charger_power"]) == (16, 4)
    world.clock.advance(HOUR / 2)
    added = read(world, car)["charge_energy_added"] - start
    assert added == pytest.approx(7.68 / 2 + 3.84 / 2, abs=0.01)


def test_the_charger_caps_what_the_car_asks_for():
    world = demo()
    car = car_named(world, "Shanghai Express")      # a 48 A car on a 32 A home charger
    assert command(world, car, "set_charging_amps", charging_amps=40) == (True, "")
    charge = read(world, car)
    assert charge["charge_current_request"] == 40
    assert (charge["charger_actual_current"], charge["charger_power"]) == (32, 7)


def test_amps_do_not_change_a_fast_charger():
    world = demo()
    car = car_named(world, "Tim's Tesla")
    assert command(world, car, "set_charging_amps", charging_amps=5) == (True, "")
    charge = read(world, car)
    assert (charge["charger_power"], charge["charger_actual_current"]) == (100, 0)


def test_stop_freezes_the_charge_and_start_resumes_at_the_same_power():
    world = demo()
    car = car_named(world, "Tim's Tesla")
    assert command(world, car, "charge_stop") == (True, "")
    stopped = read(world, car)
    assert (stopped["charging_state"], stopped["charger_power"]) == ("Stopped", 0)
    world.clock.advance(HOUR)
    assert read(world, car) == stopped
    assert command(world, car, "charge_start") == (True, "")
    world.clock.advance(60)
    resumed = read(world, car)
    assert resumed["charging_state"] == "Charging" and resumed["charger_power"] == 100
    assert resumed["charge_energy_added"] == pytest.approx(
        stopped["charge_energy_added"] + 100 / 60, abs=0.01)


def test_a_limit_below_the_level_completes_and_a_higher_one_resumes():
    world = demo()
    car = car_named(world, "Second Signal")
    assert command(world, car, "set_charge_limit", percent=50) == (True, "")
    charge = read(world, car)
    assert (charge["charging_state"], charge["charger_power"]) == ("Complete", 0)
    assert command(world, car, "charge_start") == (False, "complete")
    assert command(world, car, "set_charge_limit", percent=90) == (True, "")
    charge = read(world, car)
    assert (charge["charging_state"], charge["charger_power"]) == ("Charging", 8)
    left = (90 - 52) / 100 * car.pack_kwh
    assert charge["time_to_full_charge"] == pytest.approx(left / 7.68, abs=0.01)


# -- nothing goes out of range, whatever is asked --------------------------------------------

ACTIONS = st.one_of(
    st.tuples(st.just("wait"), st.floats(0, 30_000)),
    st.tuples(st.just("set_charge_limit"), st.integers(-10, 130)),
    st.tuples(st.just("set_charging_amps"), st.integers(-5, 80)),
    st.tuples(st.sampled_from(["charge_start", "charge_stop", "charge_max_range",
                               "charge_standard"]), st.none()),
)
PARAMETER = {"set_charge_limit": "percent", "set_charging_amps": "charging_amps"}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["Tim's Tesla", "Road Runner", "Second Signal", "Shanghai Express"]),
       st.lists(ACTIONS, max_size=12))
def test_no_number_ever_leaves_its_range(name, actions):
    world = demo()
    car = car_named(world, name)
    first = read(world, car)
    full, highest, added = car.pack.rated_miles, first["battery_level"], 0.0
    for action, value in actions:
        if action == "wait":
            world.clock.advance(value)
        else:
            params = {PARAMETER[action]: value} if action in PARAMETER else {}
            command(world, car, action, **params)
        charge = read(world, car)
        limit = charge["charge_limit_soc"]
        highest = max(highest, limit)
        assert 0 <= charge["battery_level"] <= 100
        assert charge["battery_level"] <= max(first["battery_level"], highest)
        assert_range_follows_level(charge, full)
        assert charge["est_battery_range"] == pytest.approx(
            charge["battery_range"] * car.pack.est_miles / full, abs=0.02)
        assert min(charge["battery_range"], charge["ideal_battery_range"],
                   charge["est_battery_range"]) >= 0
        assert charge["charge_energy_added"] >= added >= 0      # never negative, never lost
        added = charge["charge_energy_added"]
        assert charge["charger_power"] >= 0 and charge["charge_rate"] >= 0
        assert charge["minutes_to_full_charge"] >= 0 and charge["time_to_full_charge"] >= 0
        if charge["charging_state"] == "Charging":
            assert charge["battery_level"] < limit
        else:
            assert charge["charger_power"] == 0 and charge["minutes_to_full_charge"] == 0


# -- as a user sees it, over the wire ------------------------------------------------------------

def test_a_client_watching_for_an_hour_sees_the_numbers_add_up(tesla, world):
    car = next(v for v in tesla.vehicle_list() if v["display_name"] == "Tim's Tesla")
    before = copy.deepcopy(car.get_vehicle_data()["charge_state"])
    miles_per_kwh = before["charge_rate"] / before["charger_power"]
    for _ in range(6):                          # a look every ten minutes
        world.clock.advance(HOUR / 6)
        after = car.get_vehicle_data()["charge_state"]
    assert after["charging_state"] == "Complete"
    assert after["battery_level"] == after["charge_limit_soc"]
    assert full_range(after) == pytest.approx(full_range(before), rel=2e-3)
    added = after["charge_energy_added"] - before["charge_energy_added"]
    gained = after["battery_range"] - before["battery_range"]
    assert gained == pytest.approx(added * miles_per_kwh, rel=2e-3)
    assert after["charge_miles_added_rated"] - before["charge_miles_added_rated"] \
        == pytest.approx(gained, abs=0.2)
    # the time to full it showed was right: that energy at that power
    assert before["time_to_full_charge"] == pytest.approx(added / before["charger_power"],
                                                          abs=0.01)
    assert car["drive_state"]["power"] == 0
