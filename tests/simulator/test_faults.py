"""Planned faults: statuses, bodies, delays, dropped connections, counting, scoping."""
from __future__ import annotations

import threading
import time

import pytest
import requests


@pytest.fixture
def status_url(sim):
    return sim.urls["api_base_url"] + "status"


def test_fault_answers_status_then_is_used_up(sim, status_url):
    fault = sim.faults.add(service="api", path=r"^/status$", status=503, times=2)
    first = requests.get(status_url)
    assert first.status_code == 503
    assert first.json() == {"response": None, "error": "Service Unavailable",
                            "error_description": ""}
    assert requests.get(status_url).status_code == 503
    assert requests.get(status_url).text == "ok"
    assert fault.hits == 2 and fault.exhausted
    assert sim.faults.hits == 2


def test_fault_body_and_headers(sim, status_url):
    sim.faults.add(path="status", status=429, body="Retry in 3 seconds",
                   headers={"Retry-After": "3"})
    reply = requests.get(status_url)
    assert reply.status_code == 429 and reply.text == "Retry in 3 seconds"
    assert reply.headers["Retry-After"] == "3"
    sim.faults.add(path="status", status=504, body={"response": None, "error": "upstream"})
    assert requests.get(status_url).json()["error"] == "upstream"


def test_fault_scoped_by_service_and_method(sim, status_url):
    fault = sim.faults.add(service="sso", path="status", status=500, times=None)
    assert requests.get(status_url).status_code == 200          # api is untouched
    sim.faults.add(service="api", path="oauth/token", method="POST", status=502)
    assert requests.get(sim.urls["api_base_url"] + "oauth/token").status_code != 502
    assert requests.post(sim.urls["api_base_url"] + "oauth/token").status_code == 502
    assert fault.hits == 0


def test_unlimited_fault_until_cleared(sim, status_url):
    sim.faults.add(path="status", status=500, times=None)
    assert [requests.get(status_url).status_code for _ in range(3)] == [500, 500, 500]
    sim.faults.clear()
    assert requests.get(status_url).status_code == 200


def test_dropped_connection_is_a_connection_error(sim, status_url):
    sim.faults.add(path="status", drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(status_url)
    assert requests.get(status_url).text == "ok"


def test_delay_then_pass_through_makes_a_client_time_out(sim, status_url):
    fault = sim.faults.add(path="status", status=None, delay=0.5)
    with pytest.raises(requests.Timeout):
        requests.get(status_url, timeout=0.1)
    assert fault.hits == 1
    assert requests.get(status_url, timeout=5).text == "ok"


def test_reset_clears_faults(sim, status_url):
    sim.faults.add(path="status", status=500, times=None)
    sim.reset()
    assert requests.get(status_url).status_code == 200


@pytest.mark.parametrize("kwargs", [{"status": 42}, {"delay": -1}, {"times": 0},
                                    {"path": "("}])
def test_bad_fault_plans_are_refused(sim, kwargs):
    with pytest.raises(ValueError):
        sim.faults.add(**kwargs)
    assert sim.faults.faults == []


def test_a_released_delay_lets_the_held_request_through_and_its_serving_is_awaited(sim, status_url):
    fault = sim.faults.add(path=r"^/status$", status=None, delay=60, times=None)
    replies: list = []
    caller = threading.Thread(target=lambda: replies.append(requests.get(status_url, timeout=30)))
    caller.start()
    deadline = time.monotonic() + 30
    while fault.hits == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not fault.wait_served(0.2, count=1)            # held in its 60 s delay
    assert fault.hits == 1 and fault.served == 0 and replies == []
    fault.release()
    assert fault.wait_served(30, count=1)
    caller.join(30)
    assert replies[0].text == "ok" and fault.served == 1
    assert requests.get(status_url, timeout=30).text == "ok"    # later ones are not delayed
    assert fault.wait_served(30, count=2) and fault.hits == 2
