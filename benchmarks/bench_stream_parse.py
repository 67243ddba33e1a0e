"""Parsing and merging a streamed frame, against ``json.loads`` of the same frame.

Run: ``python benchmarks/bench_stream_parse.py [rounds]`` (default 21 rounds of 10,000 frames)

Each round times, in alternating order, the floor (``json.loads`` of every frame of a
mix of driving, parked and charging ``data:update`` messages) and what the stream does
with each frame as received (bytes): :func:`teslapy.streaming.parse_message` (strict
UTF-8, bounded JSON), :func:`~teslapy.streaming.parse_record` and
:func:`~teslapy.streaming.merge_record` into a car's data. The figure is the median of
the per-round ratios with their spread; the goal is at most 3.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from interleaved import interleave, ratio_line  # noqa: E402
from teslapy.streaming import merge_record, parse_message, parse_record  # noqa: E402

GOAL = 3.0
RECORDS = [
    "1569952097456,0,6963.1,44,12,240,52.531951,6.156999,-3,P,99,78,240",
    "1569952098456,37,6963.2,44,14,242,52.532411,6.157581,21,D,99,78,242",
    "1569952099456,,6963.2,45,12,,52.531951,6.156999,-11,,100,79,",
    "1569952100456,64,6964.9,43,18,91,52.540012,6.170017,48,D,98,77,90",
    "1569952101456,12,6965.0,43,17,181,52.540101,6.170110,-7,R,98,77,181",
]
TEXTS = [json.dumps({"msg_type": "data:update", "tag": "1234567890", "value": value})
         for value in RECORDS] * 2000
FRAMES = [text.encode() for text in TEXTS]


def floor() -> None:
    loads = json.loads
    for text in TEXTS:
        loads(text)


def ours() -> None:
    vehicle: dict = {"drive_state": {}, "charge_state": {}, "vehicle_state": {}}
    for frame in FRAMES:
        message = parse_message(frame)
        if message.get("msg_type") == "data:update":
            merge_record(vehicle, parse_record(message["value"]))


def main(argv: List[str]) -> int:
    rounds = int(argv[1]) if len(argv) > 1 else 21
    floor(), ours()                    # warm up
    times = interleave((floor, ours), rounds)
    per_frame = statistics.median(times["floor"]) / len(TEXTS) * 1e6
    print(f"floor (json.loads of a frame): {per_frame:.2f} us")
    print(ratio_line(f"parse and merge a frame ({len(TEXTS):,} per round)", times["ours"],
                     times["floor"], "the floor", GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
