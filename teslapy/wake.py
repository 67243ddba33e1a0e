"""When :meth:`Vehicle.sync_wake_up <teslapy.vehicle.Vehicle.sync_wake_up>` polls a waking car.

TeslaPy 1.5 slept 2 s after sending ``wake_up``, then each sleep 15 % longer, in whole
seconds (``time.sleep(int(interval))``): it polled 2, 4, 6, 9, 12, 16, 20, 25, 31, 38,
46, 55, ... s after the wake-up, so a car that came online just after a poll was seen
up to 8 s late within the first 40 s (2.5 s on average over wake times of 1-40 s).

teslapy polls every ``interval`` seconds (1.92 by default; each wait ``backoff`` times
the one before, 1 by default), but never more often than twice as 1.5 did: its
2n-th poll waits for 1.5's n-th. Most cars wake within 40 s; there that is a poll every
1.92 s (21 polls reach 40.3 s, 1.5 made 11), so a car is seen at most 1.92 s and on
average 0.96 s after it is online. A car still asleep then is polled twice per wait of
1.5's, at 46, 47.9, 55, 56.9, 65, ... s. The whole schedule scales with ``interval``
(1.5's pace is drawn to ``interval / DEFAULT_INTERVAL``), so a shorter interval polls
proportionally sooner.
"""
from __future__ import annotations

import itertools
from typing import Iterator

#: Seconds between polls while a car wakes (the default of ``sync_wake_up``).
DEFAULT_INTERVAL = 1.92
#: TeslaPy 1.5's first wait and the factor each wait grew by.
ORIGINAL_INTERVAL = 2.0
ORIGINAL_BACKOFF = 1.15


def original_poll_times() -> Iterator[float]:
    """TeslaPy 1.5's polls, in seconds after the wake-up: 2, 4, 6, 9, 12, 16, 20, ..."""
    elapsed, wait = 0, ORIGINAL_INTERVAL
    while True:
        elapsed += int(wait)
        yield float(elapsed)
        wait *= ORIGINAL_BACKOFF


def poll_times(interval: float = DEFAULT_INTERVAL, backoff: float = 1.0) -> Iterator[float]:
    """teslapy's polls, in seconds after the wake-up (see the module docstring).

    Raises:
        ValueError: ``interval`` is not positive or ``backoff`` is below 1.
    """
    if not interval > 0 or not backoff >= 1:
        raise ValueError("interval must be > 0 and backoff >= 1")
    return _paced(float(interval), float(backoff))


def _paced(interval: float, backoff: float) -> Iterator[float]:
    scale = interval / DEFAULT_INTERVAL
    original = original_poll_times()
    pace = 0.0                  # 1.5's n-th poll, for teslapy's 2n-th and (2n+1)-th
    elapsed, wait = 0.0, interval
    for count in itertools.count(1):
        if count % 2 == 0:
            pace = next(original) * scale
        elapsed = max(elapsed + wait, pace)
        yield elapsed
        wait *= backoff
