"""The simulated streaming websocket: hello, subscribe, live updates, idle end, errors."""
from __future__ import annotations

import ast
import json
import logging

import pytest
import websocket
from hypothesis import HealthCheck, given, settings, strategies as st

from teslasim.routes.streaming import COLUMNS, MAX_MESSAGE_CHARS

EMAIL = "elon@tesla.com"
TIMS_TESLA = "1234567890"          # online, parked, charging
NIKOLA = "2345678901"              # asleep
ROAD_RUNNER = "3456789012"         # online, driving a loop
OTHER_ACCOUNTS_CAR = "4567890123"
CN_EMAIL = "cn@tesla.cn"
SHANGHAI_EXPRESS = "5678901234"    # the China account's car, online
WAIT = 10                          # seconds a test waits for a frame before failing
QUICK_POLL = 0.05                  # seconds between the server's looks at the car, in tests
QUICK_IDLE = 0.2                   # idle end after some quick looks that found no change


@pytest.fixture
def token(world):
    return world.issue_bearer(EMAIL, "owner", 3600)


@pytest.fixture
def quick_polls(world):
    """The server looks at a subscribed car every :data:`QUICK_POLL` seconds."""
    world.settings.stream_poll_interval = QUICK_POLL


@pytest.fixture
def connect(sim):
    sockets = []

    def open_socket():
        ws = websocket.create_connection(sim.urls["streaming_base_url"], timeout=WAIT)
        sockets.append(ws)
        return ws

    yield open_socket
    for ws in sockets:
        try:
            ws.close()
        except (OSError, websocket.WebSocketException):
            pass                        # already gone
        finally:
            ws.shutdown()


def _receive(ws) -> dict:
    return json.loads(ws.recv())


def _subscribe(ws, token: str, tag: str, columns=COLUMNS) -> None:
    ws.send(json.dumps({"msg_type": "data:subscribe_oauth", "token": token,
                        "value": ",".join(columns), "tag": tag}))


def _parse(value: str) -> dict:
    """Parse a record the way clients do: each field a Python literal, empty means None."""
    fields = value.split(",")
    assert len(fields) == 1 + len(COLUMNS)
    parsed = {}
    for name, text in zip(("timestamp",) + COLUMNS, fields):
        if text == "":
            parsed[name] = None
        else:
            try:
                parsed[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                parsed[name] = text
    return parsed


def _hello(ws) -> None:
    assert _receive(ws) == {"msg_type": "control:hello", "connection_timeout": 0}


def _subscribed(connect, token, tag: str):
    """A new socket, past the hello, with a subscription to ``tag`` sent."""
    ws = connect()
    _hello(ws)
    _subscribe(ws, token, tag)
    return ws


def test_hello_on_connect(connect):
    _hello(connect())


def test_a_driving_car_streams_changing_records(connect, token, quick_polls):
    ws = _subscribed(connect, token, ROAD_RUNNER)
    records = []
    while len(records) < 3:
        message = _receive(ws)
        assert message["msg_type"] == "data:update", message
        assert message["tag"] == ROAD_RUNNER
        records.append(_parse(message["value"]))
    for record in records:
        assert isinstance(record["timestamp"], int)
        assert isinstance(record["speed"], int) and 15 <= record["speed"] <= 50
        assert isinstance(record["odometer"], float)
        assert isinstance(record["soc"], int) and 0 < record["soc"] <= 100
        assert isinstance(record["elevation"], int)
        assert isinstance(record["est_lat"], float) and 52.4 < record["est_lat"] < 52.6
        assert isinstance(record["est_lng"], float) and 13.3 < record["est_lng"] < 13.5
        assert isinstance(record["power"], int)
        assert record["shift_state"] == "D"
        assert isinstance(record["range"], int) and isinstance(record["est_range"], int)
        assert record["heading"] == record["est_heading"]
    assert records[0]["timestamp"] < records[1]["timestamp"] < records[2]["timestamp"]
    positions = {(r["est_lat"], r["est_lng"]) for r in records}
    assert len(positions) == 3
    assert records[0]["odometer"] <= records[2]["odometer"]


def test_a_parked_car_sends_its_record_then_disconnects_when_idle(connect, token, world,
                                                                  quick_polls):
    world.settings.stream_idle_timeout = QUICK_IDLE
    ws = _subscribed(connect, token, TIMS_TESLA)
    update = _receive(ws)
    assert update["msg_type"] == "data:update"
    record = _parse(update["value"])
    assert record["speed"] is None and record["shift_state"] is None
    assert record["soc"] == 44 and record["odometer"] == 6963.1
    assert (record["est_lat"], record["est_lng"]) == (52.531951, 6.156999)
    assert record["range"] == 99 and record["est_range"] == 78 and record["heading"] == 240
    assert _receive(ws) == {"msg_type": "data:error", "tag": TIMS_TESLA,
                            "error_type": "vehicle_disconnected", "value": "disconnected"}
    # the socket stays open: subscribing again starts over
    _subscribe(ws, token, TIMS_TESLA)
    assert _receive(ws)["msg_type"] == "data:update"
    assert _receive(ws)["error_type"] == "vehicle_disconnected"


def test_a_car_that_stops_driving_goes_quiet(connect, token, world, quick_polls):
    world.settings.stream_idle_timeout = QUICK_IDLE
    ws = _subscribed(connect, token, ROAD_RUNNER)
    last = _parse(_receive(ws)["value"])
    assert last["shift_state"] == "D"
    car = world.vehicle_by_vehicle_id(EMAIL, ROAD_RUNNER)
    with world.lock:
        car.route = None
    while True:
        message = _receive(ws)
        if message["msg_type"] != "data:update":
            break
        last = _parse(message["value"])
    assert message["error_type"] == "vehicle_disconnected"
    assert last["shift_state"] == "P" and last["speed"] is None


def test_an_asleep_car_sends_no_update(connect, token, world, quick_polls):
    world.settings.stream_idle_timeout = QUICK_IDLE
    ws = _subscribed(connect, token, NIKOLA)
    assert _receive(ws) == {"msg_type": "data:error", "tag": NIKOLA,
                            "error_type": "vehicle_disconnected", "value": "disconnected"}
    assert world.vehicle_by_vehicle_id(EMAIL, NIKOLA).data["state"] == "asleep"


def test_an_offline_car_gives_a_vehicle_error(connect, token, world):
    world.vehicle_by_vehicle_id(EMAIL, NIKOLA).data["state"] = "offline"
    ws = _subscribed(connect, token, NIKOLA)
    message = _receive(ws)
    assert message["msg_type"] == "data:error" and message["error_type"] == "vehicle_error"
    assert message["tag"] == NIKOLA and message["value"]


@pytest.mark.parametrize("bad_token", ["", "not-a-token", None])
def test_a_bad_token_gives_a_client_error(connect, bad_token):
    ws = _subscribed(connect, bad_token, ROAD_RUNNER)
    assert _receive(ws) == {"msg_type": "data:error", "tag": ROAD_RUNNER,
                            "error_type": "client_error", "value": "Can't validate token. "}


def test_an_expired_token_gives_a_client_error(connect, token, world):
    world.expire_bearers(EMAIL)
    ws = _subscribed(connect, token, ROAD_RUNNER)
    assert _receive(ws)["value"] == "Can't validate token. "


@pytest.mark.parametrize("tag", [OTHER_ACCOUNTS_CAR, "12345678901234567", "", "nope"])
def test_a_tag_that_is_not_one_of_the_accounts_cars_gives_an_error(connect, token, tag):
    ws = _subscribed(connect, token, tag)
    message = _receive(ws)
    assert message["msg_type"] == "data:error" and message["error_type"] == "client_error"
    assert message["tag"] == tag and message["value"]


def test_unsubscribe_stops_the_updates(connect, token, quick_polls):
    ws = _subscribed(connect, token, ROAD_RUNNER)
    assert _receive(ws)["msg_type"] == "data:update"
    ws.send(json.dumps({"msg_type": "data:unsubscribe", "tag": ROAD_RUNNER}))
    ws.send("first marker")             # answered with an error frame, in order
    while _receive(ws)["msg_type"] == "data:update":
        pass                            # updates sent before the unsubscribe arrived
    witness = _subscribed(connect, token, ROAD_RUNNER)
    for _ in range(4):                  # the record on subscribing, then three polls
        assert _receive(witness)["msg_type"] == "data:update"
        ws.send("marker")               # an update would come before the marker's answer
        message = _receive(ws)
        assert message["msg_type"] == "data:error", message
        assert message["error_type"] == "client_error"


def test_abrupt_disconnects_leave_the_server_healthy(connect, token, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        ws = _subscribed(connect, token, ROAD_RUNNER)
        assert _receive(ws)["msg_type"] == "data:update"
        ws.sock.close()                 # no close frame: the TCP connection just ends
    ws = _subscribed(connect, token, ROAD_RUNNER)
    assert _receive(ws)["msg_type"] == "data:update"
    ws.ping("alive")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# -- hostile messages -----------------------------------------------------------------

def _server_trouble(caplog) -> list:
    """What the simulator (its app or Hypercorn) logged at WARNING or above."""
    return [r for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith("teslasim")]


def _closed(ws) -> int:
    """Read until the server closes the socket; returns the close code."""
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big")


@pytest.mark.parametrize("text, words, code", [
    ('{"msg_type": "data:subscribe_oauth", "token": ' + "[" * 50_000, "nested too deeply", 1007),
    ('{"a":' * 10_000, "nested too deeply", 1007),
    (json.dumps({"msg_type": "data:subscribe_oauth", "tag": "x" * MAX_MESSAGE_CHARS}),
     "too large", 1009),
])
def test_a_nested_or_huge_message_gets_an_error_and_the_socket_closes(connect, token, caplog,
                                                                       text, words, code):
    caplog.set_level(logging.WARNING)
    ws = connect()
    _hello(ws)
    ws.send(text)
    message = _receive(ws)
    assert message["msg_type"] == "data:error" and message["error_type"] == "client_error"
    assert words in message["value"]
    assert _closed(ws) == code
    healthy = _subscribed(connect, token, ROAD_RUNNER)     # the server goes on serving
    assert _receive(healthy)["msg_type"] == "data:update"
    assert not _server_trouble(caplog)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                     max_leaves=12)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({"msg_type": st.sampled_from(["data:subscribe_oauth", "data:x"])
                              | _json, "tag": _json, "token": _json, "value": _json}))
def test_any_json_message_gets_an_answer_and_never_breaks_the_server(connect, caplog, message):
    caplog.set_level(logging.WARNING)
    ws = connect()
    _hello(ws)
    ws.send(json.dumps(message))
    answer = _receive(ws)
    assert answer["msg_type"] == "data:error" and answer["value"]
    ws.ping("alive")
    assert not _server_trouble(caplog)
    ws.close()


# -- the 2026 rules: a bearer streams only on its own region's host --------------------

def _subscribe_on(url: str, token: str, tag: str) -> dict:
    ws = websocket.create_connection(url, timeout=WAIT)
    try:
        _hello(ws)
        _subscribe(ws, token, tag)
        return _receive(ws)
    finally:
        ws.close()


def test_under_the_2026_rules_a_bearer_streams_only_on_its_regions_host(sim_2026):
    world, urls = sim_2026.world, sim_2026.urls
    global_bearer = world.issue_bearer(EMAIL, "sso", 3600, region="global")
    china_bearer = world.issue_bearer(CN_EMAIL, "sso", 3600, region="cn")
    assert _subscribe_on(urls["streaming_base_url"], global_bearer, ROAD_RUNNER)["msg_type"] \
        == "data:update"
    assert _subscribe_on(urls["streaming_cn_base_url"], china_bearer, SHANGHAI_EXPRESS)[
        "msg_type"] == "data:update"
    for url, bearer, tag in ((urls["streaming_cn_base_url"], global_bearer, ROAD_RUNNER),
                             (urls["streaming_base_url"], china_bearer, SHANGHAI_EXPRESS)):
        assert _subscribe_on(url, bearer, tag) == {
            "msg_type": "data:error", "tag": tag, "error_type": "client_error",
            "value": "Can't validate token. "}


def test_under_the_2021_rules_a_bearer_streams_on_either_host(sim, world):
    china_bearer = world.issue_bearer(CN_EMAIL, "owner", 3600, region="cn")
    global_bearer = world.issue_bearer(EMAIL, "owner", 3600, region="global")
    assert _subscribe_on(sim.urls["streaming_base_url"], china_bearer, SHANGHAI_EXPRESS)[
        "msg_type"] == "data:update"
    assert _subscribe_on(sim.urls["streaming_cn_base_url"], global_bearer, ROAD_RUNNER)[
        "msg_type"] == "data:update"
