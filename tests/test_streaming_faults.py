"""Streaming against misbehaving servers: every failure is bounded and typed.

Each test runs a small websocket server of its own on a loopback port (a thread per
connection running a script) that misbehaves in one way: never answers the upgrade,
trickles it, refuses it, redirects, stalls, never pongs, resets, closes early, or sends
frames that are too deep, too large or not UTF-8. The timeouts are set small through
``stream()``'s parameters; pytest's own timeout would catch a hang.
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import struct
import threading
import time
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

import teslapy
from teslapy import streaming
from teslasim.tls import Certificates

WAIT = 10                   # seconds a server script waits for the client at most
QUICK = streaming.Backoff(first=0.001, cap=0.01, seed=2)
FAST = {"connect_timeout": 0.5, "ping_interval": 0.1, "ping_timeout": 0.5,
        "idle_timeout": 0.5, "backoff": QUICK}
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
TAG = "1234567890"
RECORD = "1569952097456,0,6963.1,44,12,240,52.531951,6.156999,-3,P,99,78,240"
UPDATE = {"msg_type": "data:update", "tag": TAG, "value": RECORD}
END = {"msg_type": "data:error", "tag": TAG, "error_type": "vehicle_disconnected",
       "value": "disconnected"}


class Peer:
    """One connection accepted by a :class:`ScriptedServer`, with websocket helpers."""

    def __init__(self, conn: socket.socket, index: int, server: "ScriptedServer") -> None:
        self.conn = conn
        self.index = index              # 0 for the first connection, 1 for the next, ...
        self.server = server
        conn.settimeout(WAIT)

    def read_request(self) -> bytes:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise ConnectionError("client went away during the upgrade")
            request += chunk
        return request

    def upgrade(self) -> None:
        """Answer the upgrade with 101 and send Tesla's hello."""
        key = next(line.split(b":", 1)[1].strip() for line in self.read_request().split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        self.send_json({"msg_type": "control:hello", "connection_timeout": 0})

    def send_frame(self, payload: bytes, opcode: int = TEXT) -> None:
        if len(payload) < 126:
            header = struct.pack("!BB", 0x80 | opcode, len(payload))
        elif len(payload) < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, len(payload))
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, len(payload))
        self.conn.sendall(header + payload)

    def send_json(self, message: dict) -> None:
        self.send_frame(json.dumps(message).encode())

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def receive(self) -> tuple:
        """The next client frame as (opcode, payload), unmasked."""
        first, second = self._exactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exactly(8))[0]
        mask = self._exactly(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._exactly(length)))
        return first & 0x0F, payload

    def subscription(self, pong: bool = True) -> dict:
        """Wait for the next subscribe message (answering pings unless ``pong`` is off)."""
        while True:
            opcode, payload = self.receive()
            if opcode == PING and pong:
                self.send_frame(payload, PONG)
            elif opcode == TEXT:
                message = json.loads(payload)
                if message.get("msg_type") == "data:subscribe_oauth":
                    self.server.subscriptions.append(message)
                    return message

    def linger(self, pong: bool = True) -> None:
        """Read frames until the client leaves, answering pings unless ``pong`` is off."""
        try:
            while True:
                opcode, payload = self.receive()
                if opcode == PING and pong:
                    self.send_frame(payload, PONG)
                if opcode == CLOSE:
                    self.send_frame(payload, CLOSE)
                    return
        except OSError:
            return

    def reset(self) -> None:
        """End the connection with a TCP reset."""
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.close()


class ScriptedServer:
    """A loopback TCP server running ``script(peer)`` in a thread for each connection."""

    def __init__(self, script, tls: "ssl.SSLContext | None" = None) -> None:
        self.script = script
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        self.url = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/streaming/"
        self.connections = 0
        self.subscriptions: list = []
        self.failures: list = []
        self.threads: list = []
        self.peers: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return              # closed
            peer = Peer(conn, self.connections, self)
            self.connections += 1
            self.peers.append(peer)
            thread = threading.Thread(target=self._run, args=(peer,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, peer: Peer) -> None:
        try:
            if self.tls is not None:
                peer.conn = self.tls.wrap_socket(peer.conn, server_side=True)
            self.script(peer)
        except (OSError, ssl.SSLError):
            pass                    # the client went away: what several tests want
        except Exception as error:  # a broken script: reported by the test
            self.failures.append(error)
        finally:
            peer.conn.close()

    def close(self) -> None:
        self.listener.close()
        for peer in self.peers:
            try:
                peer.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(WAIT)
        assert not self.failures, self.failures


@pytest.fixture
def serve():
    """Start a :class:`ScriptedServer` for a script; all are closed after the test."""
    servers = []

    def start(script, tls=None):
        server = ScriptedServer(script, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def car(tesla):
    """A car of the logged-in session, to be streamed from a scripted server."""
    return teslapy.Vehicle({"id": 1, "id_s": "1", "vehicle_id": int(TAG),
                            "display_name": "Scripted"}, tesla)


def _answering(*sends):
    """A script: upgrade, wait for the subscription, send each message (a dict, or a
    function of the peer), then read until the client leaves."""
    def script(peer):
        peer.upgrade()
        peer.subscription()
        for send in sends:
            if callable(send):
                send(peer)
            else:
                peer.send_json(send)
        peer.linger()

    return script


def _stream_from(server, car, **arguments):
    car.tesla.streaming_base_url = server.url
    received = []
    car.stream(received.append, **{**FAST, **arguments})
    return received


# -- connecting -----------------------------------------------------------------------

def test_a_server_that_never_answers_the_upgrade_times_out(serve, car):
    accepted = threading.Semaphore(0)

    def silent(peer):
        accepted.release()
        peer.read_request()
        peer.linger()

    server = serve(silent)
    with pytest.raises(streaming.StreamConnectTimeout, match="within 0.1 s") as caught:
        _stream_from(server, car, retry=1, connect_timeout=0.1)
    assert isinstance(caught.value, requests.ConnectTimeout)
    assert isinstance(caught.value, requests.Timeout)
    assert accepted.acquire(timeout=WAIT) and accepted.acquire(timeout=WAIT)  # both accepted
    assert server.connections == 2 and server.subscriptions == []


def test_a_trickled_upgrade_reply_cannot_stretch_the_connect_timeout(serve, car):
    def trickle(peer):
        peer.read_request()
        peer.conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: ")
        while True:                         # each byte well within the read timeout
            peer.conn.sendall(b"z")
            time.sleep(0.02)

    server = serve(trickle)
    with pytest.raises(streaming.StreamConnectTimeout, match="within 0.2 s"):
        _stream_from(server, car, connect_timeout=0.2)
    assert server.subscriptions == []


def test_a_refused_upgrade_is_an_http_error_with_teslas_text(serve, car):
    body = json.dumps({"response": None, "error": "upgrade refused here",
                       "error_description": ""}).encode()

    def refuse(peer):
        peer.read_request()
        peer.conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    server = serve(refuse)
    with pytest.raises(streaming.StreamRefusedError) as caught:
        _stream_from(server, car)
    assert isinstance(caught.value, requests.HTTPError)
    assert caught.value.response.status_code == 403
    assert str(caught.value).startswith("403 Client Error: upgrade refused here for url: ws://")
    assert server.subscriptions == []


def test_a_redirect_is_not_followed(serve, car):
    elsewhere = serve(lambda peer: peer.upgrade() or peer.subscription())

    def redirect(peer):
        peer.read_request()
        peer.conn.sendall(b"HTTP/1.1 301 Moved Permanently\r\nLocation: "
                          + elsewhere.url.encode() + b"\r\nContent-Length: 0\r\n\r\n")

    server = serve(redirect)
    with pytest.raises(streaming.StreamRefusedError, match="301") as caught:
        _stream_from(server, car)
    assert caught.value.response.status_code == 301
    assert elsewhere.connections == 0


def test_a_connection_reset_during_the_upgrade_is_a_connection_error(serve, car):
    def reset(peer):
        peer.read_request()
        peer.reset()

    server = serve(reset)
    with pytest.raises(streaming.StreamConnectionError) as caught:
        _stream_from(server, car, retry=2)
    assert isinstance(caught.value, requests.ConnectionError)
    assert server.connections == 3


def test_a_ws_host_that_is_not_loopback_never_sees_a_connection(serve, car):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 9))        # picks the outgoing interface, sends nothing
        address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.skip("this machine has no address outside loopback")
    listener = socket.create_server((address, 0))
    listener.settimeout(0.1)        # a connection made before stream() raised is queued already
    car.tesla.streaming_base_url = f"ws://{address}:{listener.getsockname()[1]}/streaming/"
    try:
        with pytest.raises(ValueError, match="clear text"):
            car.stream()
        with pytest.raises(socket.timeout):
            listener.accept()                       # nobody connected
    finally:
        listener.close()


# -- broken streams -------------------------------------------------------------------

def test_a_stall_after_subscribing_is_noticed_by_the_idle_watchdog(serve, car):
    def stall(peer):
        peer.upgrade()
        peer.subscription()
        peer.linger(pong=True)              # pongs keep the socket alive, no data comes

    server = serve(stall)
    with pytest.raises(streaming.StreamStalledError, match="No message .* for 0.1 s") as caught:
        _stream_from(server, car, retry=1, ping_interval=0.02, idle_timeout=0.1)
    assert isinstance(caught.value, requests.ReadTimeout)
    server.close()                          # its threads have read all the client sent
    assert len(server.subscriptions) == 2   # reconnected once, then gave up


def test_a_server_that_never_pongs_is_noticed_by_the_ping_timeout(serve, car):
    pings = []

    def deaf(peer):
        peer.upgrade()
        peer.subscription(pong=False)
        while True:
            opcode, payload = peer.receive()
            if opcode == PING:
                pings.append(payload)

    server = serve(deaf)
    with pytest.raises(streaming.StreamStalledError, match="No pong within 0.1 s"):
        _stream_from(server, car, ping_interval=0.03, ping_timeout=0.1, idle_timeout=30,
                     ping_payload="are you there")
    server.close()                          # its thread has read every ping the client sent
    assert pings and set(pings) == {b"are you there"}


def test_a_reset_mid_stream_is_an_error_not_a_normal_end(serve, car):
    delivered = threading.Event()

    def reset_after_two(peer):
        peer.upgrade()
        peer.subscription()
        peer.send_json(UPDATE)
        peer.send_json(UPDATE)
        delivered.wait(WAIT)
        peer.reset()

    server = serve(reset_after_two)
    car.tesla.streaming_base_url = server.url
    received = []

    def callback(record):
        received.append(record)
        if len(received) == 2:
            delivered.set()

    with pytest.raises(streaming.StreamInterruptedError, match="broke"):
        car.stream(callback, **FAST)
    assert len(received) == 2


@pytest.mark.parametrize("ending, words", [
    (lambda peer: peer.send_frame(struct.pack("!H", 1001) + b"going away", CLOSE),
     "code 1001: going away"),
    (lambda peer: peer.conn.shutdown(socket.SHUT_WR), "broke"),
])
def test_a_close_without_teslas_end_of_stream_is_an_error(serve, car, ending, words):
    server = serve(_answering(UPDATE, ending))
    with pytest.raises(streaming.StreamInterruptedError, match=words):
        _stream_from(server, car)


def test_a_broken_stream_is_reconnected_with_backoff_and_subscribed_again(serve, car):
    def flaky(peer):
        peer.upgrade()
        peer.subscription()
        if peer.index < 2:
            peer.reset()                    # the first two connections break at once
            return
        peer.send_json(UPDATE)
        peer.send_json(END)
        peer.linger()

    server = serve(flaky)
    received = _stream_from(server, car, retry=2)
    assert len(received) == 1               # then Tesla's end: a normal return
    assert server.connections == 3 and len(server.subscriptions) == 3
    assert {s["tag"] for s in server.subscriptions} == {TAG}


def test_vehicle_disconnected_subscribes_again_on_the_same_socket(serve, car):
    def ends_each_subscription(peer):
        peer.upgrade()
        while True:
            peer.subscription()
            peer.send_json(UPDATE)
            peer.send_json(END)

    server = serve(ends_each_subscription)
    received = _stream_from(server, car, retry=3)
    assert len(received) == 4
    assert server.connections == 1 and len(server.subscriptions) == 4


def test_vehicle_error_ends_the_stream_like_a_disconnect(serve, car, caplog):
    server = serve(_answering({**END, "error_type": "vehicle_error",
                               "value": "Vehicle is offline. "}))
    assert _stream_from(server, car) == []
    assert "vehicle_error" in caplog.text and "Vehicle is offline" in caplog.text


def test_a_client_error_that_is_not_about_the_token_is_raised_at_once(serve, car):
    server = serve(_answering({**END, "error_type": "client_error",
                               "value": "Can't find vehicle. "}))
    with pytest.raises(streaming.StreamSubscriptionError, match="Can't find vehicle"):
        _stream_from(server, car, retry=5)
    assert len(server.subscriptions) == 1


# -- frames ---------------------------------------------------------------------------

def _frame_test(serve, car, send):
    server = serve(_answering(send))
    with pytest.raises(streaming.StreamFrameError) as caught:
        _stream_from(server, car, idle_timeout=30)
    assert isinstance(caught.value, teslapy.ResponseError)
    return caught.value


def test_a_deeply_nested_frame_is_a_frame_error(serve, car):
    error = _frame_test(serve, car, lambda peer: peer.send_frame(b"[" * 100_000))
    assert "nested too deeply" in str(error)


def test_a_huge_frame_is_refused_before_its_payload_is_read(serve, car):
    def announce_huge(peer):            # the header alone; the payload never comes
        peer.conn.sendall(struct.pack("!BBQ", 0x80 | TEXT, 127, 1 << 40))

    error = _frame_test(serve, car, announce_huge)
    assert "larger than" in str(error)


def test_a_message_in_fragments_is_bounded_as_a_whole(serve, car):
    def fragments(peer):
        piece = b" " * (streaming.MAX_FRAME_BYTES // 2 + 1)
        peer.conn.sendall(struct.pack("!BBQ", TEXT, 127, len(piece)) + piece)   # not final
        peer.conn.sendall(struct.pack("!BBQ", 0x80, 127, len(piece)) + piece)   # final

    _frame_test(serve, car, fragments)


@pytest.mark.parametrize("skip", [True, False])
def test_a_frame_that_is_not_utf8_is_a_frame_error(serve, car, skip):
    server = serve(_answering(lambda peer: peer.send_frame(b'{"msg_type": "\xff"}')))
    with pytest.raises(streaming.StreamFrameError, match="not UTF-8"):
        _stream_from(server, car, skip_utf8_validation=skip)   # TeslaPy 1.5's option: no effect


def test_a_bad_frame_is_retried_on_a_new_connection_when_asked(serve, car):
    def once_bad(peer):
        peer.upgrade()
        peer.subscription()
        peer.send_frame(b"[" * 100_000 if peer.index == 0 else json.dumps(END).encode())
        peer.linger()

    server = serve(once_bad)
    assert _stream_from(server, car, retry=1) == []
    assert server.connections == 2


# -- any mix of the above -------------------------------------------------------------

_BEHAVIOURS = {
    "update": lambda peer: peer.send_json(UPDATE),
    "end": lambda peer: peer.send_json(END),
    "token refused": lambda peer: peer.send_json(
        {**END, "error_type": "client_error", "value": "Can't validate token. "}),
    "close": lambda peer: peer.send_frame(struct.pack("!H", 1011), CLOSE),
    "half close": lambda peer: peer.conn.shutdown(socket.SHUT_WR),
    "reset": Peer.reset,
    "stall": Peer.linger,
}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(sorted(_BEHAVIOURS)) | st.binary(max_size=40), max_size=5),
       st.integers(0, 2))
def test_any_server_behaviour_ends_in_a_return_or_a_documented_error(serve, car, script, retry):
    def behave(peer):
        peer.upgrade()
        peer.subscription()
        for step in script:
            if isinstance(step, bytes):
                peer.send_frame(step)       # a frame of any bytes
            else:
                _BEHAVIOURS[step](peer)
        peer.linger()

    server = serve(behave)
    quick = {**FAST, "connect_timeout": 0.3, "ping_interval": 0.02, "ping_timeout": 0.1,
             "idle_timeout": 0.06}
    try:
        _stream_from(server, car, retry=retry, **quick)
    except streaming.StreamError as error:
        assert isinstance(error, (requests.RequestException, teslapy.ResponseError,
                                  streaming.StreamSubscriptionError))
    assert server.connections <= retry + 1


# -- TLS ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificates():
    made = Certificates()
    yield made
    made.remove()


def _serve_tls(serve, certificates):
    return serve(_answering(UPDATE, END), tls=certificates.server_context())


@pytest.fixture
def elsewhere_bundle(tmp_path, monkeypatch):
    """CA settings in the environment that name another CA (trusting nobody here)."""
    other = Certificates()
    bundle = tmp_path / "other-ca.pem"
    bundle.write_bytes(Path(other.ca_file).read_bytes())
    other.remove()
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "WEBSOCKET_CLIENT_CA_BUNDLE"):
        monkeypatch.setenv(name, str(bundle))
    return str(bundle)


def _streaming_car(make_tesla, server, **session_options):
    tesla = make_tesla(streaming_base_url=server.url, **session_options)
    tesla.fetch_token()
    return teslapy.Vehicle({"id": 1, "vehicle_id": int(TAG)}, tesla)


def test_an_untrusted_certificate_is_an_ssl_error(serve, make_tesla, certificates):
    server = _serve_tls(serve, certificates)
    car = _streaming_car(make_tesla, server)
    with pytest.raises(streaming.StreamSSLError, match="verify") as caught:
        car.stream(**FAST)
    assert isinstance(caught.value, requests.exceptions.SSLError)
    assert server.subscriptions == []


def test_a_ca_bundle_given_to_the_session_holds_whatever_the_environment_says(
        serve, make_tesla, certificates, elsewhere_bundle):
    server = _serve_tls(serve, certificates)
    car = _streaming_car(make_tesla, server, verify=certificates.ca_file)
    received = []
    car.stream(received.append, **FAST)
    assert len(received) == 1


def test_verify_false_holds_whatever_the_environment_says(
        serve, make_tesla, certificates, elsewhere_bundle):
    server = _serve_tls(serve, certificates)
    car = _streaming_car(make_tesla, server, verify=False)
    received = []
    car.stream(received.append, **FAST)
    assert len(received) == 1


def test_verify_true_takes_the_bundle_the_session_read_from_the_environment(
        serve, make_tesla, certificates, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificates.ca_file)
    server = _serve_tls(serve, certificates)
    car = _streaming_car(make_tesla, server)
    received = []
    car.stream(received.append, **FAST)
    assert len(received) == 1


def test_sslopt_given_to_stream_replaces_the_sessions_tls_settings(
        serve, make_tesla, certificates):
    server = _serve_tls(serve, certificates)
    car = _streaming_car(make_tesla, server)            # verify=True: the CA is unknown
    received = []
    car.stream(received.append, sslopt={"ca_certs": certificates.ca_file}, **FAST)
    assert len(received) == 1


def test_a_missing_ca_bundle_is_an_ssl_error(serve, make_tesla, certificates, tmp_path):
    server = _serve_tls(serve, certificates)
    car = _streaming_car(make_tesla, server, verify=str(tmp_path / "missing.pem"))
    with pytest.raises(streaming.StreamSSLError, match="CA bundle"):
        car.stream(**FAST)


def test_an_update_without_a_text_value_is_a_frame_error(serve, car):
    nested = {"msg_type": "data:update", "tag": TAG, "value": [[[[1]]]] * 3}
    error = _frame_test(serve, car, nested)
    assert "(a list), not text" in str(error)


def test_an_odd_end_of_stream_is_still_an_end(serve, car, caplog):
    server = serve(_answering({"msg_type": "data:error", "error_type": ["x"] * 5,
                               "value": {"a": 1}}))
    assert _stream_from(server, car) == []
    assert "((a list)): (a dict)" in caplog.text
