"""Pure logic of the Fleet API client: the app's forms, scopes, and which hosts a 421 may name."""
from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teslapy import auth
from teslapy.fleet import oauth, regions

BASES = {"na": "http://127.0.0.1:4001/", "eu": "http://127.0.0.1:4002/",
         "cn": "http://127.0.0.1:4003/"}
PKCE = auth.Pkce("v" * 43, "c" * 43)


def test_the_code_form_carries_the_secret_only_when_there_is_one():
    open_app = oauth.new_app("open", redirect_uri="http://localhost:1/cb")
    secret_app = oauth.new_app("closed", "s3cret", "https://app.example.com/cb")
    open_form = oauth.code_grant_form(open_app, "NA_code", PKCE, BASES["eu"])
    assert open_form == {"grant_type": "authorization_code", "client_id": "open",
                         "code": "NA_code", "code_verifier": "v" * 43,
                         "redirect_uri": "http://localhost:1/cb",
                         "audience": "http://127.0.0.1:4002"}
    assert oauth.code_grant_form(secret_app, "c", PKCE, BASES["na"])["client_secret"] == "s3cret"
    assert "client_secret" not in oauth.refresh_grant_form(secret_app, "r")
    partner = oauth.partner_grant_form(secret_app, BASES["na"])
    assert (partner["grant_type"], partner["audience"]) == ("client_credentials",
                                                            "http://127.0.0.1:4001")
    assert "offline_access" not in partner["scope"].split()
    with pytest.raises(ValueError, match="client_secret"):
        oauth.partner_grant_form(open_app, BASES["na"])


def test_bad_app_settings_are_value_errors():
    for args in (("",), ("id", ""), ("id", None, "relative/path"), ("id", None, None, [])):
        with pytest.raises(ValueError):
            oauth.new_app(*args)


@given(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True), min_size=1))
def test_scopes_keep_their_order_without_repeats(names):
    assert oauth.check_scopes(names) == tuple(dict.fromkeys(names))
    assert oauth.check_scopes(" ".join(names)) == tuple(dict.fromkeys(names))


@given(st.text(min_size=1))
def test_a_scope_with_anything_odd_in_it_is_refused(name):
    try:
        scopes = oauth.check_scopes([name])
    except ValueError:
        return
    assert scopes == (name,) and name[0].isalpha() and name.isascii() and " " not in name


def test_a_421_names_a_configured_region_or_a_tesla_fleet_host():
    text = "user out of region, use base URL: {}, see https://developer.tesla.com/docs/x"
    assert regions.base_from_refusal(text.format("http://127.0.0.1:4002"), BASES) == BASES["eu"]
    assert regions.base_from_refusal(text.format("https://fleet-api.prd.eu.vn.cloud.tesla.com"),
                                     BASES) == "https://fleet-api.prd.eu.vn.cloud.tesla.com/"
    for foreign in ("https://fleet-api.example.com", "http://fleet-api.prd.eu.vn.cloud.tesla.com",
                    "https://fleet-api.tesla.com.example.org", "https://user@fleet-api.x.tesla.com"):
        assert regions.base_from_refusal(text.format(foreign), BASES) is None, foreign
    assert regions.base_from_refusal("see https://developer.tesla.com/docs", BASES) is None


@given(st.text())
def test_a_421_never_sends_the_token_to_a_host_outside_tesla_or_the_configured_ones(text):
    base = regions.base_from_refusal(text, BASES)
    if base is not None:
        host = urlsplit(base).hostname or ""
        assert base in BASES.values() or (
            base.startswith("https://") and host.endswith(regions.TESLA_HOST_SUFFIXES))


@given(st.sampled_from(sorted(BASES)), st.text(), st.text())
def test_a_configured_base_is_found_anywhere_in_the_text(region, before, after):
    text = f"{before} {BASES[region].rstrip('/')} {after}"
    found = regions.base_from_refusal(text, BASES)
    assert found is not None
    assert found in BASES.values()


def test_importing_teslapy_leaves_cryptography_and_the_protocol_alone():
    code = ("import sys, teslapy; t = teslapy.TeslaFleet('a@b.c', 'id');"
            "print(sorted(m for m in sys.modules if m.startswith(('cryptography', 'teslapy.vcp'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
