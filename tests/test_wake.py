"""The wake-up polling schedule: prompt within the usual wake time, never past 1.5's pace x2."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, strategies as st

from teslapy import wake


def _first(times, count):
    return list(itertools.islice(times, count))


def test_the_original_schedule_is_teslapy_15s_whole_second_waits():
    assert _first(wake.original_poll_times(), 13) == [2, 4, 6, 9, 12, 16, 20, 25, 31, 38, 46,
                                                      55, 65]


def test_the_default_schedule_polls_every_interval_through_40_s_then_slows_to_15s_pace():
    times = _first(wake.poll_times(), 26)
    assert times[:21] == pytest.approx([1.92 * n for n in range(1, 22)])
    assert times[20] >= 40                       # a car waking by 40 s is seen < 2 s late
    assert times[21:] == pytest.approx([46, 47.92, 55, 56.92, 65])


@given(interval=st.floats(min_value=0.001, max_value=1000),
       backoff=st.floats(min_value=1, max_value=3))
def test_any_schedule_rises_and_never_polls_more_than_twice_as_often_as_15(interval, backoff):
    scale = interval / wake.DEFAULT_INTERVAL
    times = _first(wake.poll_times(interval, backoff), 40)
    original = _first(wake.original_poll_times(), 20)
    assert all(later > earlier for earlier, later in zip(times, times[1:]))
    assert times[0] == pytest.approx(interval)
    for n in range(1, 20):       # the 2n-th poll waits for 1.5's n-th (drawn to scale)
        assert times[2 * n - 1] >= original[n - 1] * scale


def test_within_its_pace_each_wait_grows_by_the_backoff():
    times = _first(wake.poll_times(interval=10, backoff=1.5), 4)
    assert times == pytest.approx([10, 25, 47.5, 81.25])


@pytest.mark.parametrize("interval, backoff", [(0, 1), (-1, 1), (1, 0.99), (float("nan"), 1)])
def test_a_bad_interval_or_backoff_is_refused_at_once(interval, backoff):
    with pytest.raises(ValueError, match="interval must be > 0 and backoff >= 1"):
        wake.poll_times(interval, backoff)
