"""``Vehicle.stream()`` end to end against a bare websocket-client loop on the same frames.

Run: ``python benchmarks/bench_stream_end_to_end.py [rounds] [frames]``
(defaults: 7 rounds of 20,000 frames; ``--profile`` profiles one ``stream()`` run instead)

A local websocket server (a process forked from this one, on a loopback port) answers every
connection with Tesla's hello, waits for the subscribe message, then sends ``frames``
``data:update`` messages and Tesla's ``vehicle_disconnected`` end of stream. Each round
times, in rotating order, the floor (``websocket.create_connection``, then ``recv``,
``json.loads`` and the callback for every frame), ``Vehicle.stream()`` with the same
callback, and a tighter floor: the same bare loop without websocket-client's
pure-Python UTF-8 check (``skip_utf8_validation=True``; ``recv`` still decodes strictly).
The figures are the medians of the per-round ratios to each floor with their spread;
the goal is at most 1.2 against the first.
"""
from __future__ import annotations

import base64
import cProfile
import hashlib
import json
import multiprocessing
import pstats
import socket
import statistics
import struct
import sys
import time
from pathlib import Path
from typing import Any, Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websocket  # noqa: E402

import teslapy  # noqa: E402
from bench_stream_parse import RECORDS  # noqa: E402
from interleaved import interleave, ratio_line  # noqa: E402

GOAL = 1.2
TAG = "1234567890"
CLOSE = 0x8
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(message: dict) -> bytes:
    """One unmasked server text frame."""
    payload = json.dumps(message).encode()
    if len(payload) < 126:
        header = struct.pack("!BB", 0x81, len(payload))
    else:
        header = struct.pack("!BBH", 0x81, 126, len(payload))
    return header + payload


def _read_client_frame(conn: socket.socket) -> int:
    """Read one masked client frame; returns its opcode."""
    head = _read_exactly(conn, 2)
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", _read_exactly(conn, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _read_exactly(conn, 8))[0]
    _read_exactly(conn, 4 + length)
    return head[0] & 0x0F


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


class FrameServer:
    """A loopback websocket server, in its own process, sending the same frames to each client."""

    def __init__(self, frames: int) -> None:
        updates = [_frame({"msg_type": "data:update", "tag": TAG,
                           "value": RECORDS[i % len(RECORDS)]}) for i in range(frames)]
        end = _frame({"msg_type": "data:error", "tag": TAG,
                      "error_type": "vehicle_disconnected", "value": "disconnected"})
        self.hello = _frame({"msg_type": "control:hello", "connection_timeout": 0})
        self.blob = b"".join(updates) + end
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = "ws://127.0.0.1:%d/streaming/" % self.listener.getsockname()[1]
        self.process = multiprocessing.get_context("fork").Process(target=self._serve, daemon=True)
        self.process.start()
        self.listener.close()               # the server process holds its own copy

    def _serve(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            with conn:
                try:
                    self._answer(conn)
                except OSError:
                    pass

    def _answer(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        conn.sendall(self.hello)
        _read_client_frame(conn)                # the subscribe message
        conn.sendall(self.blob)
        while _read_client_frame(conn) != CLOSE:
            pass
        conn.sendall(b"\x88\x02\x03\xe8")       # close, 1000 (normal)


def bare_loop(url: str, callback: Callable[[Any], Any], skip_utf8_validation: bool = False) -> None:
    """The floor: websocket-client's recv, json.loads and the callback, nothing else."""
    ws = websocket.create_connection(url, skip_utf8_validation=skip_utf8_validation)
    ws.send(json.dumps({"msg_type": "data:subscribe_oauth", "token": "t",
                        "value": "speed", "tag": TAG}))
    try:
        while True:
            message = json.loads(ws.recv())
            kind = message["msg_type"]
            if kind == "data:update":
                callback(message)
            elif kind == "data:error":
                return
    finally:
        ws.close()


def make_vehicle(url: str) -> teslapy.Vehicle:
    """A car of a session that holds a valid token and streams from ``url``."""
    tesla = teslapy.Tesla("bench@example.com", cache_loader=dict,
                          cache_dumper=lambda data: None, streaming_base_url=url)
    tesla.token = {"access_token": "bench-token", "token_type": "bearer",
                   "expires_in": 3600 * 24, "created_at": int(time.time())}
    return teslapy.Vehicle({"id": 1, "vehicle_id": int(TAG), "display_name": "Bench"}, tesla)


def main(argv: List[str]) -> int:
    profile = "--profile" in argv
    args = [a for a in argv[1:] if not a.startswith("--")]
    rounds = int(args[0]) if args else 7
    frames = int(args[1]) if len(args) > 1 else 20_000
    server = FrameServer(frames)
    try:
        return _measure(server, rounds, frames, profile)
    finally:
        server.process.terminate()


def _measure(server: FrameServer, rounds: int, frames: int, profile: bool) -> int:
    vehicle = make_vehicle(server.url)
    counted: List[int] = []

    def callback(record: Any) -> None:
        counted.append(1)

    def ours() -> None:
        vehicle.stream(callback)

    def floor() -> None:
        bare_loop(server.url, callback)

    def tight() -> None:
        bare_loop(server.url, callback, skip_utf8_validation=True)

    actions = (floor, ours, tight)
    for action in actions:              # warm up, and check each sees every frame
        counted.clear()
        action()
        assert len(counted) == frames, (action.__name__, len(counted))
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(ours)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
        return 0
    runs = interleave(actions, rounds)
    for name, words in (("floor", ""), ("tight", ", no UTF-8 check")):
        print(f"{name} (bare websocket-client loop{words}): "
              f"{statistics.median(runs[name]) * 1e6 / frames:.1f} us/frame")
    label = f"Vehicle.stream() end to end ({frames:,} frames per round)"
    print(ratio_line(label, runs["ours"], runs["floor"], "the floor", GOAL))
    print(ratio_line(label, runs["ours"], runs["tight"], "the tight floor"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
