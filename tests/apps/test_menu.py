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
