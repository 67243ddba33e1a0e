"""``Vehicle.command`` over the Fleet API: signed where the car needs it, REST where not.

End to end over real sockets: the library signs, the simulated Fleet API carries the
message, the simulated car checks it and runs the command on the state the REST
commands change, and its answer comes back authenticated.
"""
from __future__ import annotations

import threading

import pytest

import teslapy
from teslapy.vcp import (CommandRefusedError, KeyNotPairedError, MobileAccessDisabledError,
                         SignedCommandError)
from teslapy.vcp.messages import Domain
from tests.fleet.conftest import NIKOLA, TIM, car, pair_in_the_app


@pytest.fixture
def ready(sim, signed_in, register, key_file):
    """A session with a command key the demo app registered; Tim's Tesla has it paired."""
    register(key_file)
    pair_in_the_app(sim, TIM).raise_for_status()
    return signed_in(command_key=key_file)


def runs(sim) -> list:
    return [(run.vin, run.name, run.result) for run in sim.world.fleet.signed_runs]


def test_signed_honk_and_lock_run_on_the_car(sim, ready):
    tim = car(ready, TIM)
    assert tim.get_vehicle_data()["vehicle_state"]["locked"] is False
    assert tim.command("HONK_HORN") is True
    assert tim.command("LOCK") is True
    assert tim.get_vehicle_data()["vehicle_state"]["locked"] is True
    assert tim.command("UNLOCK") is True
    assert runs(sim) == [(TIM, "honk_horn", True), (TIM, "door_lock", True),
                         (TIM, "door_unlock", True)]
    assert tim.get_vehicle_data()["vehicle_state"]["locked"] is False


def test_without_a_key_the_same_command_is_refused_as_unsigned(sim, ready, make_fleet):
    plain = make_fleet()                               # same account, cached tokens, no key
    with pytest.raises(teslapy.CommandProtocolRequiredError):
        car(plain, TIM).command("HONK_HORN")
    assert runs(sim) == []


def test_a_car_without_the_protocol_gets_rest_commands_after_one_422(sim, ready):
    sim.world.vehicles[1].data["state"] = "online"     # Nikola, a 2017 Model S
    signed = sim.faults.add(service="fleet_na", path=r"/signed_command$", status=None,
                            times=None)
    rest = sim.faults.add(service="fleet_na", path=r"/command/flash_lights$", status=None,
                          times=None)
    nikola = car(ready, NIKOLA)
    assert nikola.command("FLASH_LIGHTS") is True
    assert nikola.command("FLASH_LIGHTS") is True
    assert (signed.hits, rest.hits) == (1, 2)          # one 422, then REST only
    assert runs(sim) == []


def test_commands_the_protocol_does_not_carry_stay_rest(sim, ready):
    signed = sim.faults.add(service="fleet_na", path=r"/signed_command$", status=None,
                            times=None)
    assert car(ready, TIM).command("SHARE_TO_VEHICLE", type="share_ext_content_raw",
                                   value={"android.intent.extra.TEXT": "Tesla HQ"},
                                   locale="en-US", timestamp_ms=0) is True
    assert signed.hits == 0


def test_an_unpaired_key_says_to_open_the_pairing_link_and_works_once_paired(sim, signed_in,
                                                                              register, key_file):
    register(key_file)
    tesla = signed_in(command_key=key_file)
    road_runner = next(car for car in tesla.vehicle_list() if car["display_name"] == "Road Runner")
    with pytest.raises(KeyNotPairedError) as refused:
        road_runner.command("HONK_HORN")
    link = sim.urls["fleet_pairing_url"] + "teslapy-demo.example.com"
    assert link in str(refused.value) and "Road Runner" in str(refused.value)
    assert isinstance(refused.value, teslapy.VehicleError)
    pair_in_the_app(sim, road_runner["vin"]).raise_for_status()
    assert road_runner.command("HONK_HORN") is True


def test_a_refusal_reads_as_the_rest_reason(sim, ready):
    tim = car(ready, TIM)
    limit = tim.get_vehicle_data()["charge_state"]["charge_limit_soc"]
    with pytest.raises(CommandRefusedError) as refused:
        tim.command("CHANGE_CHARGE_LIMIT", percent=limit)
    assert str(refused.value) == refused.value.reason == "already_set"
    with pytest.raises(ValueError, match="percent"):
        tim.command("CHANGE_CHARGE_LIMIT")
    assert tim.command("CHANGE_CHARGE_LIMIT", percent=limit - 5) is True
    assert tim.get_vehicle_data()["charge_state"]["charge_limit_soc"] == limit - 5


def test_the_session_recovers_when_the_car_restarts_or_its_clock_moves(sim, ready):
    tim = car(ready, TIM)
    assert tim.command("HONK_HORN") is True
    sim.world.fleet.security(TIM).domains[Domain.INFOTAINMENT].restart()   # a new epoch
    assert tim.command("HONK_HORN") is True
    sim.world.clock.advance(3600)                       # commands signed now look expired
    sim.world.vehicles[0].last_polled = sim.world.clock.now()
    assert tim.command("FLASH_LIGHTS") is True
    assert [name for _vin, name, _ok in runs(sim)] == ["honk_horn", "honk_horn", "flash_lights"]


def test_mobile_access_off_and_a_busy_car_are_typed_errors(sim, ready):
    tim = car(ready, TIM)
    security = sim.world.fleet.security(TIM)
    security.mobile_access = False
    with pytest.raises(MobileAccessDisabledError, match="Allow Mobile Access"):
        tim.command("HONK_HORN")
    security.mobile_access = True
    security.domains[Domain.VEHICLE_SECURITY].busy = True
    with pytest.raises(SignedCommandError, match="busy"):
        tim.command("LOCK")
    assert runs(sim) == []


def test_an_asleep_car_answers_408_as_for_rest(sim, ready):
    sim.world.vehicles[0].data["state"] = "asleep"
    with pytest.raises(teslapy.VehicleUnavailableError):
        car(ready, TIM).command("HONK_HORN")


def test_commands_from_many_threads_all_run_once(sim, ready):
    tim = car(ready, TIM)
    errors = []

    def honk():
        try:
            tim.command("HONK_HORN")
            tim.command("LOCK")
        except Exception as error:      # reported below
            errors.append(error)

    threads = [threading.Thread(target=honk) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(name for _vin, name, _ok in runs(sim)) == ["door_lock"] * 6 + ["honk_horn"] * 6
