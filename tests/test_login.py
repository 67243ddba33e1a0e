"""Every way a login through the simulated SSO can go, as a user of ``Tesla`` sees it."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import struct
import xml.etree.ElementTree as ElementTree

import pytest

import teslapy
from teslapy import CustomOAuth2Error, ResponseError

PASSWORD = "starship"


# -- an authenticator app (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps) -------------------


def totp(secret: str, now: float, step: int = 30, digits: int = 6) -> str:
    """The passcode an authenticator app shows at Unix time ``now`` for a base32 secret."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(now // step)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def test_totp_matches_the_rfc_6238_vectors():
    # RFC 6238 appendix B, SHA-1 seed "12345678901234567890", last 6 digits
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59) == "287082"
    assert totp(secret, 1111111109) == "081804"
    assert totp(secret, 2000000000) == "279037"


def factor_secret(world, email: str, name: str) -> str:
    return next(f.secret for f in world.account(email).factors if f.name == name)


def passcode_for(world, email: str, name: str):
    """A passcode getter reading the simulator's clock, as a phone beside it would."""
    return lambda: totp(factor_secret(world, email, name), world.clock.now())


def read_captcha(svg: bytes) -> str:
    """Solve the captcha the way a person does: read the drawn characters in order."""
    root = ElementTree.fromstring(svg)
    return "".join(node.text or "" for node in root.iter("{http://www.w3.org/2000/svg}text"))


def cached(cache_file: str) -> dict:
    with open(cache_file, encoding="utf-8") as handle:
        return json.load(handle)


# -- plain login ---------------------------------------------------------------------------


def test_plain_login_gets_an_owner_api_token_and_caches_it(make_tesla, sim, cache_file):
    tesla = make_tesla("elon@tesla.com", PASSWORD)
    assert not tesla.authorized
    token = tesla.fetch_token()
    assert tesla.authorized and token is tesla.token
    assert token["access_token"].startswith("qts-")
    assert token["expires_in"] == 3888000 and isinstance(token["created_at"], int)
    assert tesla.sso_token["refresh_token"] and tesla.sso_token["access_token"]
    entry = cached(cache_file)["elon@tesla.com"]
    assert entry == {"url": sim.urls["sso_base_url"], "sso": tesla.sso_token, "ownerapi": tesla.token,
                     "api_url": sim.urls["api_base_url"]}
    assert [v["display_name"] for v in tesla.vehicle_list()] == ["Tim's Tesla", "Nikola", "Road Runner"]


def test_fetch_token_with_a_cached_token_makes_no_sso_call(make_tesla, sim):
    make_tesla().fetch_token()
    sso_down = sim.faults.add(service="sso", status=500, times=None)
    again = make_tesla("elon@tesla.com", "")
    assert again.fetch_token()["access_token"] == again.token["access_token"]
    assert again.vehicle_list()
    assert sso_down.hits == 0


def test_no_password_and_nothing_cached_is_a_clear_error(make_tesla, cache_file):
    with pytest.raises(ValueError, match="No usable token is cached and there is no terminal"):
        make_tesla("elon@tesla.com", "").fetch_token()


def test_wrong_password_is_rejected_with_the_server_message(make_tesla, cache_file, tmp_path):
    tesla = make_tesla("elon@tesla.com", "hunter2")
    with pytest.raises(ValueError) as caught:
        tesla.fetch_token()
    assert str(caught.value) == "Credentials rejected. Invalid credentials"
    assert not tesla.authorized
    assert list(tmp_path.iterdir()) == []       # nothing cached


# -- captcha ------------------------------------------------------------------------------------


def test_captcha_is_solved_before_the_first_submit(make_tesla):
    images = []

    def solver(svg):
        images.append(svg)
        return read_captcha(svg)

    tesla = make_tesla("captcha@tesla.com", PASSWORD, captcha_solver=solver)
    tesla.fetch_token()
    assert tesla.authorized
    assert len(images) == 1 and images[0].startswith(b"<svg")


def test_captcha_asked_after_a_submit_is_solved_and_sent_once_more(make_tesla):
    images = []
    tesla = make_tesla("recheck@tesla.com", PASSWORD)
    tesla.captcha_solver = lambda svg: images.append(svg) or read_captcha(svg)   # set as attribute
    tesla.fetch_token()
    assert tesla.authorized and len(images) == 1


def test_empty_captcha_answer_stops_the_login(make_tesla):
    tesla = make_tesla("captcha@tesla.com", PASSWORD, captcha_solver=lambda svg: "")
    with pytest.raises(ValueError, match="^Missing captcha response$"):
        tesla.fetch_token()


def test_wrong_captcha_is_retried_once_then_rejected(make_tesla):
    answers = []
    tesla = make_tesla("captcha@tesla.com", PASSWORD, captcha_solver=lambda svg: answers.append(1) or "0000")
    with pytest.raises(ValueError) as caught:
        tesla.fetch_token()
    assert str(caught.value) == "Credentials rejected. Captcha does not match"
    assert len(answers) == 2


# -- MFA -----------------------------------------------------------------------------------------


def test_a_single_factor_is_used_without_asking(make_tesla, world):
    def selector(factors):
        raise AssertionError("one factor must be chosen automatically")

    tesla = make_tesla("solo@tesla.com", PASSWORD, passcode_for(world, "solo@tesla.com", "Phone"), selector)
    tesla.fetch_token()
    assert tesla.authorized


def test_two_factors_chosen_by_name(make_tesla, world):
    offered = []

    def selector(factors):
        offered.extend(f["name"] for f in factors)
        return "Device #2"

    tesla = make_tesla("mfa@tesla.com", PASSWORD, passcode_for(world, "mfa@tesla.com", "Device #2"), selector)
    tesla.fetch_token()
    assert tesla.authorized and offered == ["Device #1", "Device #2"]
    assert tesla.vehicle_list()[0]["display_name"] == "Second Signal"


def test_two_factors_chosen_by_dict(make_tesla, world):
    tesla = make_tesla("mfa@tesla.com", PASSWORD)
    tesla.passcode_getter = passcode_for(world, "mfa@tesla.com", "Device #2")
    tesla.factor_selector = lambda factors: factors[1]          # not the first one
    tesla.fetch_token()
    assert tesla.authorized


def test_passcode_of_the_other_device_is_invalid(make_tesla, world):
    tesla = make_tesla("mfa@tesla.com", PASSWORD, passcode_for(world, "mfa@tesla.com", "Device #1"),
                       lambda factors: "Device #2")
    with pytest.raises(ValueError, match="^Invalid passcode$"):
        tesla.fetch_token()
    assert not tesla.authorized


def test_malformed_passcode_gives_the_server_message(make_tesla):
    tesla = make_tesla("solo@tesla.com", PASSWORD, lambda: "12ab")
    with pytest.raises(ValueError, match="^Passcode must be 6 digits$"):
        tesla.fetch_token()


def test_unknown_factor_name_is_a_value_error(make_tesla):
    tesla = make_tesla("mfa@tesla.com", PASSWORD, lambda: "123456", lambda factors: "Device #9")
    with pytest.raises(ValueError, match="^No such factor name Device #9$"):
        tesla.fetch_token()


@pytest.mark.parametrize("email, passcode, factor", [
    ("solo@tesla.com", "", None),                 # empty passcode
    ("mfa@tesla.com", "", "Device #1"),           # empty passcode after choosing
    ("mfa@tesla.com", "123456", ""),              # empty factor
])
def test_empty_passcode_or_factor_cancels_the_login(make_tesla, tmp_path, email, passcode, factor):
    tesla = make_tesla(email, PASSWORD, lambda: passcode, lambda factors: factor)
    with pytest.raises(CustomOAuth2Error) as caught:
        tesla.fetch_token()
    assert str(caught.value) == "(login_cancelled) User cancelled login"
    assert not tesla.authorized and list(tmp_path.iterdir()) == []


# -- the stdio defaults -------------------------------------------------------------------------


def test_default_prompts_show_the_captcha_in_the_browser_and_read_stdin(make_tesla, world, monkeypatch, capsys):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    prompts, shown = [], []

    def typed(prompt):
        prompts.append(prompt)
        if prompt == "Captcha: ":
            path = opened[-1][len("file://"):]
            shown.append(path)
            with open(path, "rb") as handle:
                svg = handle.read()
            return read_captcha(svg)
        if prompt == "Select factor: ":
            return "2"
        return totp(factor_secret(world, "mfa@tesla.com", "Device #2"), world.clock.now())

    monkeypatch.setattr("builtins.input", typed)
    world.account("mfa@tesla.com").captcha = "always"
    tesla = make_tesla("mfa@tesla.com", PASSWORD)
    tesla.fetch_token()
    assert tesla.authorized
    assert prompts == ["Captcha: ", "Select factor: ", "Passcode: "]
    assert opened[0].startswith("file://") and opened[0].endswith(".svg")
    assert capsys.readouterr().out == f"Captcha image: {shown[0]}\n1: Device #1\n2: Device #2\n"
    assert not os.path.exists(shown[0])                   # removed once answered


# -- region redirect -------------------------------------------------------------------------


def test_china_account_follows_the_region_redirect_and_stays_there(make_tesla, sim, cache_file):
    tesla = make_tesla("cn@tesla.cn", PASSWORD)
    tesla.fetch_token()
    cn_base = sim.urls["sso_cn_base_url"]
    assert tesla.token["access_token"].startswith("cn-")
    assert tesla.active_sso_base_url == cn_base
    assert tesla.sso_base_url == sim.urls["sso_base_url"]          # the setting is unchanged
    assert cached(cache_file)["cn@tesla.cn"]["url"] == cn_base
    # The cn SSO only honours its own refresh tokens: this succeeds only at the cn host.
    old = tesla.token["access_token"]
    tesla.refresh_token()
    assert tesla.token["access_token"] != old


def test_a_later_process_refreshes_a_china_account_at_the_cn_host(make_tesla, sim):
    make_tesla("cn@tesla.cn", PASSWORD).fetch_token()
    global_sso = sim.faults.add(service="sso", status=500, times=None)
    later = make_tesla("cn@tesla.cn", "")
    later.refresh_token()
    assert later.vehicle_list()[0]["display_name"] == "Shanghai Express"
    assert global_sso.hits == 0


def test_a_redirect_to_plain_http_elsewhere_is_never_followed(make_tesla, sim):
    moved = sim.faults.add(service="sso", method="GET", path="/oauth2/v3/authorize$", status=303,
                           headers={"Location": "http://sso.example.com/oauth2/v3/authorize?x=1"})
    with pytest.raises(teslapy.InsecureTransportError, match="http://sso.example.com/"):
        make_tesla().fetch_token()
    assert moved.hits == 1


def test_an_sso_refusal_sent_to_the_callback_is_raised_not_followed(make_tesla, sim):
    sim.faults.add(service="sso", method="GET", path="/oauth2/v3/authorize$", status=302,
                   headers={"Location": "https://auth.tesla.com/void/callback?error=access_denied"
                                        "&error_description=Denied&state=not-ours"})
    # oauthlib checks the state first; the callback host itself is never contacted
    with pytest.raises(teslapy.MismatchingStateError):
        make_tesla().fetch_token()


# -- failures that must store nothing ---------------------------------------------------------


def test_failed_owner_api_exchange_raises_and_stores_nothing(make_tesla, sim, tmp_path):
    sim.faults.add(service="api", path="^/oauth/token$", status=401,
                   body={"response": "unsupported_authentication_method_-_please_update_to_the_latest_version"})
    tesla = make_tesla()
    with pytest.raises(teslapy.HTTPError) as caught:
        tesla.fetch_token()
    assert str(caught.value).startswith(
        "401 Client Error: unsupported_authentication_method_-_please_update_to_the_latest_version for url: ")
    assert not tesla.authorized and not tesla.sso_token
    assert list(tmp_path.iterdir()) == []


# -- broken replies at each step of the login ---------------------------------------------------

AUTHORIZE_GET = dict(service="sso", method="GET", path="/oauth2/v3/authorize$")
AUTHORIZE_POST = dict(service="sso", method="POST", path="/oauth2/v3/authorize$")
PASS_THROUGH = dict(status=None)
FACTORS = dict(service="sso", path="/mfa/factors$")
VERIFY = dict(service="sso", path="/mfa/verify$")
SSO_TOKEN = dict(service="sso", path="/oauth2/v3/token$")
EXCHANGE = dict(service="api", path="^/oauth/token$")
NOT_JSON = "(200, text/plain; charset=utf-8) is not"


@pytest.mark.parametrize("email, faults, error, message", [
    # the sign-in page
    ("elon@tesla.com", [dict(AUTHORIZE_GET, status=200, body='<form><input name="identity"></form>')],
     ValueError, "The sign-in page has no transaction_id"),
    ("elon@tesla.com", [dict(AUTHORIZE_GET, status=200, body="")],
     ValueError, "The sign-in page has no transaction_id"),
    ("elon@tesla.com", [dict(AUTHORIZE_GET, status=500, body="<html><h1>Oops</h1></html>")],
     teslapy.HTTPError, "500 Server Error: Internal Server Error for url: "),
    # the reply to the credentials
    ("elon@tesla.com", [dict(AUTHORIZE_POST, status=200, body={"unexpected": True})],
     ResponseError, "The SSO answered the sign-in (200, application/json"),
    ("elon@tesla.com", [dict(AUTHORIZE_POST, status=302, body="")],
     ResponseError, "The SSO answered the sign-in (302, text/plain"),
    # MFA factors, passcode verification and the continue post
    ("solo@tesla.com", [dict(FACTORS, status=200, body="<html>maintenance</html>")],
     ResponseError, f"MFA factors: the reply {NOT_JSON} JSON"),
    ("solo@tesla.com", [dict(FACTORS, status=200, body=[{"id": "x"}])],
     ValueError, "The MFA factors reply is not understood (no data list)"),
    ("solo@tesla.com", [dict(FACTORS, status=200, body={"data": [{"name": "Phone", "factorType": "token:software"}]})],
     ValueError, "The selected MFA factor has no id"),
    ("solo@tesla.com", [dict(VERIFY, status=200, body="")],
     ResponseError, "The passcode verification reply is not JSON"),
    ("solo@tesla.com", [dict(VERIFY, status=200, body=["valid"])],
     ValueError, "The passcode verification reply is not understood"),
    ("solo@tesla.com", [dict(VERIFY, status=200, body={"data": [True]})],
     ValueError, "Invalid passcode"),
    ("solo@tesla.com", [dict(VERIFY, status=502, body="<html>Bad gateway</html>")],
     teslapy.HTTPError, "502 Server Error: Bad Gateway for url: "),
    ("solo@tesla.com", [dict(AUTHORIZE_POST, **PASS_THROUGH), dict(AUTHORIZE_POST, status=200, body="<html></html>")],
     ResponseError, "The SSO did not finish the sign-in after the passcode was accepted"),
    # code for SSO token
    ("elon@tesla.com", [dict(SSO_TOKEN, status=200, body={"token_type": "Bearer", "expires_in": 300})],
     teslapy.MissingTokenError, "(missing_token) Missing access token parameter."),
    ("elon@tesla.com", [dict(SSO_TOKEN, status=200, body="<html>maintenance</html>")],
     ResponseError, f"The SSO token reply {NOT_JSON} a JSON object"),
    ("elon@tesla.com", [dict(SSO_TOKEN, status=200, body=[])],
     ResponseError, "The SSO token reply (200, application/json; charset=utf-8) is not a JSON object"),
    ("elon@tesla.com", [dict(SSO_TOKEN, status=200, body={"access_token": 5, "token_type": "Bearer"})],
     ResponseError, "The SSO token reply holds no usable access token"),
    ("elon@tesla.com", [dict(SSO_TOKEN, status=400, body="<html>Bad request</html>")],
     teslapy.HTTPError, "400 Client Error: Bad Request for url: "),
    # SSO token for Owner API token (RFC 7523)
    ("elon@tesla.com", [dict(EXCHANGE, status=200, body="<html>maintenance</html>")],
     ResponseError, f"Owner API token: the reply {NOT_JSON} JSON"),
    ("elon@tesla.com", [dict(EXCHANGE, status=200, body="")],
     ResponseError, "Owner API token: the reply (200) is empty"),
    ("elon@tesla.com", [dict(EXCHANGE, status=200, body=["qts-1"])],
     ResponseError, "The Owner API token reply holds no access token"),
    ("elon@tesla.com", [dict(EXCHANGE, status=200, body={"token_type": "bearer"})],
     ResponseError, "The Owner API token reply holds no access token"),
])
def test_a_broken_reply_at_any_step_is_a_typed_error_and_stores_nothing(
        make_tesla, sim, world, tmp_path, email, faults, error, message):
    planned = [sim.faults.add(**fault) for fault in faults]
    tesla = make_tesla(email, PASSWORD, passcode_for(world, "solo@tesla.com", "Phone"))
    with pytest.raises(error) as caught:
        tesla.fetch_token()
    assert type(caught.value) is error                 # not a subclass such as KeyError
    assert str(caught.value).startswith(message)
    assert all(fault.hits == 1 for fault in planned)
    assert not tesla.authorized and not tesla.sso_token
    assert list(tmp_path.iterdir()) == []
    sim.faults.clear()
    world.clock.advance(30)                             # a fresh passcode: used ones replay
    tesla.fetch_token()                                 # the next try works
    assert tesla.authorized


# -- secrets never reach the logs -----------------------------------------------------------


@pytest.fixture
def everything_at_debug():
    """Every logger at DEBUG (as ``-d`` does), records collected from the library side."""
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            if not record.name.startswith(("teslasim", "hypercorn", "asyncio")):
                records.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    names = [None] + list(logging.root.manager.loggerDict)
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield records
    logging.getLogger().removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_login_refresh_and_calls_never_log_a_secret(make_tesla, world, everything_at_debug):
    passcodes = []

    def passcode():
        passcodes.append(totp(factor_secret(world, "solo@tesla.com", "Phone"), world.clock.now()))
        return passcodes[-1]

    tesla = make_tesla("solo@tesla.com", PASSWORD, passcode)
    tesla.fetch_token()
    first_sso, first_owner = dict(tesla.sso_token), dict(tesla.token)
    codes = list(world.auth_codes)
    tesla.refresh_token()
    tesla.vehicle_list()
    world.expire_bearers()
    tesla.vehicle_list()                              # 401, refresh and retry
    text = "\n".join(everything_at_debug)
    assert "oauth2/v3/token" in text or "oauth/token" in text   # the traffic was logged...
    secrets = [PASSWORD, *passcodes, *codes]
    for token in (first_sso, first_owner, tesla.sso_token, tesla.token):
        secrets += [token.get(key) for key in ("access_token", "refresh_token", "id_token")]
    secrets = [s for s in secrets if s]
    assert len(secrets) >= 10
    for secret in secrets:
        assert secret not in text                     # ...but none of its secrets
        assert secret not in repr(tesla) and secret not in str(tesla)
    assert "code_verifier" not in text and "credential" not in text
