"""The car-command model on its own: which cars need signed commands, and its own errors."""
from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from teslasim.state import World
from teslasim.vehicle_commands import COMMANDS, CommandError, execute, needs_command_protocol

# VIN position 10 from 2010 on (30-year cycle); 2021 is "M", 2039 is "9".
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
LATE_YEARS = {code for index, code in enumerate(YEAR_CODES) if 2010 + index >= 2021}
VIN_TEXT = st.text(min_size=17, max_size=17)


def with_chars(vin: str, model: str, year: str) -> str:
    """``vin`` with ``model`` at position 4 and ``year`` at position 10."""
    return vin[:3] + model + vin[4:9] + year + vin[10:]


@pytest.mark.parametrize("vin, needed", [
    ("5YJ3E111111111111", True),      # the seed's Model 3
    ("5YJYGDE21MF000002", True),      # Model Y
    ("LRW3E7EK2MC000004", True),      # Model 3 built in Shanghai
    ("5YJSA1E2XHF123456", False),     # Model S, 2017
    ("5YJXCAE2XLF000001", False),     # Model X, 2020
    ("5YJSA1E2XMF123456", True),      # Model S, 2021
    ("7SAXCBE60PF000001", True),      # Model X, 2023
])
def test_known_cars(vin, needed):
    assert needs_command_protocol(vin) is needed


def test_the_year_letters_are_the_published_ones():
    assert LATE_YEARS == set("MNPRSTVWXY123456789")


@given(VIN_TEXT)
@example("")
@example("5YJS")
@example("\x00" * 17)
def test_any_text_gives_a_bool_and_never_raises(vin):
    assert needs_command_protocol(vin) in (True, False)


@given(VIN_TEXT, VIN_TEXT)
def test_only_the_model_and_year_positions_decide(vin, other):
    mixed = with_chars(other, vin[3], vin[9])
    assert needs_command_protocol(mixed) == needs_command_protocol(vin)


@given(VIN_TEXT, st.sampled_from("3Y"), st.characters())
def test_model_3_and_y_always_need_it(vin, model, year):
    assert needs_command_protocol(with_chars(vin, model, year))


@given(VIN_TEXT, st.sampled_from("SX"), st.characters())
@example("5YJSA1E2XHF123456", "S", "m")       # lower case is not a VIN year
@example("5YJSA1E2XHF123456", "S", "0")       # nor is zero
def test_model_s_and_x_need_it_from_model_year_2021(vin, model, year):
    assert needs_command_protocol(with_chars(vin, model, year)) == (year in LATE_YEARS)


# -- the model raises its own errors -------------------------------------------------------

@pytest.fixture
def tim():
    world = World.demo()
    return world, world.vehicles[0]


def test_a_bad_parameter_is_a_400_command_error(tim):
    world, car = tim
    with pytest.raises(CommandError) as raised:
        execute("set_charge_limit", world, car.owner, car, {"percent": "lots"})
    assert raised.value.status == 400
    assert raised.value.message == "invalid_request: 'percent' must be a number"
    assert car.data["charge_state"]["charge_limit_soc"] == 90


def test_a_car_in_service_refuses_every_command_with_405(tim):
    world, car = tim
    car.data["in_service"] = True
    locked = car.data["vehicle_state"]["locked"]
    for name in COMMANDS:
        with pytest.raises(CommandError) as raised:
            execute(name, world, car.owner, car, {})
        assert (raised.value.status, raised.value.message) \
            == (405, "vehicle is currently in service")
    assert car.data["vehicle_state"]["locked"] == locked


def test_a_command_changes_the_car_and_reports_its_outcome(tim):
    world, car = tim
    assert execute("door_lock", world, car.owner, car, {}) == (True, "")
    assert car.data["vehicle_state"]["locked"] is True
    assert execute("set_charge_limit", world, car.owner, car,
                   {"percent": car.data["charge_state"]["charge_limit_soc"]}) \
        == (False, "already_set")
