"""teslapy.selenium_auth without a browser: its parsers, its errors and its lazy import."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teslapy.selenium_auth import (BrowserNotFoundError, BrowserSignInError,
                                   SeleniumAuthenticator, callback_in_log, spki_hashes)
from teslasim.tls import make_certificates

CALLBACK = "tesla://auth/callback?code=abc&state=xyz&issuer=https%3A%2F%2Fauth.tesla.com"


def event(method: str, url) -> dict:
    return {"message": json.dumps({"message": {"method": method,
                                               "params": {"request": {"url": url}}}}),
            "level": "INFO", "timestamp": 0}


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
ENTRIES = st.lists(st.one_of(
    st.builds(lambda m: {"message": m}, st.text(max_size=30)),
    st.builds(lambda v: {"message": json.dumps(v)}, JSON),
    st.builds(event, st.sampled_from(["Network.requestWillBeSent", "Page.frameNavigated"]),
              JSON | st.sampled_from(["https://auth.tesla.com/", "tesla://other"])),
    JSON,
), max_size=6)


@given(ENTRIES)
def test_the_log_parser_takes_any_entries_and_finds_no_callback_in_noise(entries):
    assert callback_in_log(entries) is None


@given(ENTRIES, ENTRIES)
def test_the_log_parser_finds_the_callback_navigation_among_noise(before, after):
    entries = before + [event("Network.requestWillBeSent", CALLBACK)] + after
    assert callback_in_log(entries) == CALLBACK
    other = before + [event("Network.responseReceived", CALLBACK)] + after
    assert callback_in_log(other) is None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool")
def test_spki_hashes_match_what_openssl_computes(tmp_path):
    ca_pem, chain, _key = make_certificates()
    expected = []
    for pem in chain.decode().split("-----END CERTIFICATE-----\n")[:-1]:
        der = subprocess.run(
            "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der",
            shell=True, input=(pem + "-----END CERTIFICATE-----\n").encode(),
            capture_output=True, check=True).stdout
        digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                                capture_output=True, check=True).stdout
        expected.append(base64.b64encode(digest).decode())
    assert spki_hashes(chain) == expected
    assert spki_hashes(ca_pem) == expected[1:]
    with pytest.raises(ValueError):
        spki_hashes(b"not a certificate")


def test_an_unreadable_ca_file_is_a_typed_error(tmp_path):
    authenticator = SeleniumAuthenticator(headless=True, ca_file=str(tmp_path / "none.pem"))
    with pytest.raises(BrowserSignInError, match="cannot read the CA file"):
        authenticator("https://127.0.0.1:1/")


@pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs chromedriver")
def test_a_missing_browser_is_a_typed_error(tmp_path):
    missing = str(tmp_path / "no-such-chrome")
    with pytest.raises(BrowserNotFoundError, match="no-such-chrome"):
        SeleniumAuthenticator(headless=True, binary=missing)("https://127.0.0.1:1/")


def run_python(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)


def test_without_selenium_the_error_says_what_to_install():
    done = run_python(
        "import sys; sys.modules['selenium'] = None\n"
        "import teslapy.selenium_auth as s\n"
        "try:\n    s.SeleniumAuthenticator(headless=True)('https://127.0.0.1:1/')\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, isinstance(e, s.BrowserSignInError), e)\n")
    assert done.stdout == ("SeleniumMissingError True signing in in a browser window needs "
                           "Selenium: pip install teslapy[selenium]\n"), done.stderr


def test_importing_teslapy_or_the_module_does_not_import_selenium():
    done = run_python("import sys, teslapy, teslapy.selenium_auth\n"
                      "print(sorted(m for m in sys.modules if m.split('.')[0] == 'selenium'))")
    assert done.stdout == "[]\n", done.stderr
