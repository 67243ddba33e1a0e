"""The desktop app under Xvfb: demo mode driven through its widgets and menus."""
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from app_helpers import REPO, app_process, interrupt

tk = pytest.importorskip("tkinter")
ARTIFACTS = REPO / "artifacts"
WAIT_LIMIT = 60.0


@pytest.fixture(scope="module")
def display():
    """A private Xvfb display for this module."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    number = next(n for n in range(90, 190)
                  if not os.path.exists("/tmp/.X11-unix/X%d" % n)
                  and not os.path.exists("/tmp/.X%d-lock" % n))
    name = ":%d" % number
    server = subprocess.Popen([xvfb, name, "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket_path = Path("/tmp/.X11-unix/X%d" % number)
    deadline = time.monotonic() + 20
    while not socket_path.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.05)
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    yield name
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    server.terminate()
    server.wait(timeout=10)


class Recorder:
    """Stands in for the app's dialogs: records messages, answers from a script."""

    def __init__(self, values=()):
        self.errors, self.infos, self.warnings = [], [], []
        self.values = list(values)

    def error(self, title, message):
        self.errors.append(message)

    def info(self, title, message):
        self.infos.append(message)

    def warning(self, title, message):
        self.warnings.append(message)

    def ask_value(self, title, ask):
        return self.values.pop(0)


@pytest.fixture
def app(display):
    from teslapy_apps.gui import App

    root = tk.Tk()
    recorder = Recorder()
    application = App(root, demo=True, dialogs=recorder)
    application.recorder = recorder
    application.start()
    yield application
    application.quit()


def pump(app, done) -> None:
    """Run the Tk loop until ``done()`` holds (or fail after a generous limit)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not done():
        assert time.monotonic() < deadline, "GUI did not finish: %s" % app.status.get()
        app.root.update()
        time.sleep(0.01)


def settle(app) -> None:
    pump(app, lambda: app.worker.idle)
    app.root.update()


def test_dashboard_shows_the_demo_car_and_lock_reaches_the_simulator(app):
    app.root.update()
    placeholder = app.image_label.winfo_reqwidth(), app.image_label.winfo_reqheight()
    pump(app, lambda: app.fields["charge_state.battery_level"].get() != "-"
         and app.photo is not None)
    # the car image takes the placeholder's place without moving the dashboard
    assert (app.image_label.winfo_reqwidth(), app.image_label.winfo_reqheight()) == placeholder
    settle(app)
    assert app.recorder.errors == []
    fields = {name: variable.get() for name, variable in app.fields.items()}
    assert fields["charge_state.battery_level"] == "44 %"
    assert fields["charge_state.charging_state"] == "Charging"
    assert fields["climate_state.inside_temp"] == "21.0 C"
    assert fields["vehicle_config.car_type"] == "model3"
    assert fields["gui_settings.gui_distance_units"] == "km/hr"
    assert fields["vehicle_state.locked"] == "no"
    assert "Tim's Tesla is online" in app.status.get()
    assert app.vehicle_menu.entrycget(1, "label").startswith("Nikola")

    world = app.simulator.world
    assert world.vehicles[0].data["vehicle_state"]["locked"] is False
    app.command_items["Lock"]()
    settle(app)
    assert world.vehicles[0].data["vehicle_state"]["locked"] is True
    assert app.fields["vehicle_state.locked"].get() == "yes"
    assert "locked" in app.status.get()

    app.recorder.values = [80]
    app.command_items["Set charge limit..."]()
    settle(app)
    assert world.vehicles[0].data["charge_state"]["charge_limit_soc"] == 80
    assert app.fields["charge_state.charge_limit_soc"].get() == "80 %"
    save_screenshot(app)

    app.nearby_sites()
    settle(app)
    assert app.recorder.errors == []
    first = app.recorder.infos[-1].splitlines()[0]
    assert first.startswith("Supercharger ") and " km, " in first and "stalls free" in first


def test_errors_become_dialogs_and_the_window_stays_usable(app):
    pump(app, lambda: app.vehicle is not None)
    settle(app)
    assert "updated" in app.status.get()    # Tim's Tesla was read
    app.vehicle_menu.invoke(1)              # Nikola, asleep
    settle(app)
    assert "Nikola is asleep" in app.status.get()
    assert "updated" not in app.status.get()    # nothing read from Nikola yet
    app.command_items["Honk horn"]()
    settle(app)
    assert len(app.recorder.errors) == 1 and "asleep or offline" in app.recorder.errors[0]
    assert "http://" not in app.recorder.errors[0]
    # the status bar keeps the car's state and names what failed
    assert app.status.get().startswith("Nikola is asleep")
    assert app.status.get().endswith("Honk horn failed")
    app.auto_refresh.set(True)
    app.toggle_auto_refresh()
    assert "will not go to sleep" in app.recorder.warnings[0]
    assert "the car will not sleep" in app.status.get()
    app.option_codes()
    settle(app)
    assert "Model S" in app.recorder.infos[-1]

    app.simulator.world.vehicles[1].wake_delay = 0
    app.wake_up()
    settle(app)
    assert "Nikola is online" in app.status.get()
    assert app.fields["climate_state.inside_temp"].get().endswith(" F")    # the car's units
    assert app.fields["vehicle_state.odometer"].get().endswith(" mi")


def test_captcha_svg_is_drawn(display):
    from teslapy_apps.gui import render_svg

    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
           b'<rect width="120" height="40" fill="#ffffff"/>'
           b'<text x="10" y="30" font-size="24" fill="#000000">AB12</text></svg>')
    image = render_svg(svg).convert("L")
    assert image.size == (240, 80)
    assert image.getextrema()[0] < 100      # the characters are drawn in black
    with pytest.raises(ValueError):
        render_svg(b"not svg")


def test_captcha_dialog_shows_the_simulators_captcha(display):
    from teslapy_apps.gui import CaptchaDialog, Dialogs
    from teslasim.captcha import render_svg as simulator_captcha

    root = tk.Tk()
    seen = []

    def answer():
        dialog = next(w for w in root.winfo_children() if isinstance(w, CaptchaDialog))
        seen.append(dialog.photo.width())
        dialog.entry.insert(0, " A7K9 ")
        dialog.ok()

    try:
        root.after(200, answer)
        assert Dialogs(root).captcha(simulator_captcha("A7K9", seed=1).encode()) == "A7K9"
    finally:
        root.destroy()
        del root
        gc.collect()        # free the dialog's Tcl objects here, not on a server thread
    assert seen == [300]                    # the 150 px captcha, drawn at twice its size


def save_screenshot(app) -> None:
    """Save the app's window, grabbed from the Xvfb screen, as artifacts/gui.png."""
    from PIL import ImageGrab

    root = app.root
    root.geometry("+0+0")
    root.update()
    box = (root.winfo_rootx(), 0,                     # from the top: the menu bar too
           root.winfo_rootx() + root.winfo_width(), root.winfo_rooty() + root.winfo_height())
    ARTIFACTS.mkdir(exist_ok=True)
    ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).save(ARTIFACTS / "gui.png")


class LoginScript(Recorder):
    """Answers the login, factor and passcode dialogs like a user would."""

    def __init__(self, email, password, factor_name, passcode):
        super().__init__()
        self.answers = (email, password)
        self.factor_name, self.passcode_getter = factor_name, passcode
        self.asked = []

    def login(self, email=""):
        self.asked.append("login")
        return self.answers

    def factor(self, factors):
        self.asked.append("factor")
        return next(f for f in factors if f["name"] == self.factor_name)

    def passcode(self):
        self.asked.append("passcode")
        return self.passcode_getter()


def test_login_dialogs_with_mfa_against_the_simulator(display, sim_env, tmp_path):
    from app_helpers import DEVICE_2_SECRET, MFA_EMAIL, totp
    from teslapy_apps.gui import App

    dialogs = LoginScript(MFA_EMAIL, "starship", "Device #2", lambda: totp(DEVICE_2_SECRET))
    root = tk.Tk()
    app = App(root, dialogs=dialogs, cache_file=str(tmp_path / "cache.json"))
    try:
        app.start()
        pump(app, lambda: app.fields["vehicle_state.vehicle_name"].get() != "-"
             or dialogs.errors)
        settle(app)
        assert dialogs.errors == []
        assert dialogs.asked == ["login", "factor", "passcode"]
        assert app.fields["vehicle_state.vehicle_name"].get() == "Second Signal"
        assert (tmp_path / "cache.json").exists()
    finally:
        app.quit()


def test_gui_main_starts_in_demo_and_stops_on_ctrl_c(display, tmp_path):
    import sys

    xdotool = shutil.which("xdotool")
    if xdotool is None:
        pytest.skip("xdotool is not installed (apt-get install xdotool)")
    with app_process([sys.executable, str(REPO / "gui.py"), "--demo"],
                     cwd=str(tmp_path)) as process:
        found = subprocess.run([xdotool, "search", "--sync", "--name", r"^Tesla \(demo\)$"],
                               capture_output=True, text=True, timeout=60)
        assert found.stdout.strip(), found.stderr
        out, errors = interrupt(process)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors


def test_every_command_menu_item_reaches_the_car(app):
    from teslapy_apps.gui import COMMAND_MENUS

    answers = {"driver_temp": 20.0, "heater": 0, "level": 2, "percent": 70,
               "password": "1234", "pin": "1234", "limit_mph": 65, "offset_sec": 60}
    app.recorder.ask_value = lambda title, ask: answers[ask.key]
    pump(app, lambda: app.vehicle is not None)
    settle(app)
    refused = {}
    for title, items in COMMAND_MENUS:
        menu = app.menubar.nametowidget(app.menubar.entrycget(title, "menu"))
        for label, name, params in items:
            before = len(app.recorder.errors)
            menu.invoke(menu.index(label))
            settle(app)
            if len(app.recorder.errors) > before:
                refused[label] = app.recorder.errors[-1]
    # The demo Model 3 has no sunroof and is already charging: the car says so.
    assert refused == {"Vent sunroof": "The car refused: it has no sunroof (no_sunroof)",
                       "Close sunroof": "The car refused: it has no sunroof (no_sunroof)",
                       "Start charging": "The car refused: it is charging (is_charging)"}
    car = app.simulator.world.vehicles[0].data
    assert car["climate_state"]["driver_temp_setting"] == 20.0
    assert car["charge_state"]["charge_limit_soc"] == 70
    assert car["vehicle_state"]["speed_limit_mode"]["current_limit_mph"] == 65
    assert app.fields["charge_state.charge_limit_soc"].get() == "70 %"
