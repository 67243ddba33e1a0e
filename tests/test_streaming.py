"""Streaming: parsers (pure, property-based), restart delays, and the client end to end.

The end-to-end tests stream from the simulator over a real websocket; the misbehaving
servers are in ``test_streaming_faults.py``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys

import pytest
import requests
from hypothesis import given, settings, strategies as st

import teslapy
from teslapy import streaming

RECORD = "1569952097456,0,6963.1,44,12,240,52.531951,6.156999,-3,P,99,78,240"
QUICK = streaming.Backoff(first=0.001, cap=0.01, seed=1)       # restarts without waiting
QUICK_POLL = 0.05       # seconds between the simulator's looks at a streamed car
QUICK_IDLE = 0.05       # the simulator ends a subscription this long after the last change
INT_FIELDS = ("timestamp", "speed", "soc", "elevation", "est_heading", "power", "range",
              "est_range", "heading")
FLOAT_FIELDS = ("odometer", "est_lat", "est_lng")


def _vehicle(tesla, name):
    return next(v for v in tesla.vehicle_list() if v["display_name"] == name)


# -- records (pure) -------------------------------------------------------------------

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


_typed_records = st.fixed_dictionaries({
    **{name: st.one_of(st.none(), st.integers(-10**15, 10**15)) for name in INT_FIELDS},
    **{name: st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
       for name in FLOAT_FIELDS},
    "shift_state": st.sampled_from([None, "P", "D", "R", "N"]),
})


def _as_tesla_writes(record):
    return ",".join("" if record[name] is None else str(record[name])
                    for name in streaming.FIELDS)


@settings(max_examples=300)
@given(_typed_records)
def test_records_as_tesla_writes_them_parse_back_to_the_same_typed_values(record):
    parsed = streaming.parse_record(_as_tesla_writes(record))
    assert parsed == record
    assert all(type(parsed[name]) is type(record[name]) for name in streaming.FIELDS)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_text_parses_to_a_prefix_of_the_fields_with_plain_values(value):
    parsed = streaming.parse_record(value)
    assert tuple(parsed) == streaming.FIELDS[:len(value.split(","))]
    for field in parsed.values():
        assert field is None or type(field) in (int, float, str)
        assert not isinstance(field, str) or field  # text is never empty


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
    vehicle = {"drive_state": None}
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


@given(_typed_records, st.sampled_from([{}, {"drive_state": {"x": 1}}, {"charge_state": 5}]))
def test_a_full_record_merges_as_field_by_field_would(record, start):
    quick, by_field = json.loads(json.dumps(start)), json.loads(json.dumps(start))
    streaming.merge_record(quick, record)
    streaming.merge_record(by_field, {**record, "unrelated": 1})  # not 13 keys: the slow path
    assert quick == by_field


# -- messages (pure) ------------------------------------------------------------------

def test_parse_message_gives_the_json_object():
    message = {"msg_type": "data:update", "tag": "1", "value": RECORD}
    assert streaming.parse_message(json.dumps(message).encode()) == message
    assert streaming.parse_message(json.dumps(message)) == message


@pytest.mark.parametrize("data, words", [
    (b"[" * 100_000, "nested too deeply"),
    (b'{"a":' * 100_000, "nested too deeply"),
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b'{"msg_type": "data:update"', "not UTF-8 JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'"text"', "not a JSON object"),
    (b" " * (streaming.MAX_FRAME_BYTES + 1), "larger than"),
])
def test_unusable_messages_are_typed_errors(data, words):
    with pytest.raises(streaming.StreamFrameError, match=words) as caught:
        streaming.parse_message(data)
    assert isinstance(caught.value, teslapy.ResponseError)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes_give_an_object_or_a_frame_error(data):
    try:
        message = streaming.parse_message(data)
    except streaming.StreamFrameError:
        return
    assert type(message) is dict


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=300)
@given(tag=st.text(alphabet="0123456789x", max_size=12), value=_text,
       separators=st.sampled_from([(", ", ": "), (",", ":"), (", ", ":"), (" , ", " : ")]),
       ascii_only=st.booleans())
def test_updates_decode_exactly_as_the_json_parser_decodes_them(tag, value, separators,
                                                                 ascii_only):
    text = json.dumps({"msg_type": "data:update", "tag": tag, "value": value},
                      separators=separators, ensure_ascii=ascii_only)
    assert streaming.parse_message(text.encode()) == json.loads(text)


@settings(max_examples=300)
@given(st.binary(max_size=40))
def test_update_values_of_any_bytes_decode_as_the_json_parser_would(raw):
    data = b'{"msg_type": "data:update", "tag": "1", "value": "' + raw + b'"}'
    try:
        expected = json.loads(data.decode("utf-8"))
    except ValueError:
        with pytest.raises(streaming.StreamFrameError):
            streaming.parse_message(data)
    else:
        assert streaming.parse_message(data) == expected


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(), inner, max_size=4),
                     max_leaves=20)


@given(st.dictionaries(st.text(), _json, max_size=4))
def test_json_objects_decode_to_themselves(message):
    assert streaming.parse_message(json.dumps(message).encode()) == message


# -- restart delays and settings (pure) -----------------------------------------------

@given(first=st.floats(0, 5), extra=st.floats(0, 60), jitter=st.floats(0, 1),
       seed=st.integers(), n=st.integers(0, 10_000), driving=st.booleans())
def test_delays_are_bounded_and_repeatable_with_a_seed(first, extra, jitter, seed, n, driving):
    cap = first + extra
    one, two = (streaming.Backoff(first, cap, jitter, seed) for _ in range(2))
    for backoff in (one, two):
        assert 0 <= backoff.reconnect_delay(n) <= cap
        assert 0 <= backoff.resubscribe_delay(n, driving) <= cap
    assert one.reconnect_delay(n) == two.reconnect_delay(n)


def test_delays_grow_exponentially_up_to_the_cap_and_follow_teslamate():
    backoff = streaming.Backoff(first=1, cap=30, jitter=0)
    assert [backoff.reconnect_delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert [backoff.resubscribe_delay(n, driving=False) for n in (0, 3, 4, 5)] == [15, 15, 16, 30]
    driving = [backoff.resubscribe_delay(n, driving=True) for n in range(12)]
    assert driving[0] == 1 and driving == sorted(driving) and driving[-1] == 8


@pytest.mark.parametrize("arguments", [
    {"first": -1}, {"first": 5, "cap": 1}, {"cap": math.inf}, {"jitter": 1.5}])
def test_unusable_backoff_settings_are_refused(arguments):
    with pytest.raises(ValueError):
        streaming.Backoff(**arguments)


@pytest.mark.parametrize("url", [
    "wss://streaming.vn.teslamotors.com/streaming/", "ws://127.0.0.1:1/streaming/",
    "ws://localhost/streaming/", "ws://[::1]:8/streaming/", "ws://127.9.8.7/"])
def test_secure_or_loopback_streaming_urls_are_allowed(url):
    streaming.check_url(url)


@pytest.mark.parametrize("url", [
    "ws://streaming.vn.teslamotors.com/streaming/", "ws://127.0.0.1.example.com/",
    "ws://10.0.0.1/", "ws://[2001:db8::1]/", "https://streaming.example/",
    "streaming.vn.teslamotors.com/streaming/", ""])
def test_other_streaming_urls_are_refused(url):
    with pytest.raises(ValueError, match="wss://"):
        streaming.check_url(url)


@given(st.ip_addresses(v=4) | st.ip_addresses(v=6))
def test_plain_ws_is_allowed_exactly_for_loopback_addresses(address):
    host = f"[{address}]" if address.version == 6 else str(address)
    url = f"ws://{host}:80/streaming/"
    if address.is_loopback:
        streaming.check_url(url)
    else:
        with pytest.raises(ValueError):
            streaming.check_url(url)


# -- end to end against the simulator -------------------------------------------------

class _Stop(Exception):
    """Raised by a test callback to leave the stream."""


def test_stream_of_a_driving_car_delivers_updates_until_ctrl_c(tesla, world, caplog):
    world.settings.stream_poll_interval = QUICK_POLL
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


def test_parked_car_stream_ends_normally_when_tesla_ends_it(tesla, world):
    world.settings.stream_idle_timeout = QUICK_IDLE
    car = _vehicle(tesla, "Tim's Tesla")
    received = []
    car.stream(received.append)         # returns by itself: vehicle_disconnected
    assert len(received) == 1           # the current record on subscribing
    assert car["drive_state"]["latitude"] == received[-1]["est_lat"]
    assert car["charge_state"]["battery_level"] == received[-1]["soc"] == 44


def test_retry_subscribes_again_on_the_same_socket(tesla, sim, world):
    world.settings.stream_idle_timeout = QUICK_IDLE
    connections = sim.faults.add(service="streaming", status=None, times=None)
    car = _vehicle(tesla, "Tim's Tesla")
    received = []
    car.stream(received.append, retry=2, backoff=QUICK)
    assert connections.hits == 1        # one socket, as TeslaMate does
    assert len(received) == 3           # each subscription starts with the current record


def test_indefinitely_restarts_past_the_retry_count_until_ctrl_c(tesla, world):
    world.settings.stream_idle_timeout = QUICK_IDLE
    car = _vehicle(tesla, "Tim's Tesla")
    received = []

    def callback(record):
        received.append(record)
        if len(received) == 4:
            raise KeyboardInterrupt

    car.stream(callback, retry=1, indefinitely=True, backoff=QUICK)
    assert len(received) == 4           # more subscriptions than retry=1 alone allows


def test_a_refused_upgrade_is_an_http_error_and_retry_reconnects(tesla, sim):
    refusal = sim.faults.add(service="streaming", status=503, times=1)
    car = _vehicle(tesla, "Road Runner")
    with pytest.raises(streaming.StreamRefusedError) as caught:
        car.stream()
    assert isinstance(caught.value, requests.HTTPError)
    assert caught.value.response.status_code == 403     # Hypercorn's answer to a closed upgrade
    assert "403 Client Error" in str(caught.value)
    sim.faults.add(service="streaming", status=503, times=1)
    received = []

    def callback(record):
        received.append(record)
        raise KeyboardInterrupt

    car.stream(callback, retry=1, backoff=QUICK)
    assert len(received) == 1 and refusal.hits == 1


def test_a_refused_token_is_renewed_before_subscribing_again(tesla, world, caplog):
    world.settings.stream_idle_timeout = QUICK_IDLE
    car = _vehicle(tesla, "Tim's Tesla")
    stale = tesla.token["access_token"]
    world.expire_bearers()              # the client still believes its token is valid
    received = []
    with caplog.at_level(logging.INFO, logger="teslapy"):
        car.stream(received.append, retry=1, backoff=QUICK)
    assert len(received) == 1
    assert tesla.token["access_token"] != stale
    assert "Can't validate token" in caplog.text
    assert stale not in caplog.text and tesla.token["access_token"] not in caplog.text


def test_a_refused_token_without_restarts_left_is_a_subscription_error(tesla, world, caplog):
    car = _vehicle(tesla, "Road Runner")
    world.expire_bearers()
    with caplog.at_level(logging.DEBUG), pytest.raises(streaming.StreamSubscriptionError) as caught:
        car.stream()
    assert caught.value.error_type == "client_error"
    assert caught.value.value == "Can't validate token. "
    assert tesla.token["access_token"] not in str(caught.value) + caplog.text


def test_asleep_car_streams_nothing_and_stays_asleep(tesla, world):
    world.settings.stream_idle_timeout = QUICK_IDLE
    car = _vehicle(tesla, "Nikola")
    received = []
    car.stream(received.append)
    assert received == []
    assert car.get_vehicle_summary()["state"] == "asleep"


def test_callback_errors_close_the_stream_and_propagate(tesla, sim):
    car = _vehicle(tesla, "Road Runner")

    def callback(record):
        raise OSError("the callback's own failure")     # not taken for a broken stream

    with pytest.raises(OSError, match="callback's own") as caught:
        car.stream(callback, retry=5, backoff=QUICK)
    assert not isinstance(caught.value, streaming.StreamError)


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


@pytest.mark.parametrize("arguments", [
    {"connect_timeout": 0}, {"idle_timeout": -1}, {"ping_timeout": math.nan},
    {"idle_timeout": None}, {"retry": -1}, {"retry": "3"}, {"backoff": 5}])
def test_unusable_settings_are_refused(tesla, arguments):
    car = _vehicle(tesla, "Road Runner")
    with pytest.raises(ValueError):
        car.stream(**arguments)


def test_unknown_keyword_arguments_are_refused(tesla):
    car = _vehicle(tesla, "Road Runner")
    with pytest.raises(TypeError, match="dispatcher"):
        car.stream(dispatcher=object())


def test_unreachable_streaming_server_is_a_connection_error_after_the_retries(tesla):
    car = _vehicle(tesla, "Road Runner")
    tesla.streaming_base_url = "ws://127.0.0.1:9/streaming/"
    with pytest.raises(streaming.StreamConnectionError) as caught:
        car.stream(retry=2, backoff=QUICK)
    assert isinstance(caught.value, requests.ConnectionError)
    assert "127.0.0.1:9" in str(caught.value)


def test_a_ws_url_that_is_not_loopback_is_refused_before_connecting(tesla):
    car = _vehicle(tesla, "Road Runner")
    tesla.streaming_base_url = "ws://streaming.vn.teslamotors.com/streaming/"
    with pytest.raises(ValueError, match="clear text"):
        car.stream()


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
