"""The console menu: driven through a pseudo-terminal in --demo, and scripted in-process
against the running simulator for the MFA prompts and the address lookup."""
from __future__ import annotations

import sys

import pexpect
import pytest

from app_helpers import DEVICE_2_SECRET, MENU, MFA_EMAIL, app_env, totp
from teslapy_apps import menu
from teslapy_apps.common import ExitCode

CHOICE = r"Choice \[0-\d+\]: "


@pytest.fixture
def demo_menu(tmp_path):
    """``python menu.py --demo`` on a pseudo-terminal."""
    child = pexpect.spawn(sys.executable, [MENU, "--demo"], cwd=str(tmp_path),
                          env=app_env(), encoding="utf-8", timeout=30,
                          dimensions=(60, 160))
    yield child
    if child.isalive():
        child.terminate(force=True)


def action_number(child, label: str) -> str:
    """The number the menu shows for an action (the text before the prompt)."""
    child.expect(CHOICE)
    for line in child.before.splitlines():
        parts = line.strip().split(") ", 1)
        if len(parts) == 2 and parts[1].strip() == label:
            return parts[0].strip()
    raise AssertionError("no action %r in:\n%s" % (label, child.before))


def finish(child) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in child.before
    return child.exitstatus


def test_demo_menu_session_with_bad_input(demo_menu):
    child = demo_menu
    child.expect("Tim's Tesla")
    child.expect(r"Vehicle \[1-3\]: ")
    for bad, answer in (("x", "Please enter a number."), ("9", "from 1 to 3"),
                        ("-1", "from 1 to 3")):
        child.sendline(bad)
        child.expect(answer)
        child.expect(r"Vehicle \[1-3\]: ")
    child.sendline("")
    child.expect(r"Vehicle \[1-3\]: ")
    child.sendline("1")
    child.expect("Make: +Model 3")
    child.expect("Option codes:")
    child.expect(r"Inside: +21.0 C")
    child.expect(r"Locked: +no")
    child.expect(r"Battery level: +44 %")
    lock = action_number(child, "Lock")
    for bad in ("abc", "", "99", "3.5"):
        child.sendline(bad)
        child.expect(CHOICE)
    child.sendline(lock)
    child.expect("LOCK: done.")
    child.expect(r"Locked: +yes")
    temperature = action_number(child, "Set temperature")
    child.sendline(temperature)
    child.expect(r"Temperature in C \[15.0-28.0\]: ")
    child.sendline("99")
    child.expect("from 15.0 to 28.0")
    child.sendline("warm")
    child.expect("Please enter a number.")
    child.sendline("22.5")
    child.expect("CHANGE_CLIMATE_TEMPERATURE_SETTING: done.")
    child.expect(r"Driver setting: +22.5 C")
    trunk = action_number(child, "Open frunk/trunk")
    child.sendline(trunk)
    child.expect("Which one?")
    child.sendline("")                      # empty cancels back to the menu
    child.expect(CHOICE)
    child.sendline("0")
    child.expect("Bye.")
    assert finish(child) == 0


def test_asleep_car_keeps_the_menu_alive(demo_menu):
    child = demo_menu
    child.expect(r"Vehicle \[1-3\]: ")
    child.sendline("2")
    child.expect("Nikola")
    child.expect("The car is asleep: wake it up to see its data.")
    lock = action_number(child, "Lock")
    child.sendline(lock)
    child.expect("LOCK failed: 408")
    child.expect(CHOICE)
    child.sendeof()
    child.expect("Bye.")
    assert finish(child) == 0


def test_ctrl_c_exits_cleanly(demo_menu):
    child = demo_menu
    child.expect(r"Vehicle \[1-3\]: ")
    child.sendintr()
    child.expect("Interrupted.")
    assert finish(child) == ExitCode.INTERRUPTED


class Script:
    """A console that answers prompts from a list and records everything printed."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.prompts = []
        self.output = []

    def read(self, prompt):
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer

    def write(self, *parts):
        self.output.append(" ".join(str(p) for p in parts))

    def console(self):
        return menu.Console(self.read, self.read, self.write)

    @property
    def text(self):
        return "\n".join(self.output)


def test_mfa_prompts_and_address_lookup(sim_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = Script(["starship", "2", lambda: totp(DEVICE_2_SECRET), "0"])
    looked_up = []

    def geocoder(latitude, longitude):
        looked_up.append((latitude, longitude))
        return "1 Test Street, Testville"

    code = menu.main(["-e", MFA_EMAIL], console=script.console(), geocoder=geocoder)
    assert code == 0, script.text
    assert script.prompts[:3] == ["Password: ", "Choice [1-2, empty to cancel]: ",
                                  "Passcode: "]
    assert "Device #2" in script.text
    assert "Second Signal" in script.text
    position = [line for line in script.output if "Position:" in line][0]
    assert "1 Test Street," in position     # wrapped inside the Drive panel
    assert looked_up


def test_failing_geocoder_falls_back_to_coordinates(sim_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []

    def unreachable(latitude, longitude):
        calls.append(1)
        raise OSError("no route to host")

    script = Script(["starship", "1", "1", "0"])
    code = menu.main(["-e", "elon@tesla.com"], console=script.console(), geocoder=unreachable)
    assert code == 0, script.text
    assert "52.531951, 6.156999" in script.text
    assert calls == [1]                     # given up after the first failure


def test_every_action_reaches_the_car(sim_env, world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = Script([
        "starship", "1",
        "3",                    # nearby charging sites
        "4", "5",               # horn, lights
        "6",                    # lock
        "7",                    # climate off (it is on)
        "8", "19.5",            # set temperature
        "9", "2",               # open the trunk
        "10",                   # remote start
        "11", "75",             # charge limit
        "13",                   # stop charging (it is charging)
        "12",                   # close the charge port
        "14", "1", "3",         # driver's seat heater to 3
        "15", "1",              # media: toggle playback
        "16", "1",              # vent the windows
        "17",                   # max defrost on
        "2",                    # wake up (already online)
        "1",                    # refresh
        "0",
    ])
    code = menu.main(["-e", "elon@tesla.com", "--no-geocode"], console=script.console())
    assert code == 0
    assert "failed" not in script.text, script.text
    car = world.vehicles[0].data
    assert car["vehicle_state"]["locked"] is True
    for name in ("HONK_HORN", "FLASH_LIGHTS", "LOCK", "CLIMATE_OFF", "ACTUATE_TRUNK",
                 "STOP_CHARGE", "CHARGE_PORT_DOOR_CLOSE", "MEDIA_TOGGLE_PLAYBACK",
                 "WINDOW_CONTROL", "MAX_DEFROST"):
        assert "%s: done." % name in script.text
    assert car["climate_state"]["driver_temp_setting"] == 19.5
    assert car["vehicle_state"]["rt"] != 0
    assert car["vehicle_state"]["remote_start"] is True
    assert car["charge_state"]["charge_limit_soc"] == 75
    assert car["charge_state"]["charging_state"] != "Charging"
    assert car["charge_state"]["charge_port_door_open"] is False
    assert car["climate_state"]["seat_heater_left"] == 3
    assert car["vehicle_state"]["fd_window"] != 0
    assert car["climate_state"]["is_front_defroster_on"] is True
    assert [line for line in script.output if line.startswith("Supercharger ")
            and " km " in line]
    assert "The car is online." in script.text


def test_wrong_passwords_end_the_menu_cleanly(sim_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = Script(["nope-1", "nope-2", "nope-3"])
    code = menu.main(["-e", "elon@tesla.com"], console=script.console())
    assert code == ExitCode.LOGIN_FAILED
    assert script.prompts == ["Password: "] * 3
    assert script.text.count("Login failed") == 2       # the third goes to stderr


def test_wrong_passcode_asks_the_passcode_again_not_the_password(sim_env, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = totp(DEVICE_2_SECRET)
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    script = Script(["", "starship", "2", wrong, "2", lambda: totp(DEVICE_2_SECRET), "0"])
    assert menu.main(["-e", MFA_EMAIL, "--no-geocode"], console=script.console()) == 0
    assert script.prompts[:2] == ["Password: ", "Password: "]      # empty asks again
    assert script.prompts.count("Password: ") == 2
    assert script.prompts.count("Passcode: ") == 2
    assert "Login failed: Invalid passcode" in script.text
    assert wrong not in script.text
    assert "Second Signal" in script.text


def test_cancelled_factor_choice_ends_the_login(sim_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = Script(["starship", ""])
    assert menu.main(["-e", MFA_EMAIL], console=script.console()) == ExitCode.LOGIN_FAILED
    assert script.prompts == ["Password: ", "Choice [1-2, empty to cancel]: "]


def test_captcha_is_shown_as_a_file_and_removed_after(sim_env, tmp_path, monkeypatch):
    import os
    import re
    import xml.etree.ElementTree as ElementTree

    monkeypatch.chdir(tmp_path)
    seen = []

    def read_captcha():
        path = re.search(r"open (\S+\.svg) to see it", script.text).group(1)
        seen.append(path)
        root = ElementTree.parse(path).getroot()
        return "".join(n.text or "" for n in root.iter("{http://www.w3.org/2000/svg}text"))

    script = Script(["starship", read_captcha])
    assert menu.main(["-e", "captcha@tesla.com"], console=script.console()) == 0
    assert "No vehicles on this account." in script.text      # logged in
    assert seen and not os.path.exists(seen[0])
