"""The deadline watchdog: one thread runs every connection's give-up at its deadline."""
from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

from teslapy import limits


def _at(seconds: float):
    """An action due in ``seconds``: (its end, the action, the moments it ran)."""
    ran = []
    end = time.monotonic() + seconds
    return end, lambda: ran.append(time.monotonic()), ran


def test_an_action_runs_once_and_not_before_its_deadline():
    end, action, ran = _at(0.05)
    done = threading.Event()
    limits._watchdog.call_at(end, action)
    limits._watchdog.call_at(end + 0.01, done.set)
    assert done.wait(10)
    assert len(ran) == 1 and ran[0] >= end


def test_a_cancelled_action_never_runs_and_a_later_one_still_does():
    _, action, ran = _at(0)
    done = threading.Event()
    first = limits._watchdog.call_at(time.monotonic() + 0.05, action)
    limits._watchdog.call_at(time.monotonic() + 0.1, done.set)
    limits._watchdog.cancel(first)
    assert done.wait(10)
    assert ran == []


def test_an_earlier_deadline_added_later_is_not_kept_waiting_for_a_later_one():
    done = threading.Event()
    limits._watchdog.call_at(time.monotonic() + 3600, lambda: None)
    limits._watchdog.call_at(time.monotonic() + 0.05, done.set)
    assert done.wait(10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_has_a_watchdog_of_its_own():
    limits._watchdog.call_at(time.monotonic() + 0.01, lambda: None)     # the parent's runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # fork with threads (3.12+)
        child = os.fork()
    if child == 0:                                           # pragma: no cover - the child
        done = threading.Event()
        limits._watchdog.call_at(time.monotonic() + 0.05, done.set)
        os._exit(0 if done.wait(10) else 1)
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
