"""Throughput of the streaming ``data:update`` parser against a naive baseline.

Run: ``python benchmarks/bench_stream_parse.py [seconds-per-parser]``

Both parsers handle the same mix of records (driving, parked, charging) in the same
process; the result is printed as messages per second and as a ratio, so it does
not depend on the machine's speed. The baseline evaluates every field as a Python
literal with ``ast.literal_eval``, the obvious way to turn text into typed values.
"""
from __future__ import annotations

import ast
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teslapy.streaming import FIELDS, parse_record  # noqa: E402

RECORDS = [
    "1569952097456,0,6963.1,44,12,240,52.531951,6.156999,-3,P,99,78,240",
    "1569952098456,37,6963.2,44,14,242,52.532411,6.157581,21,D,99,78,242",
    "1569952099456,,6963.2,45,12,,52.531951,6.156999,-11,,100,79,",
    "1569952100456,64,6964.9,43,18,91,52.540012,6.170017,48,D,98,77,90",
    "1569952101456,12,6965.0,43,17,181,52.540101,6.170110,-7,R,98,77,181",
]
MESSAGES = [json.dumps({"msg_type": "data:update", "tag": "1234567890", "value": value})
            for value in RECORDS]


def _literal(field: str) -> Any:
    try:
        return ast.literal_eval(field) if field else None
    except (ValueError, SyntaxError):
        return field


def baseline_parse(value: str) -> Dict[str, Any]:
    """Naive parser: evaluate each field as a Python literal."""
    return {name: _literal(field) for name, field in zip(FIELDS, value.split(","))}


def messages_per_second(parse: Callable[[str], Dict[str, Any]], seconds: float) -> float:
    """Decode and parse the message mix repeatedly for about ``seconds``."""
    loads = json.loads
    count = 0
    batch: List[str] = MESSAGES * 200
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for message in batch:
            parse(loads(message)["value"])
        count += len(batch)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def main(argv: List[str]) -> int:
    seconds = float(argv[1]) if len(argv) > 1 else 2.0
    for value in RECORDS:          # both parsers must agree before timing them
        assert parse_record(value) == baseline_parse(value), value
    ours = messages_per_second(parse_record, seconds)
    baseline = messages_per_second(baseline_parse, seconds)
    print(f"teslapy.streaming.parse_record: {ours:12,.0f} messages/s")
    print(f"ast.literal_eval per field:     {baseline:12,.0f} messages/s")
    print(f"ratio: {ours / baseline:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
