"""Streaming: record parsing and merging (pure), and the websocket client end to end."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import pytest
import requests

from teslapy import streaming

RECORD = "1569952097456,0,6963.1,44,12,240,52.531951,6.156999,-3,P,99,78,240"


def _vehicle(tesla, name):
    return next(v for v in tesla.vehicle_list() if v["display_name"] == name)


def _car(world, name):
    return next(v for v in world.vehicles if v.data["display_name"] == name)


# -- parsing (pure) -------------------------------------------------------------------

def test_parse_record_gives_typed_values():
    record = streaming.parse_record(RECORD)
    assert record == {
        "timestamp": 1569952097456, "speed": 0, "odometer": 6963.1, "soc": 44,
        "elevation": 12, "est_heading": 240, "est_lat": 52.531951, "est_lng": 6.156999,
        "power": -3, "shift_state": "P", "range": 99, "est_range": 78, "heading": 240,
    }
    assert [type(record[k]) for k in ("timestamp", "odometer", "est_lat", "shift_state")] \
        == [int, float, float, str]


def test_empty_fields_become_none():
    record = streaming.parse_record("1569952097456,,6963.1,44,,,52.5,6.1,,,99,78,")
    assert record["speed"] is None and record["shift_state"] is None
    assert record["elevation"] is None and record["heading"] is None
    assert record["power"] is None and record["soc"] == 44


def test_fields_of_unusual_type_keep_their_value():
    record = streaming.parse_record("1569952097456,12.5,6963,44,12,240,52.5,6.1,3.25,D,99.5,78,2e2")
    assert record["speed"] == 12.5 and isinstance(record["speed"], float)
    assert record["odometer"] == 6963 and record["power"] == 3.25
    assert record["range"] == 99.5 and record["heading"] == 200.0
    assert record["shift_state"] == "D"


def test_text_is_never_evaluated():
    record = streaming.parse_record("1569952097456,__import__('os'),1+1,44,12,240,"
                                    "52.5,6.1,-3,[1],99,78,240")
    assert record["speed"] == "__import__('os')"
    assert record["odometer"] == "1+1"
    assert record["shift_state"] == "[1]"
    assert record["soc"] == 44


def test_short_record_leaves_missing_fields_out_and_extra_fields_are_ignored():
    assert streaming.parse_record("1569952097456,5,6963.1") == {
        "timestamp": 1569952097456, "speed": 5, "odometer": 6963.1}
    long = streaming.parse_record(RECORD + ",7,8")
    assert len(long) == 13 and long["heading"] == 240


def test_merge_record_updates_drive_charge_and_vehicle_state():
    vehicle = {"drive_state": {"heading": 1, "native_type": "wgs"},
               "charge_state": {"battery_level": 90, "charging_state": "Stopped"},
               "vehicle_state": {"odometer": 1.0, "locked": True}}
    streaming.merge_record(vehicle, streaming.parse_record(RECORD))
    assert vehicle["drive_state"] == {
        "heading": 240, "native_type": "wgs", "timestamp": 1569952097456, "speed": 0,
        "latitude": 52.531951, "longitude": 6.156999, "power": -3, "shift_state": "P"}
    assert vehicle["charge_state"] == {"battery_level": 44, "charging_state": "Stopped",
                                       "ideal_battery_range": 99, "est_battery_range": 78}
    assert vehicle["vehicle_state"] == {"odometer": 6963.1, "locked": True}
    assert "elevation" not in str(vehicle)


def test_merge_creates_missing_groups_and_falls_back_to_est_heading():
    vehicle = {}
    streaming.merge_record(vehicle, streaming.parse_record(
        "1569952097456,30,10.5,50,12,123,52.5,6.1,20,D,99,78,"))
    assert vehicle["drive_state"]["heading"] == 123
    assert vehicle["drive_state"]["speed"] == 30
    assert vehicle["charge_state"]["battery_level"] == 50
    assert vehicle["vehicle_state"]["odometer"] == 10.5


def test_merge_of_a_short_record_keeps_other_values():
    vehicle = {"drive_state": {"speed": 10, "latitude": 1.0}}
    streaming.merge_record(vehicle, streaming.parse_record("1569952097456,20"))
    assert vehicle["drive_state"] == {"speed": 20, "latitude": 1.0,
                                      "timestamp": 1569952097456}


# -- end to end against the simulator -------------------------------------------------

class _Stop(Exception):
    """Raised by a test callback to leave the stream."""


def test_stream_of_a_driving_car_delivers_updates_until_ctrl_c(tesla, caplog):
    car = _vehicle(tesla, "Road Runner")
    received = []

    def callback(record):
        received.append(record)
        if len(received) == 3:
            raise KeyboardInterrupt     # what Ctrl-C raises in the main thread

    with caplog.at_level(logging.DEBUG):
        car.stream(callback)            # returns instead of raising
    assert len(received) == 3
    for record in received:
        assert set(record) == set(streaming.FIELDS)
        assert isinstance(record["timestamp"], int)
        assert isinstance(record["est_lat"], float) and isinstance(record["est_lng"], float)
        assert isinstance(record["soc"], int)
    assert any(r["shift_state"] == "D" for r in received)
    assert received[0] != received[-1]          # the car moves
    last = received[-1]
    assert car["drive_state"]["latitude"] == last["est_lat"]
    assert car["drive_state"]["longitude"] == last["est_lng"]
    assert car["drive_state"]["speed"] == last["speed"]
    assert car["drive_state"]["timestamp"] == last["timestamp"]
    assert car["charge_state"]["battery_level"] == last["soc"]
    assert car["charge_state"]["est_battery_range"] == last["est_range"]
    assert car["vehicle_state"]["odometer"] == last["odometer"]
    assert tesla.token["access_token"] not in caplog.text


def test_parked_car_stream_ends_after_the_idle_timeout(tesla, world):
    world.settings.stream_idle_timeout = 0.3
    car = _vehicle(tesla, "Tim's Tesla")
    received = []
    car.stream(received.append)         # returns by itself: vehicle_disconnected
    assert len(received) >= 1           # the current record on subscribing
    assert car["drive_state"]["latitude"] == received[-1]["est_lat"]
    assert car["charge_state"]["battery_level"] == received[-1]["soc"] == 44


def test_retry_reconnects_that_many_times(tesla, sim, world):
    world.settings.stream_idle_timeout = 0.2
    connections = sim.faults.add(service="streaming", status=None, times=None)
    car = _vehicle(tesla, "Tim's Tesla")
    received = []
    car.stream(received.append, retry=2)
    assert connections.hits == 3
    assert len(received) >= 3           # each subscription starts with the current record


def test_indefinitely_reconnects_past_the_retry_count_until_ctrl_c(tesla, sim, world):
    world.settings.stream_idle_timeout = 0.1
    connections = sim.faults.add(service="streaming", status=None, times=None)
    car = _vehicle(tesla, "Tim's Tesla")
    received = []

    def callback(record):
        received.append(record)
        if len(received) == 4:
            raise KeyboardInterrupt

    car.stream(callback, retry=1, indefinitely=True)
    assert len(received) == 4
    assert connections.hits >= 3              # more than retry=1 alone would allow


def test_extra_keyword_arguments_go_to_the_websocket_run_loop(tesla):
    car = _vehicle(tesla, "Road Runner")
    # websocket-client refuses a ping timeout that is not shorter than the interval
    with pytest.raises(streaming.websocket.WebSocketException, match="ping_interval"):
        car.stream(ping_interval=1, ping_timeout=5)


def test_bad_token_gives_data_error_and_ends(tesla, world, caplog):
    car = _vehicle(tesla, "Road Runner")
    world.expire_bearers()              # the client still believes its token is valid
    received = []
    with caplog.at_level(logging.INFO, logger="teslapy.streaming"):
        car.stream(received.append)
    assert received == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "Can't validate token" in errors[-1].getMessage()
    assert tesla.token["access_token"] not in caplog.text


def test_asleep_car_streams_nothing_and_stays_asleep(tesla, world):
    world.settings.stream_idle_timeout = 0.3
    car = _vehicle(tesla, "Nikola")
    received = []
    car.stream(received.append)
    assert received == []
    assert car.get_vehicle_summary()["state"] == "asleep"


def test_callback_errors_close_the_stream_and_propagate(tesla):
    car = _vehicle(tesla, "Road Runner")

    def callback(record):
        raise _Stop(record["timestamp"])

    with pytest.raises(_Stop):
        car.stream(callback, retry=5)


def test_a_failed_token_refresh_closes_the_stream_and_propagates(tesla, sim):
    car = _vehicle(tesla, "Road Runner")
    tesla.token["created_at"] = 1             # long expired: subscribing refreshes first
    refreshes = sim.faults.add(service="sso", status=503, times=None)
    with pytest.raises(requests.HTTPError, match="503"):
        car.stream(retry=3)
    assert refreshes.hits >= 1


def test_vehicle_without_vehicle_id_cannot_stream(tesla):
    car = _vehicle(tesla, "Road Runner")
    del car["vehicle_id"]
    with pytest.raises(ValueError, match="vehicle_id"):
        car.stream()


def test_unreachable_streaming_server_raises_after_the_retries(tesla):
    car = _vehicle(tesla, "Road Runner")
    tesla.streaming_base_url = "ws://127.0.0.1:9/streaming/"
    with pytest.raises((OSError, streaming.websocket.WebSocketException)):
        car.stream(ping_interval=0)


STREAM_SCRIPT = r"""
import sys
import teslapy

with teslapy.Tesla("elon@tesla.com", "starship", cache_file=sys.argv[1]) as tesla:
    car = next(v for v in tesla.vehicle_list() if v["display_name"] == "Road Runner")
    car.stream(lambda record: print("update", record["est_lat"], flush=True), retry=3)
    print("stream returned", flush=True)
"""


def test_ctrl_c_stops_the_stream_cleanly(sim_env, cache_file):
    process = subprocess.Popen(
        [sys.executable, "-c", STREAM_SCRIPT, cache_file], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, **sim_env})
    try:
        first = process.stdout.readline()
        assert first.startswith("update ")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.rstrip().endswith("stream returned")
    assert "Traceback" not in err
