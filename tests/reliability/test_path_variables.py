"""Path variables never move a request to another endpoint of the simulator.

A path variable (a vehicle id, a site id) is either sent inside its own path segment or
refused with ``ValueError`` before anything is sent. Which endpoint a request reached is
read from the simulator: a pass-through fault confirms the path it received (the ASGI
server hands the routes the percent-decoded path), and the simulator's own routing table
says which route that path takes and with which path parameters.
"""
from __future__ import annotations

import random
import re
from typing import Optional, Tuple
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from starlette.routing import Match

import teslapy
from teslapy import endpoints

from . import figures
from .checks import bounded

#: Endpoints with the variable at the end or in the middle, for GET and POST.
NAMES = ("VEHICLE_SUMMARY", "VEHICLE_DATA", "HONK_HORN", "SITE_DATA")
HOSTILE = ["../../x", "123/command/door_unlock#", "1/command/door_unlock?", "1/data", "%2e%2e",
           "..%2F", ".", "..", "", "a b", "ü", "%", "?", "#", "\\", "\x00"]
#: Characters the seeded values are made of: separators, escapes, dots and the rest.
ALPHABET = "/?#%.\\ ;=&+:@a1é\x00\u2028"
SAMPLE = 10000


def route_seen(sim, method: str, path: str) -> Optional[Tuple[str, dict]]:
    """The route (path template) and path parameters the simulator's API takes for ``path``."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "",
             "query_string": b"", "headers": []}
    partial = None
    for route in sim.apps["api"].router.routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route.path, child.get("path_params", {})
        if match == Match.PARTIAL and partial is None:
            partial = route.path, child.get("path_params", {})
    return partial


def intended(name: str) -> Tuple[str, str]:
    """The simulator route an endpoint should reach, and the name of its variable."""
    uri = endpoints.get_endpoint(name).uri
    field = endpoints.get_endpoint(name).path_variables()[0]
    return "/" + uri, field


def mis_routed(sim, name: str, value: str) -> Optional[str]:
    """How a request for ``value`` would go astray (None: refused, or routed as meant)."""
    try:
        uri = endpoints.format_uri(name, {intended(name)[1]: value})
    except ValueError:
        return None
    template, field = intended(name)
    seen = route_seen(sim, endpoints.get_endpoint(name).method, "/" + unquote(uri))
    if seen is None or seen[0] != template or seen[1].get(field) != value:
        return f"{name} {value!r} reached {seen}"
    return None


def refused(value: str) -> bool:
    """Whether ``value`` is refused as a path variable."""
    try:
        endpoints.format_uri("VEHICLE_DATA", {"vehicle_id": value})
    except ValueError:
        return True
    return False


def test_no_value_of_ten_thousand_reaches_another_route(sim):
    rng = random.Random(20261202)
    values = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
              for _ in range(SAMPLE)]
    astray = [value for value in values
              if any(mis_routed(sim, name, value) is not None for name in NAMES)]
    figures.record("path variables (seeded values, 4 endpoints)",
                   f"{len(astray)} of {SAMPLE} values mis-routed, "
                   f"{sum(map(refused, values))} refused with ValueError")
    assert not astray, [mis_routed(sim, name, value) for value in astray[:3] for name in NAMES]


@pytest.fixture
def signed_in(sim, make_tesla):
    tesla = make_tesla()
    tesla.fetch_token()
    return tesla


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=20) | st.sampled_from(HOSTILE) | st.integers(),
       name=st.sampled_from(NAMES))
@example(value="123/command/door_unlock#", name="HONK_HORN")
@example(value="1/data", name="VEHICLE_SUMMARY")
def test_a_request_reaches_the_route_of_its_endpoint_or_is_refused(sim, signed_in, value, name):
    sim.faults.clear()
    template, field = intended(name)
    method = endpoints.get_endpoint(name).method
    try:
        uri = endpoints.format_uri(name, {field: value})
    except ValueError:
        uri = None
    decoded = "/" + unquote(uri) if uri else None
    arrived = sim.faults.add(service="api", method=method, status=None, times=None,
                             path="^" + re.escape(decoded) + "$" if decoded else "$^")
    anything = sim.faults.add(service="api", status=None, times=None)
    outcome = bounded(lambda: signed_in.api(name, {field: value}))
    if uri is None:
        assert isinstance(outcome.error, ValueError) and anything.hits == arrived.hits == 0
        return
    assert isinstance(outcome.error, (teslapy.HTTPError, type(None))), outcome.describe()
    assert arrived.hits == 1 and anything.hits == 0      # exactly the path sent, once
    seen = route_seen(sim, method, decoded)
    assert seen is not None and seen[0] == template and seen[1][field] == str(value), seen
