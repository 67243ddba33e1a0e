"""The console menu: scripted in-process on terminals of given sizes against the running
simulator, and ``python menu.py --demo`` on a pseudo-terminal for the real entry point."""
from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app_helpers import (
    DEVICE_2_SECRET, MENU, MFA_EMAIL, app_env, exit_status, on_terminal, press_ctrl_c, totp,
)
from teslapy_apps import menu, signin
from teslapy_apps.common import ExitCode, Terminal

ENDPOINT_NAME = re.compile(r"\b[A-Z]{3,}_[A-Z_]+\b")     # e.g. CHANGE_CHARGE_LIMIT
WAYS = signin.offered_methods()
SIGN_IN = "Choice [1-%d, empty to cancel]: " % len(WAYS)     # how to sign in
BY_BROWSER, BY_TOKEN, BY_PASSWORD = "1", "2", "3"
CARS = "Car [1-3, L logs out, 0 quits]: "


class Script:
    """A terminal of a given size that answers prompts from a list and keeps a
    transcript of the screen (lines printed, and each prompt with its answer, which
    a hidden prompt does not show). ``browser`` opens addresses (none by default)."""

    def __init__(self, answers, columns=80, lines=24, browser=None):
        self.answers = list(answers)
        self.size = os.terminal_size((columns, lines))
        self.browser = browser or (lambda url: False)
        self.prompts = []
        self.hidden = []                # the prompts asked without echo
        self.output = []
        self.transcript = []

    def read(self, prompt, echo=True):
        self.prompts.append(prompt)
        if not self.answers:
            self.transcript.append(prompt)
            raise EOFError
        answer = self.answers.pop(0)
        answer = answer() if callable(answer) else answer
        self.transcript.append(prompt + answer if echo else prompt)
        return answer

    def read_secret(self, prompt):
        self.hidden.append(prompt)
        return self.read(prompt, echo=False)

    def write(self, *parts):
        text = " ".join(str(p) for p in parts)
        self.output.append(text)
        self.transcript.extend(text.split("\n"))

    def console(self):
        return menu.Console(self.read, self.read_secret, self.write, lambda: self.size,
                            self.browser)

    @property
    def text(self):
        return "\n".join(self.output)

    def screen_at(self, prompt_number):
        """What the terminal shows when the given prompt (0-based) is asked: the last
        ``lines`` lines of the transcript up to and including that prompt."""
        seen = -1
        for index, line in enumerate(self.transcript):
            if any(line.startswith(p) for p in self.prompts) and line.startswith(
                    self.prompts[seen + 1]):
                seen += 1
                if seen == prompt_number:
                    return self.transcript[max(0, index + 1 - self.size.lines):index + 1]
        raise AssertionError("no prompt %d" % prompt_number)


def run_menu(script, *args, email="elon@tesla.com", geocoder=None):
    return menu.main(["-e", email, "--no-geocode", *args], console=script.console(),
                     geocoder=geocoder)


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path, monkeypatch, sim_env):
    """Against the test's simulator; the token cache in the test's own directory."""
    monkeypatch.chdir(tmp_path)


# -- layout ----------------------------------------------------------------------------

LABELS = st.text(st.characters(whitelist_categories=("L", "N", "P", "Zs")), min_size=1,
                max_size=30).map(str.strip).filter(bool)


@given(st.lists(LABELS, min_size=1, max_size=30), st.integers(min_value=1, max_value=200))
def test_columns_keep_every_item_in_order_within_the_width(items, width):
    lines = menu.columns(items, width)
    cell = max(map(len, items)) + 3
    count = -(-len(items) // len(lines))
    read = [line[column * cell:(column + 1) * cell].rstrip()
            for column in range(count) for line in lines if len(line) > column * cell]
    assert read == items                    # top to bottom, then left to right
    if count > 1:
        assert max(map(len, lines)) < width


PRINTABLE = st.characters(whitelist_categories=("L", "N", "P", "S", "Zs"))


@given(st.lists(st.tuples(st.text(PRINTABLE, max_size=40), st.text(max_size=80)), max_size=8),
       st.integers(min_value=30, max_value=120))
def test_panels_are_boxes_of_their_width(rows, width):
    lines = menu.panel("Title", rows, width)
    assert {len(line) for line in lines} == {width}
    assert lines[0] == lines[2] == lines[-1] == "+" + "-" * (width - 2) + "+"


@given(st.text(max_size=12))
def test_a_choice_is_a_number_or_a_name_else_asked_again(typed):
    answers = [typed, "2"]
    told = []
    terminal = Terminal(lambda prompt: answers.pop(0), write=told.append)
    index = terminal.choose("Which?", ["Frunk", "Trunk"])
    typed = typed.strip()
    if typed in ("1", "Frunk"):
        assert index == 0 and answers == ["2"]
    elif typed in ("2", "Trunk"):
        assert index == 1 and answers == ["2"]
    elif not typed:
        assert index is None and answers == ["2"]
    else:                                   # asked again, and the 2 read
        assert index == 1 and told[-1] == "Please enter a number from 1 to 2."


def test_an_80_by_24_terminal_shows_each_result_with_the_actions():
    script = Script([BY_PASSWORD, "starship", "1", "7", "4", "", "0", "0"], columns=80,
                    lines=24)
    assert run_menu(script) == 0, script.text
    assert max(len(line) for line in script.transcript) <= 80
    assert script.prompts[2:] == [CARS, "Choice [0-18]: ",
                                  "Choice [0-18]: ",
                                  "Choice [0-18, Enter shows the actions]: ",
                                  "Choice [0-18]: ", CARS]
    after_lock = script.screen_at(4)
    assert "Tim's Tesla is locked." in after_lock
    assert any(line.startswith("Tim's Tesla (online): 44 %, 160.7 km, Charging, inside "
                               "21.0 °C, locked") for line in after_lock)
    assert any(" 7) Unlock" in line for line in after_lock)
    after_sites = script.screen_at(5)        # the table stays, the actions on request
    assert after_sites[-11].startswith("Type ") and "Ring Road Supercharger" in \
        after_sites[-9]
    assert any(" 0) Back to the car list" in line for line in script.screen_at(6))
    assert script.output[-1] == "Bye."
    assert not ENDPOINT_NAME.search(script.text)


def test_a_wide_terminal_shows_the_dashboard_side_by_side():
    script = Script([BY_PASSWORD, "starship", "1", "0", "0"], columns=160, lines=60)
    assert run_menu(script) == 0, script.text
    titles = [line for line in script.output if "Climate" in line and "Vehicle" in line]
    assert titles and len(titles[0]) <= 160
    assert re.search(r"\| Inside: +21\.0 °C", script.text)
    assert re.search(r"\| Position: +52\.531951, 6\.156999", script.text)


def test_a_narrow_terminal_stacks_the_panels():
    script = Script([BY_PASSWORD, "starship", "1", "1", "0", "0"], columns=60, lines=40)
    assert run_menu(script) == 0, script.text
    assert max(len(line) for line in script.transcript) <= 60
    assert not [line for line in script.output if "Climate" in line and "Vehicle" in line]
    order = [title for line in script.output for title in ("Climate", "Vehicle", "Drive",
                                                           "Charge")
             if re.fullmatch(r"\| +%s +\|" % title, line)]
    assert order == ["Climate", "Vehicle", "Drive", "Charge"]


# -- cars and actions ---------------------------------------------------------------------

def test_an_asleep_car_offers_wake_up_first_then_speaks_fahrenheit(world):
    world.vehicles[1].wake_delay = 0
    script = Script([BY_PASSWORD, "starship", "2", "1", "9", "99", "70", "1", "0", "0"])
    assert run_menu(script) == 0, script.text
    asleep = script.screen_at(3)
    status = "Nikola (asleep): wake it up to see its data and send commands"
    assert [line for line in asleep[asleep.index(status):] if ") " in line] == [
        " 1) Wake up                       3) Car details (VIN, options)",
        " 2) Refresh                       0) Back to the car list"]
    assert script.prompts[3:6] == ["Choice [0-3]: ", "Choice [0-18]: ",
                                   "Temperature in °F [59.0-82.4]: "]
    assert "Nikola is online." in script.text
    assert "Please enter a number from 59.0 to 82.4." in script.text
    assert "Climate temperature set to 70 °F." in script.text
    assert world.vehicles[1].data["climate_state"]["driver_temp_setting"] == \
        pytest.approx(21.11, abs=0.01)
    assert re.search(r"Driver setting: +70\.0 °F", script.text)


def test_a_car_that_fell_asleep_is_told_in_words_and_offers_wake_up(world):
    def fall_asleep():
        world.vehicles[0].data["state"] = "asleep"
        return "7"

    script = Script([BY_PASSWORD, "starship", "1", fall_asleep, "0", "0"])
    assert run_menu(script) == 0, script.text
    assert "Tim's Tesla is asleep or offline: choose Wake up" in script.text
    assert "408" not in script.text
    assert script.prompts[4] == "Choice [0-3]: "


def test_back_returns_to_the_car_list_and_0_there_quits():
    script = Script([BY_PASSWORD, "starship", "3", "0", "2", "0", "0"])
    assert run_menu(script) == 0
    assert script.prompts[2:] == [CARS, "Choice [0-18]: ",
                                  CARS, "Choice [0-3]: ",
                                  CARS]
    assert "Road Runner (online)" in script.text and "Nikola (asleep)" in script.text
    assert script.output[-1] == "Bye."


def test_car_details_decode_the_vin_and_list_the_options():
    script = Script([BY_PASSWORD, "starship", "1", "3", "0", "0"])
    assert run_menu(script) == 0
    assert "Tim's Tesla (VIN 5YJ3E111111111111)" in script.text
    assert re.search(r"  Make: +Model 3", script.text)
    options = script.output.index("Option codes:")
    assert script.output[options + 1].startswith("  ")
    assert max(len(line) for line in script.transcript) <= 80


def test_every_action_reaches_the_car_and_is_told_in_words(world):
    script = Script([
        BY_PASSWORD, "starship", "1",
        "2",                    # refresh
        "5", "6",               # horn, lights
        "7",                    # lock
        "8",                    # climate off (it is on)
        "9", "19.5",            # set temperature
        "10", "2",              # open the trunk
        "11",                   # remote start
        "12", "75",             # charge limit
        "14",                   # stop charging (it is charging)
        "13",                   # close the charge port
        "15", "Driver", "3",    # driver's seat heater to 3 (chosen by name)
        "16", "1",              # media: toggle playback
        "17", "1",              # vent the windows
        "18",                   # max defrost on
        "0", "0",
    ])
    assert run_menu(script) == 0
    for told in ("Tim's Tesla is online: data read.", "Horn honked.", "Lights flashed.",
                 "Tim's Tesla is locked.", "Climate off.",
                 "Climate temperature set to 19.5 °C.", "Trunk opened.",
                 "Keyless driving is on: drive within two minutes.",
                 "Charge limit set to 75 %.", "Charging stopped.", "Charge port closed.",
                 "Driver seat heater set to 3.", "Playback toggled.", "Windows vented.",
                 "Max defrost on."):
        assert told in script.output, told
    assert not ENDPOINT_NAME.search(script.text)
    car = world.vehicles[0].data
    assert car["vehicle_state"]["locked"] is True
    assert car["climate_state"]["driver_temp_setting"] == 19.5
    assert car["vehicle_state"]["rt"] != 0
    assert car["vehicle_state"]["remote_start"] is True
    assert car["charge_state"]["charge_limit_soc"] == 75
    assert car["charge_state"]["charging_state"] != "Charging"
    assert car["charge_state"]["charge_port_door_open"] is False
    assert car["climate_state"]["seat_heater_left"] == 3
    assert car["vehicle_state"]["fd_window"] != 0
    assert car["climate_state"]["is_front_defroster_on"] is True


def test_a_refused_command_is_told_in_words(world):
    world.vehicles[0].data["vehicle_state"]["is_user_present"] = False
    script = Script([BY_PASSWORD, "starship", "1", "16", "1", "0", "0"])
    assert run_menu(script) == 0
    assert "Tim's Tesla refused: nobody is in the car (user_not_present)" in script.output
    assert "Playback toggled." not in script.output


# -- logging in --------------------------------------------------------------------------

def test_mfa_prompts_and_address_lookup():
    script = Script([BY_PASSWORD, "starship", "2", lambda: totp(DEVICE_2_SECRET), "1", "0", "0"],
                    columns=120, lines=60)
    looked_up = []

    def geocoder(latitude, longitude):
        looked_up.append((latitude, longitude))
        return "1 Test Street, Testville"

    code = menu.main(["-e", MFA_EMAIL], console=script.console(), geocoder=geocoder)
    assert code == 0, script.text
    assert script.prompts[:4] == [SIGN_IN, "Password: ", "Choice [1-2, empty to cancel]: ",
                                  "Passcode: "]
    assert "  2) Device #2" in script.output
    assert "Second Signal" in script.text
    position = [line for line in script.output if "Position:" in line][0]
    assert "1 Test Street," in position     # wrapped inside the Drive panel
    assert looked_up


def test_failing_geocoder_falls_back_to_coordinates():
    calls = []

    def unreachable(latitude, longitude):
        calls.append(1)
        raise OSError("no route to host")

    script = Script([BY_PASSWORD, "starship", "1", "1", "1", "0", "0"])
    code = menu.main(["-e", "elon@tesla.com"], console=script.console(), geocoder=unreachable)
    assert code == 0, script.text
    assert "52.531951, 6.156999" in script.text
    assert calls == [1]                     # given up after the first failure


def test_wrong_passwords_end_the_menu_cleanly():
    script = Script([BY_PASSWORD, "nope-1", "nope-2", "nope-3"])
    assert run_menu(script) == ExitCode.LOGIN_FAILED
    assert script.prompts == [SIGN_IN] + ["Password: "] * 3
    assert script.text.count("Login failed") == 2       # the third goes to stderr


def test_a_mistyped_factor_or_wrong_passcode_asks_again_not_the_password():
    code = totp(DEVICE_2_SECRET)
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    script = Script([BY_PASSWORD, "", "starship", "3", "Device #9", "Device #2", wrong,
                     "2", lambda: totp(DEVICE_2_SECRET), "0"])
    assert run_menu(script, email=MFA_EMAIL) == 0, script.text
    assert script.prompts[:3] == [SIGN_IN, "Password: ", "Password: "]      # empty asks again
    assert script.prompts.count("Password: ") == 2
    assert script.prompts.count("Passcode: ") == 2
    assert script.output.count("Please enter a number from 1 to 2.") == 2
    assert "Login failed: Invalid passcode" in script.text
    assert wrong not in script.text
    assert "Second Signal" in script.text


def test_cancelled_factor_choice_ends_the_login():
    script = Script([BY_PASSWORD, "starship", ""])
    assert run_menu(script, email=MFA_EMAIL) == ExitCode.LOGIN_FAILED
    assert script.prompts == [SIGN_IN, "Password: ", "Choice [1-2, empty to cancel]: "]


def test_a_recaptcha_ends_the_login_at_once(sim_env_2026, capsys):
    script = Script([BY_PASSWORD, "starship", "starship"])
    assert run_menu(script) == ExitCode.RECAPTCHA_REQUIRED
    assert script.prompts == [SIGN_IN, "Password: "]    # no point in asking again
    assert capsys.readouterr().err == (
        "Tesla's sign-in page asks for a reCAPTCHA, which only a browser can solve, so "
        "the password sign-in cannot go on: sign in again, in a browser or with a refresh "
        "token\n")


def test_browser_sign_in_asks_again_on_a_mistyped_address_and_restarts_on_another(
        sim_env_2026, sim_2026, browser):
    script = Script([
        BY_BROWSER,
        lambda: browser.opened[-1],             # the sign-in page's own address
        "tesla://auth/callback?code=abc&state=another-sign-in",
        lambda: browser.landed[-1],             # where the browser was sent: right
        "0"], browser=browser)
    assert run_menu(script) == 0, script.text
    assert script.prompts == [SIGN_IN] + ["URL after signing in (empty to cancel): "] * 3 + [
        CARS]
    first, second = browser.opened              # a new sign-in after the other's address
    assert first != second and len(browser.landed) == 2
    assert [line for line in script.output if line.startswith("Login failed")] == [
        "Login failed: The URL holds no authorization code: copy the address the browser "
        "was sent to after signing in (it starts with tesla://auth/callback?code=)",
        "Login failed: That address belongs to another sign-in (an older tab or window), "
        "or is not the one the browser ended on: sign in again"]
    assert script.text.count("Sign in to Tesla in your browser:") == 2
    assert "Tim's Tesla" in script.text
    assert sim_2026.world.token_mints[-1].grant_type == "authorization_code"


def test_without_a_browser_the_address_is_there_to_copy(sim_env_2026, sim_2026):
    script = Script([BY_BROWSER, ""])
    assert run_menu(script) == ExitCode.LOGIN_FAILED
    assert sim_2026.urls["sso_base_url"] + "oauth2/v3/authorize?" in script.text
    assert "(No browser could be opened here: open the address above in one.)" in \
        script.output


def test_refresh_token_is_asked_without_echo(sim_env_2026, sim_2026, tmp_path):
    token = sim_2026.refresh_token_for("elon@tesla.com")
    script = Script([BY_TOKEN, token, "0"])
    assert run_menu(script) == 0, script.text
    assert script.hidden == ["Refresh token (not shown): "]
    assert token not in "\n".join(script.transcript)
    assert "Tim's Tesla" in script.text
    assert "elon@tesla.com" in (tmp_path / "cache.json").read_text()


def test_log_out_forgets_this_account_and_signing_in_again_is_offered(
        sim_env_2026, sim_2026, tmp_path):
    cache = tmp_path / "cache.json"
    tokens = {email: sim_2026.refresh_token_for(email)
              for email in ("elon@tesla.com", "solo@tesla.com")}
    for email, token in tokens.items():
        assert run_menu(Script([BY_TOKEN, token, "0"]), email=email) == 0
    script = Script(["L", BY_TOKEN, lambda: sim_2026.refresh_token_for("elon@tesla.com"),
                     "l", ""])
    assert run_menu(script) == 0, script.text            # signed in from the cache
    assert script.prompts == [CARS, SIGN_IN, "Refresh token (not shown): ", CARS, SIGN_IN]
    sign_out = sim_2026.urls["sso_base_url"] + "oauth2/v3/logout?client_id=ownerapi"
    assert script.output.count("  " + sign_out) == 2
    assert "Logged out of elon@tesla.com: its tokens are forgotten here." in script.output
    assert script.output[-1] == "Bye."               # no way chosen: the menu ends
    assert set(json.loads(cache.read_text())) == {"solo@tesla.com"}


def test_the_demo_signs_in_with_the_simulators_token_and_again_after_log_out():
    script = Script(["L", BY_TOKEN, "1", "5", "0", "0"])
    assert menu.main(["--demo", "--no-geocode"], console=script.console()) == 0, \
        script.text
    assert script.prompts == [CARS, SIGN_IN, CARS, "Choice [0-18]: ", "Choice [0-18]: ",
                              CARS]
    assert "Tim's Tesla accepts only commands signed with Tesla's Vehicle Command " \
        "Protocol, through the Fleet API with a paired command key (cli.py --fleet " \
        "--command-key KEY)" in script.output
    assert "Horn honked." not in script.output


def read_captcha(script, seen):
    """The characters of the captcha the menu told about last; notes its file."""
    path = re.findall(r"open (\S+\.svg) to see it", script.text)[-1]
    seen.append(path)
    root = ElementTree.parse(path).getroot()
    return "".join(n.text or "" for n in root.iter("{http://www.w3.org/2000/svg}text"))


def test_captcha_is_shown_as_a_file_and_asked_again_when_mistyped():
    seen = []
    script = Script([BY_PASSWORD, "starship", "", "WRONG", "WRONG",
                     lambda: read_captcha(script, seen)])
    assert run_menu(script, email="captcha@tesla.com") == 0, script.text
    assert script.prompts == [SIGN_IN, "Password: "] + ["Captcha: "] * 4 + [
        "Car [L logs out, 0 quits]: "]
    assert "Login failed: Credentials rejected. Captcha does not match" in script.text
    assert "No vehicles on this account." in script.text      # logged in
    assert seen and not os.path.exists(seen[0])


# -- the real entry point -------------------------------------------------------------------

@pytest.fixture
def demo_menu(tmp_path):
    """``python menu.py --demo`` on an 80x24 pseudo-terminal."""
    child = on_terminal(MENU, "--demo", cwd=str(tmp_path), env=app_env(), dimensions=(24, 80))
    yield child
    if child.isalive():
        child.terminate(force=True)


def finish(child) -> int:
    status = exit_status(child)
    assert "Traceback" not in child.before
    return status


def test_demo_menu_on_a_terminal(demo_menu):
    child = demo_menu
    child.expect(re.escape(CARS))
    child.sendline("x")
    child.expect(re.escape("Please enter a car's number, 0 or L."))
    child.sendline("1")
    child.expect(r"Tim's Tesla \(online\): 44 %")
    child.expect(r"Choice \[0-18\]: ")
    child.sendline("0")
    child.expect(re.escape(CARS))
    child.sendline("0")
    child.expect("Bye.")
    assert finish(child) == 0


def test_ctrl_c_exits_130(demo_menu):
    child = demo_menu
    child.expect(re.escape(CARS))
    press_ctrl_c(child)
    child.expect("Interrupted.")
    assert finish(child) == ExitCode.INTERRUPTED
