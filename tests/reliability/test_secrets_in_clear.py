"""No token goes in clear to a host on a network: refused before anything is sent.

``192.0.2.1`` (TEST-NET-1) is never routed: a session that tried to send there would
fail to connect (a ``ConnectTimeout``) instead of refusing at once.
"""
from __future__ import annotations

import pytest

import teslapy

from . import figures, servers
from .checks import bounded

NETWORK_HOST = "http://192.0.2.1:9/"


@pytest.mark.parametrize("call", ["bearer token", "refresh token"])
def test_a_token_is_never_sent_to_a_plain_http_host_beyond_loopback(tmp_path, call):
    where = {"api_url": NETWORK_HOST} if call == "bearer token" else {"sso_url": NETWORK_HOST}
    with servers.LoopbackServer() as server:
        with servers.session_on(server, str(tmp_path / "cache.json"), timeout=0.5, **where) as tesla:
            outcome = bounded(tesla.vehicle_list if call == "bearer token" else tesla.refresh_token)
        assert server.requests == []
    assert isinstance(outcome.error, teslapy.InsecureTransportError), outcome.describe()
    figures.record(f"{call} to {NETWORK_HOST}", "refused before sending (InsecureTransportError)")
