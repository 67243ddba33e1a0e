"""The SSO steps as pure functions, and the transport's security and retry decisions."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest
import requests
from hypothesis import given, settings, strategies as st
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from oauthlib.oauth2 import InsecureTransportError
from urllib3.util.retry import Retry

import teslapy
from teslapy import auth, transport

SIGN_IN_PAGE = """<!DOCTYPE html><html><head><title>Tesla SSO - Sign In</title></head><body>
<form method="post" id="form">
  <input type="hidden" name="_csrf" value="abc123">
  <input type="hidden" name="_phase" value="authenticate">
  <input type="hidden" name="_process" value="1">
  <input type="hidden" name="transaction_id" value="kmhFSHNk">
  <input type="hidden" name="cancel" value="">
  <input type="text" name="identity" value="elon@tesla.com">
  <input type="password" name="credential">
  %s
</form>
<script type="text/html" id="tmpl"><input name="mfa_only" value="x"></script>
<script>
var messages = %s;
</script></body></html>"""


def page(captcha: bool = False, messages: str = "{}") -> str:
    field = '<input type="text" name="captcha" value="">' if captcha else ""
    return SIGN_IN_PAGE % (field, messages)


# -- the sign-in page ---------------------------------------------------------------


def test_form_collects_every_named_input_outside_scripts():
    form = auth.parse_form(page())
    assert form == {"_csrf": "abc123", "_phase": "authenticate", "_process": "1",
                    "transaction_id": "kmhFSHNk", "cancel": "", "identity": "elon@tesla.com",
                    "credential": ""}
    assert auth.transaction_id(form) == "kmhFSHNk"
    assert not auth.needs_captcha(form)
    assert auth.needs_captcha(auth.parse_form(page(captcha=True)))


def test_nameless_inputs_are_skipped_and_a_page_without_transaction_is_refused():
    form = auth.parse_form('<form><input type="submit" value="Go"><input name="a"></form>')
    assert form == {"a": ""}
    with pytest.raises(ValueError, match="transaction_id"):
        auth.transaction_id(form)


def test_credentials_are_added_to_the_page_inputs():
    data = auth.credentials_form(auth.parse_form(page(captcha=True)), "e@x.com", "pw", "AB12")
    assert data["identity"] == "e@x.com" and data["credential"] == "pw"
    assert data["captcha"] == "AB12" and data["_csrf"] == "abc123"


def test_messages_are_flattened_in_order():
    html = page(messages='{"_": "Invalid credentials", "captcha": ["Captcha is required", '
                         '"Captcha does not match"]}')
    assert auth.parse_messages(html) == ["Invalid credentials", "Captcha is required",
                                         "Captcha does not match"]
    assert auth.parse_messages(page()) == []
    assert auth.parse_messages("<html>no literal</html>") == []
    assert auth.parse_messages(page(messages="{not json}")) == []


def test_rejection_reads_credentials_rejected_then_the_server_messages():
    html = page(captcha=True, messages='{"captcha": ["Captcha is required", "Captcha does not match"]}')
    error = auth.rejection(html)
    assert isinstance(error, ValueError)
    assert str(error) == "Credentials rejected. Captcha is required. Captcha does not match"
    assert str(auth.rejection(page())) == "Credentials rejected"


def test_an_mfa_page_has_no_inputs_outside_its_templates():
    mfa = ('<html><title>Tesla SSO - Sign In</title><script type="text/html">'
           '<input name="passcode"></script></html>')
    assert not auth.has_inputs(mfa)
    assert auth.has_inputs(page())


def test_empty_captcha_answer_is_refused():
    with pytest.raises(ValueError, match="^Missing captcha response$"):
        auth.check_captcha_answer("  ")
    assert auth.check_captcha_answer(" xY7k ") == "xY7k"


def test_region_redirect_gives_the_regional_sso_base():
    assert auth.sso_base_from_url("https://auth.tesla.cn/oauth2/v3/authorize?client_id=x") \
        == "https://auth.tesla.cn/"
    assert auth.sso_base_from_url("http://127.0.0.1:5001/oauth2/v3/authorize?a=1") \
        == "http://127.0.0.1:5001/"
    assert auth.sso_base_from_url("https://proxy.example/sso/oauth2/v3/authorize") \
        == "https://proxy.example/sso/"


# -- MFA --------------------------------------------------------------------------------

FACTORS = [
    {"id": "f1", "name": "Device #1", "factorType": "token:software"},
    {"id": "f2", "name": "Device #2", "factorType": "token:software"},
    {"id": "f3", "name": "Phone SMS", "factorType": "sms"},
]


def test_factor_is_chosen_by_name_or_dict():
    assert auth.choose_factor(FACTORS, "Device #2") is FACTORS[1]
    assert auth.choose_factor(FACTORS, FACTORS[0]) is FACTORS[0]
    assert auth.choose_factor(FACTORS, "") is None
    assert auth.choose_factor(FACTORS, None) is None


def test_unknown_factor_name_and_non_totp_factors_are_refused():
    with pytest.raises(ValueError, match="^No such factor name Device #9$"):
        auth.choose_factor(FACTORS, "Device #9")
    with pytest.raises(NotImplementedError, match="^sms factor is not implemented$"):
        auth.choose_factor(FACTORS, "Phone SMS")


def test_factor_list_reply():
    assert auth.factors_from_reply({"data": FACTORS}) == FACTORS
    with pytest.raises(ValueError, match="^No registered factors$"):
        auth.factors_from_reply({"data": []})
    with pytest.raises(ValueError, match="not understood"):
        auth.factors_from_reply({"error": "x"})


def test_verify_reply_errors_carry_the_server_message():
    auth.check_verify_reply({"data": {"valid": True, "approved": True}})
    with pytest.raises(ValueError, match="^Invalid passcode$"):
        auth.check_verify_reply({"data": {"valid": False}})
    with pytest.raises(ValueError, match="^Passcode must be 6 digits$"):
        auth.check_verify_reply({"error": {"code": "ERR_OBJECT_VALIDATION",
                                           "message": "Passcode must be 6 digits"}})
    with pytest.raises(ValueError, match="not understood"):
        auth.check_verify_reply(["no"])


def test_bodies_of_the_mfa_and_cancel_steps():
    assert auth.verify_body("t1", FACTORS[0], "123456") == {
        "transaction_id": "t1", "factor_id": "f1", "passcode": "123456"}
    assert auth.cancel_form("t1") == {"transaction_id": "t1", "cancel": "1"}
    assert auth.continue_form("t1") == {"transaction_id": "t1"}
    assert auth.owner_exchange_body() == {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "client_id": "e4a9949fcfa04068f59abb5a658f2bac0a3428e4652315490b659d5ab3f35a9e"}


# -- transport ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://127.9.9.9/", "http://[::1]:5000/",
                                 "http://localhost/", "ws://127.0.0.1:1/streaming/"])
def test_loopback_http_urls(url):
    assert transport.is_loopback_http(url)


@pytest.mark.parametrize("url", ["https://127.0.0.1/", "http://10.0.0.1/", "http://example.com/",
                                 "http://127.0.0.1.example.com/", "http://[::2]/", "", "ftp://localhost/"])
def test_other_urls_are_not_loopback_http(url):
    assert not transport.is_loopback_http(url)


@pytest.mark.parametrize("url", ["https://auth.tesla.com/", "wss://streaming.vn.teslamotors.com/",
                                 "http://127.0.0.1:3/", "ws://localhost:1/streaming/"])
def test_secrets_may_go_to_https_and_loopback(url):
    transport.require_secure(url)


@pytest.mark.parametrize("url", ["http://auth.example.com/", "ws://10.0.0.1/streaming/",
                                 "http://127.0.0.1.example.com/", "ftp://localhost/"])
def test_secrets_never_go_in_clear_over_a_network(url):
    with pytest.raises(InsecureTransportError, match="refusing"):
        transport.require_secure(url)


def test_retry_int_becomes_a_retry_and_an_instance_is_kept():
    retry = transport.build_retry(3)
    assert (retry.total, retry.connect, retry.read, retry.status) == (3, 3, 3, 3)
    assert set(retry.status_forcelist) == {500, 502, 503, 504}
    assert retry.raise_on_status is False
    assert transport.build_retry(0).read is False     # read timeouts raise ReadTimeout
    mine = Retry(total=5, backoff_factor=0)
    assert transport.build_retry(mine) is mine
    for bad in (-1, "3", 2.5, True):
        with pytest.raises(ValueError, match="retry must be"):
            transport.build_retry(bad)


# -- the callback and the token reply, for any input -------------------------------------------



@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=20)))
def test_any_pasted_text_gives_a_code_or_a_clear_error(text, state):
    try:
        callback = auth.parse_callback(text, state)
    except (ValueError, OAuth2Error):
        return
    assert isinstance(callback.code, str) and callback.code


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
       st.text(max_size=20))
def test_the_code_and_state_of_a_callback_url_survive_any_characters(code, state):
    from urllib.parse import urlencode

    url = auth.REDIRECT_URI + "?" + urlencode({"code": code, "state": state, "issuer": "https://auth.tesla.com/oauth2/v3"})
    callback = auth.parse_callback(url, state)
    assert callback == auth.Callback(code, "https://auth.tesla.com/oauth2/v3")


@pytest.mark.parametrize("issuer, base", [
    ("https://auth.tesla.cn/oauth2/v3", "https://auth.tesla.cn/"),
    ("https://auth.tesla.com/oauth2/v3/", "https://auth.tesla.com/"),
    ("https://127.0.0.1:8443/sso/oauth2/v3", "https://127.0.0.1:8443/sso/"),
])
def test_the_sso_base_of_an_issuer(issuer, base):
    assert auth.sso_base_from_issuer(issuer) == base


def test_a_pkce_pair_is_rfc_7636():
    pair = auth.new_pkce()
    assert len(pair.verifier) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", pair.verifier)
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert pair.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert auth.new_pkce().verifier != pair.verifier


def reply(status: int, body: bytes, kind: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = kind
    response.url = "https://auth.tesla.com/oauth2/v3/token"
    return response


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=200, max_value=599), st.binary(max_size=200))
def test_any_token_reply_gives_a_token_or_a_typed_error(status, body):
    try:
        token = auth.parse_token_reply(reply(status, body))
    except (OAuth2Error, requests.HTTPError, teslapy.ResponseError):
        return
    assert isinstance(token["access_token"], str) and token["access_token"]


def test_a_deeply_nested_token_reply_is_a_response_error():
    with pytest.raises(teslapy.ResponseError, match="not a JSON object"):
        auth.parse_token_reply(reply(200, b"[" * 100000))


@pytest.mark.parametrize("page", ["<![ ]>", "<!DOCTYPE", "<html><![if x]>"])
def test_markup_the_html_parser_cannot_read_is_a_response_error(page):
    try:
        form = auth.parse_form(page)
    except teslapy.ResponseError as error:
        assert "not HTML teslapy can read" in str(error)
    else:
        assert form == {}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_page_gives_inputs_or_a_response_error(page):
    try:
        auth.parse_form(page)
        auth.has_inputs(page)
        auth.parse_messages(page)
    except teslapy.ResponseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_token_text_gives_an_issuer_or_none(text):
    issuer = auth.token_issuer(text)
    assert issuer is None or isinstance(issuer, str)
