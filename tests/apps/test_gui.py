"""The desktop app under Xvfb: demo mode and the simulator, driven through its widgets."""
from __future__ import annotations

import gc
import importlib
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app_helpers import DEVICE_2_SECRET, MFA_EMAIL, REPO, app_process, interrupt, totp
from teslapy_apps.signin import BROWSER, REFRESH_TOKEN

tk = pytest.importorskip("tkinter")
# The app's package is imported here, once. Imported by a property test's first example
# instead (as a test process that runs only that test of this module does), it can take
# longer than Hypothesis's deadline for that example, which is then reported as flaky.
importlib.import_module("teslapy_apps.gui")
ARTIFACTS = REPO / "artifacts"
WAIT_LIMIT = 60.0
SOLO_EMAIL = "solo@tesla.com"           # a demo account with no cars and one factor
SOLO_SECRET = "GEZDGNBVGY3TQOJQ"


@pytest.fixture(scope="module")
def display():
    """A private Xvfb display for this module. Xvfb takes a free display number itself
    and says which once it accepts connections (-displayfd), so test processes side by
    side never share a display."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_end, write_end = os.pipe()
    try:
        server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0",
                                   "1400x1000x24", "-nolisten", "tcp"], pass_fds=(write_end,),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip() if select.select(
            [announced], [], [], 20)[0] else ""
    if not number.isdigit():
        server.kill()
        server.wait(timeout=10)
        pytest.skip("Xvfb did not start")
    name = ":" + number
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    yield name
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def only_this_modules_objects_collected():
    """Each app's quit collects the garbage in full (to free Tk objects on this thread):
    meanwhile the objects older than this module (the test run's own) are frozen out of
    those collections, which then cost what the apps made, not what the run holds.
    Afterwards they are unfrozen and the garbage collected here, on the main thread."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
    gc.collect()


class Recorder:
    """Stands in for the app's dialogs: records what is shown, answers from a script."""

    def __init__(self, values=(), confirm=False):
        self.errors, self.details, self.infos, self.warnings = [], [], [], []
        self.tables, self.questions, self.confirms, self.opened = [], [], [], []
        self.values = list(values)
        self.confirm_answer = confirm

    def error(self, title, message, detail=""):
        self.errors.append(message)
        self.details.append(detail)

    def info(self, title, message):
        self.infos.append(message)

    def warning(self, title, message):
        self.warnings.append(message)

    def confirm(self, title, message):
        self.confirms.append(message)
        return self.confirm_answer

    def table(self, title, columns, rows, note=""):
        self.tables.append((title, list(columns), [list(row) for row in rows]))

    def ask_value(self, title, question):
        self.questions.append(question.text)
        return self.values.pop(0)

    def open_url(self, url):
        self.opened.append(url)
        return True


class LoginScript(Recorder):
    """Answers the login, factor and passcode dialogs like a user would, one login after
    another: each entry is (email, factor name, base32 secret of that factor or None)."""

    def __init__(self, *logins):
        super().__init__()
        self.logins = list(logins)
        self.asked = []
        self.current = None

    def login(self, email="", demo=False):
        from teslapy_apps.gui.account import SignIn

        self.asked.append("login")
        self.current = self.logins.pop(0)
        if demo:                # the demo imports the token its simulator hands out
            return SignIn(self.current[0], method=REFRESH_TOKEN)
        return SignIn(self.current[0], "starship")

    def factor(self, factors):
        self.asked.append("factor")
        return next(f for f in factors if f["name"] == self.current[1])

    def passcode(self):
        self.asked.append("passcode")
        return totp(self.current[2])


def close(app) -> None:
    """Quit the app and wait for its worker thread to end, holding the worker and the root
    meanwhile: what the thread leaves behind is then freed here, on the main thread. (The
    app's quit lets the thread end on its own; had it held the last reference to the
    root, Tcl would abort when the thread let go of it.)"""
    worker, root = app.worker, app.root
    app.quit()
    worker.thread.join(timeout=WAIT_LIMIT)
    assert not worker.thread.is_alive(), "the app's worker thread did not end"
    del worker, root


@pytest.fixture
def app(display):
    from teslapy_apps.gui import App

    root = tk.Tk()
    recorder = Recorder()
    application = App(root, demo=True, dialogs=recorder)
    application.recorder = recorder
    application.start()
    yield application
    close(application)


@pytest.fixture
def make_app(display, sim_env, tmp_path):
    """Apps signing in to the test simulator, with a private token cache; ``dialogs``
    is a script, or makes the dialogs of the app's root."""
    made = []

    def make(dialogs, **options):
        from teslapy_apps.gui import App

        options.setdefault("cache_file", str(tmp_path / "cache.json"))
        root = tk.Tk()
        application = App(root, dialogs=dialogs(root) if callable(dialogs) else dialogs,
                          **options)
        made.append(application)
        return application

    yield make
    for application in made:
        close(application)


@pytest.fixture
def app_2021(make_app):
    """The window signed in to elon@tesla.com with the password, on 2021's rules (where
    every car takes plain commands), showing Tim's Tesla."""
    recorder = LoginScript(("elon@tesla.com", None, None))
    application = make_app(recorder)
    application.recorder = recorder
    application.start()
    return application


def waiting(root, kind, answered=()):
    """The dialog of class ``kind`` over ``root`` that waits for the user (it holds the
    grab: it is shown and its constructor is in its wait), else None; not one of
    ``answered`` (Tk names)."""
    return next((w for w in root.winfo_children() if isinstance(w, kind)
                 and str(w) not in answered and w.grab_status()), None)


def when_waiting(root, kind, action) -> None:
    """Call ``action(dialog)`` once a dialog of class ``kind`` waits for the user."""
    def look():
        dialog = waiting(root, kind)
        if dialog is None:
            root.after(10, look)
        else:
            action(dialog)
        del dialog

    root.after(10, look)


def answer_dialogs(root, kind, *actions) -> list:
    """Answer the next dialogs of class ``kind`` opened over ``root``, one action each
    (called with the dialog once it waits for the user); returns the Tk names of the
    dialogs answered so far (no widget is kept: Tk objects must be freed on the main
    thread)."""
    answered = []

    def look():
        dialog = waiting(root, kind, answered)
        if dialog is not None:
            answered.append(str(dialog))
            actions[len(answered) - 1](dialog)
        del dialog
        if len(answered) < len(actions):
            root.after(10, look)

    root.after(10, look)
    return answered


def pump(app, done) -> None:
    """Run the Tk loop until ``done()`` holds (or fail after a generous limit), looking
    after each event (the worker's results come on the app's 10 ms timer)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not done():
        assert time.monotonic() < deadline, "GUI did not finish: %s" % app.status.get()
        app.root.tk.dooneevent(0)       # waits for the next event, then handles it


def settle(app) -> None:
    pump(app, lambda: app.worker.idle)
    app.root.update()


def wait_for_window(xdotool, title, process) -> None:
    """Wait until the display shows a window whose name matches ``title`` (xdotool's own
    wait, --sync, looks only every half second)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not subprocess.run([xdotool, "search", "--name", title], capture_output=True,
                             timeout=60).stdout.strip():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no window %s was shown" % title
        time.sleep(0.05)


def ready(app) -> None:
    """Wait until the first car is read and its picture shown."""
    pump(app, lambda: app.vehicle is not None and app.last_update is not None)
    settle(app)


def field(app, name) -> str:
    return app.dashboard.fields[name].get()


def car(world, name):
    return next(v for v in world.vehicles if v.data["display_name"] == name)


def awake_nikola(app):
    """Show the demo's Nikola (asleep, a 2017 Model S), wake it at once; its state."""
    nikola = car(app.simulator.world, "Nikola")
    nikola.wake_delay = 0
    app.vehicle_menu.invoke(1)
    settle(app)
    app.actions.wake_up()
    settle(app)
    return nikola


def menu_labels(menu) -> list:
    last = menu.index("end")
    return [menu.entrycget(i, "label") for i in range(last + 1)
            if menu.type(i) != "separator"] if last is not None else []


def test_the_demo_signs_in_with_a_token_minted_over_http2_and_shows_its_car(app):
    app.root.update()
    label = app.dashboard.image_label
    placeholder = label.winfo_reqwidth(), label.winfo_reqheight()
    pump(app, lambda: field(app, "charge_state.battery_level") != "-"
         and app.dashboard.photo is not None)
    # the car image takes the placeholder's place without moving the dashboard
    assert (label.winfo_reqwidth(), label.winfo_reqheight()) == placeholder
    settle(app)
    assert app.recorder.errors == []
    assert field(app, "charge_state.battery_level") == "44 %"
    assert field(app, "charge_state.charging_state") == "Charging"
    assert field(app, "charge_state.time_to_full_charge") == "14 min"
    assert field(app, "climate_state.inside_temp") == "21.0 C"
    assert field(app, "vehicle_config.car_type") == "model3"
    assert field(app, "vehicle_state.locked") == "no"
    assert "Tim's Tesla is online" in app.status.get()
    assert menu_labels(app.vehicle_menu)[1].startswith("Nikola")
    [mint] = app.simulator.world.token_mints
    assert (mint.grant_type, mint.http_version, mint.tls_version, mint.marked) == (
        "refresh_token", "2", "TLSv1.3", False)
    save_screenshot(app)


def test_the_demo_model_3_refuses_plain_commands_and_the_2017_model_s_obeys(app):
    ready(app)
    world = app.simulator.world
    app.command_items["Lock"]()
    settle(app)
    assert app.recorder.errors == ["Tim's Tesla accepts only commands signed with Tesla's "
                                   "Vehicle Command Protocol, through the Fleet API with a "
                                   "paired command key (cli.py --fleet --command-key KEY)."]
    assert app.recorder.details[0].startswith("403 Client Error: Tesla Vehicle Command "
                                              "Protocol required")
    assert app.status.get().endswith("| Lock failed")
    assert car(world, "Tim's Tesla").data["vehicle_state"]["locked"] is False

    nikola = awake_nikola(app)
    assert nikola.data["vehicle_state"]["locked"] is True
    app.command_items["Unlock"]()
    settle(app)
    assert nikola.data["vehicle_state"]["locked"] is False
    assert field(app, "vehicle_state.locked") == "no"
    assert "| unlocked |" in app.status.get() and app.status.get().endswith("Unlock: done")
    app.recorder.values = [70]
    app.command_items["Set charge limit..."]()
    settle(app)
    assert app.recorder.questions == ["Charge limit in % (50-100)"]
    assert nikola.data["charge_state"]["charge_limit_soc"] == 70
    assert field(app, "charge_state.charge_limit_soc") == "70 %"
    assert len(app.recorder.errors) == 1


def test_nearby_chargers_are_a_table_naming_each_site_once(app):
    ready(app)
    app.actions.nearby_sites()
    settle(app)
    assert app.recorder.errors == []
    title, columns, rows = app.recorder.tables[-1]
    assert columns == ["Name", "Type", "Distance", "Free stalls"]
    assert rows[0][:2] == ["Ring Road Supercharger", "Supercharger"]
    assert rows[0][2].endswith(" km") and " of " in rows[0][3]
    assert not any(name.startswith(kind) for name, kind, _, _ in rows)
    assert ["Grand Hotel", "Destination"] == rows[4][:2] and rows[4][3] == ""


def test_option_codes_open_in_a_scrolling_table_that_fits_the_screen(app):
    from teslapy_apps.gui import TableDialog

    ready(app)
    app.actions.option_codes()
    settle(app)
    title, columns, rows = app.recorder.tables[-1]
    assert columns == ["Code", "Meaning"] and ["MDL3", "Model 3"] in rows
    assert len(rows) == 41

    seen = {}

    def look(dialog):
        dialog.update()
        tree = dialog.tree
        last = tree.get_children()[-1]
        seen["rows shown"] = int(tree.cget("height"))
        seen["scroll bar"] = dialog.scrollbar.winfo_ismapped()
        seen["fits"] = dialog.winfo_height() < dialog.winfo_screenheight() // 2
        seen["last row at first"] = tree.bbox(last)
        tree.yview_moveto(1.0)
        dialog.update()
        seen["last row at the end"] = tree.item(last, "values") if tree.bbox(last) else None
        dialog.destroy()

    when_waiting(app.root, TableDialog, look)
    TableDialog(app.root, title, columns, rows).wait_window()
    assert seen == {"rows shown": 15, "scroll bar": True, "fits": True,
                    "last row at first": "", "last row at the end": ("CDM0", rows[-1][1])}


def test_a_window_of_1000_by_600_keeps_every_panel_reachable_and_the_status_bar(app):
    ready(app)
    root = app.root
    root.geometry("1000x600")
    settle(app)
    status = app.status_bar
    assert status.winfo_viewable()
    assert status.winfo_y() + status.winfo_height() <= root.winfo_height()
    assert "Tim's Tesla is online" in status.cget("text")
    canvas = app.scroller.canvas
    assert app.scroller.vbar.winfo_ismapped() and not app.scroller.hbar.winfo_ismapped()
    # every panel lies within the visible width; scrolled down, the last one is in view
    for frame in app.dashboard.groups + [app.dashboard.picture]:
        assert frame.winfo_x() + frame.winfo_width() <= canvas.winfo_width()
    last = app.dashboard.groups[-1]
    assert last.cget("text") == "Display settings"
    assert last.winfo_rooty() + last.winfo_height() > canvas.winfo_rooty() + \
        canvas.winfo_height()
    canvas.yview_moveto(1.0)
    root.update()
    assert canvas.winfo_rooty() <= last.winfo_rooty()
    assert last.winfo_rooty() + last.winfo_height() <= canvas.winfo_rooty() + \
        canvas.winfo_height()
    # wide again: the picture beside two columns, nothing to scroll
    root.geometry("1350x900")
    settle(app)
    assert app.dashboard.layout == "wide"
    assert not app.scroller.vbar.winfo_ismapped()


def test_the_window_size_is_remembered_in_a_private_settings_file(display, tmp_path):
    from teslapy_apps.gui import App

    settings = tmp_path / "config" / "teslapy" / "gui.json"
    first = App(tk.Tk(), settings_file=settings)
    first.root.geometry("1000x600")
    first.root.update()
    close(first)
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert json.loads(settings.read_text()) == {"window": {"width": 1000, "height": 600}}
    second = App(tk.Tk(), settings_file=settings)
    try:
        second.root.update()
        assert (second.root.winfo_width(), second.root.winfo_height()) == (1000, 600)
        assert second.status.get() == "Not logged in: App > Log in..."
    finally:
        close(second)


def test_a_settings_file_it_cannot_read_is_left_as_it_is(display, tmp_path, caplog):
    from teslapy_apps.gui import App

    settings = tmp_path / "gui.json"
    settings.write_text('{"window": "huge"}')
    app = App(tk.Tk(), settings_file=settings)
    app.root.update()
    close(app)
    assert settings.read_text() == '{"window": "huge"}'
    assert "Ignoring the window settings in %s ('window' is not an object)" % settings \
        in caplog.text


def test_logging_in_as_another_account_forgets_the_first_accounts_car(make_app, sim):
    world = sim.world
    nikola, second = car(world, "Nikola"), car(world, "Second Signal")
    second.data["state"], second.wake_delay = "asleep", 0
    dialogs = LoginScript(("elon@tesla.com", None, None), (SOLO_EMAIL, "Phone", SOLO_SECRET),
                          (MFA_EMAIL, "Device #2", DEVICE_2_SECRET))
    app = make_app(dialogs)
    app.start()
    ready(app)
    app.vehicle_menu.invoke(1)                  # Nikola, asleep
    settle(app)
    assert app.status.get().startswith("Nikola is asleep")
    assert app.dashboard.identity.get() == "Nikola\n5YJSA1E2XHF123456"

    app.menubar.nametowidget(app.menubar.entrycget("App", "menu")).invoke("Log in...")
    settle(app)
    assert dialogs.errors == []
    assert app.status.get() == "Logged in as solo@tesla.com: no vehicles on this account"
    assert app.vehicle is None and app.dashboard.identity.get() == ""
    assert set(var.get() for var in app.dashboard.fields.values()) == {"-"}
    assert app.dashboard.photo is None
    assert menu_labels(app.vehicle_menu)[0] == "Wake up"     # no cars listed
    wake = app.vehicle_menu.index("Wake up")
    assert app.vehicle_menu.entrycget(wake, "state") == "disabled"
    app.vehicle_menu.invoke(wake)
    app.actions.wake_up()                       # even when called directly
    settle(app)
    assert dialogs.errors == ["There is no car to act on."]
    assert dialogs.details == ["This account has no vehicles."]
    assert nikola.woken_at is None and nikola.data["state"] == "asleep"

    app.ask_login()                             # the MFA account and its one car
    settle(app)
    assert app.vehicle["display_name"] == "Second Signal"
    assert menu_labels(app.vehicle_menu)[0].startswith("Second Signal")
    app.vehicle_menu.invoke("Wake up")
    settle(app)
    assert second.data["state"] == "online"
    assert field(app, "vehicle_state.vehicle_name") == "Second Signal"
    assert nikola.woken_at is None and nikola.data["state"] == "asleep"
    assert dialogs.asked == ["login", "login", "passcode", "login", "factor", "passcode"]
    assert len(dialogs.errors) == 1


def test_the_demo_signs_in_to_other_demo_accounts_in_the_same_cloud(display):
    from teslapy_apps.gui import App

    dialogs = LoginScript((MFA_EMAIL, None, None))
    app = App(tk.Tk(), demo=True, dialogs=dialogs)
    try:
        app.start()                             # the demo account, without a dialog
        ready(app)
        simulator = app.simulator
        app.ask_login()                         # a token of the MFA account: no passcode
        ready(app)
        assert dialogs.asked == ["login"] and dialogs.errors == []
        assert app.vehicle["display_name"] == "Second Signal"
        assert app.simulator is simulator       # the same cloud, both accounts in it
        assert [(m.email, m.grant_type) for m in simulator.world.token_mints] == [
            ("elon@tesla.com", "refresh_token"), (MFA_EMAIL, "refresh_token")]
    finally:
        close(app)


def test_a_command_queued_before_switching_never_reaches_the_previous_car(make_app, sim):
    world = sim.world
    tim, runner = car(world, "Tim's Tesla"), car(world, "Road Runner")
    dialogs = LoginScript(("elon@tesla.com", None, None), (SOLO_EMAIL, "Phone", SOLO_SECRET))
    app = make_app(dialogs)
    app.start()
    ready(app)
    gate = threading.Event()
    app.worker.submit(gate.wait)                # the worker is busy ...
    app.command_items["Lock"]()                 # ... so Lock waits in its queue
    app.refresh()
    app.vehicle_menu.invoke(2)                  # Road Runner
    gate.set()
    settle(app)
    assert tim.data["vehicle_state"]["locked"] is False
    assert field(app, "vehicle_state.vehicle_name") == "Road Runner"
    assert app.status.get().startswith("Road Runner is online")

    gate.clear()
    app.worker.submit(gate.wait)
    assert runner.data["vehicle_state"]["locked"] is True
    app.command_items["Unlock"]()               # queued for Road Runner, then a new login
    app.ask_login()
    gate.set()
    settle(app)
    assert runner.data["vehicle_state"]["locked"] is True
    assert app.status.get() == "Logged in as solo@tesla.com: no vehicles on this account"
    assert dialogs.errors == []


def test_a_fahrenheit_car_is_asked_and_shown_in_fahrenheit(app):
    ready(app)
    nikola = awake_nikola(app)
    assert field(app, "climate_state.inside_temp").endswith(" F")
    assert field(app, "vehicle_state.odometer").endswith(" mi")
    app.recorder.values = [70, 70]
    app.command_items["Set temperature..."]()
    settle(app)
    assert app.recorder.questions == ["Temperature in °F (59-82.4)"]
    assert nikola.data["climate_state"]["driver_temp_setting"] == 21.1
    assert field(app, "climate_state.driver_temp_setting") == "70.0 F"
    app.command_items["Set speed limit..."]()
    settle(app)
    assert app.recorder.questions[-1] == "Speed limit in mph (50-90)"
    assert nikola.data["vehicle_state"]["speed_limit_mode"]["current_limit_mph"] == 70
    assert app.recorder.errors == []


def test_a_kilometre_car_asks_its_speed_limit_in_km_per_hour(app_2021, world):
    app = app_2021
    ready(app)
    app.recorder.values = [100]
    app.command_items["Set speed limit..."]()
    settle(app)
    assert app.recorder.questions == ["Speed limit in km/h (81-144)"]
    tim = car(world, "Tim's Tesla")
    assert tim.data["vehicle_state"]["speed_limit_mode"]["current_limit_mph"] == 62


def test_the_value_dialog_explains_a_wrong_entry_and_asks_again(display):
    from teslapy_apps.gui import ValueDialog
    from teslapy_apps.gui.commands import DECIMAL, Question

    root = tk.Tk()
    seen = []
    typed = ["100", "70,5"]

    def answer(dialog):
        seen.append(dialog.prompt.cget("text"))
        dialog.entry.delete(0, "end")
        dialog.entry.insert(0, typed.pop(0))
        dialog.ok()
        seen.append(dialog.problem.get() if dialog.winfo_exists() else "closed")
        if typed:                           # asked again: the next entry
            when_waiting(root, ValueDialog, answer)

    try:
        when_waiting(root, ValueDialog, answer)
        question = Question("Temperature", DECIMAL, 59.0, 82.4, "°F")
        assert ValueDialog(root, "Set temperature", question).result == 70.5
    finally:
        root.destroy()
        del root
        gc.collect()
    assert seen == ["Temperature in °F (59-82.4):", "Enter a number from 59 to 82.4.",
                    "Temperature in °F (59-82.4):", "closed"]


def test_errors_are_words_with_the_code_as_detail(app_2021, world):
    app = app_2021
    ready(app)
    app.command_items["Start charging"]()
    settle(app)
    assert app.recorder.errors == ["The car refused: it is charging."]
    assert app.recorder.details == ["The car answered: is_charging"]
    assert app.status.get().endswith("| Start charging failed")

    car(world, "Tim's Tesla").data["state"] = "asleep"     # fell asleep since it was read
    app.command_items["Honk horn"]()
    settle(app)
    assert app.recorder.errors[-1] == ("Tim's Tesla is asleep or offline: wake it up "
                                       "(Vehicle > Wake up) and try again.")
    assert app.recorder.details[-1].startswith("408 ")
    assert "http://" not in app.recorder.details[-1]

    app.vehicle_menu.invoke(1)                  # Nikola, known to be asleep
    settle(app)
    count = len(app.recorder.errors)
    app.command_items["Honk horn"]()            # offered a wake-up instead; declined
    settle(app)
    assert app.recorder.confirms == ["Nikola is asleep. Wake it up now? Then choose the "
                                     "action again."]
    assert len(app.recorder.errors) == count
    assert car(world, "Nikola").woken_at is None


def test_auto_refresh_warns_and_shows_in_the_status_bar(app):
    ready(app)
    app.auto_refresh.set(True)
    app.toggle_auto_refresh()
    assert "will not go to sleep" in app.recorder.warnings[0]
    assert "the car will not sleep" in app.status.get()
    app.vehicle_menu.invoke(1)                  # another car: still on, for that car
    settle(app)
    assert app.status.get().endswith("auto refresh on: the car will not sleep")


def test_every_command_menu_item_reaches_the_car(app_2021, world):
    from teslapy_apps.gui import COMMAND_MENUS

    app = app_2021

    answers = {"Temperature": 20.0, "Charge limit in %": 70, "PIN": "1234",
               "Speed limit": 105, "Start in how many seconds": 60}
    app.recorder.ask_value = lambda title, question: answers.get(
        question.prompt, 0 if question.prompt.startswith("Seat") else 2)
    ready(app)
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
    assert refused == {"Vent sunroof": "The car refused: it has no sunroof.",
                       "Close sunroof": "The car refused: it has no sunroof.",
                       "Start charging": "The car refused: it is charging."}
    data = car(world, "Tim's Tesla").data
    assert data["climate_state"]["driver_temp_setting"] == 20.0
    assert data["charge_state"]["charge_limit_soc"] == 70
    assert data["vehicle_state"]["speed_limit_mode"]["current_limit_mph"] == 65
    assert field(app, "charge_state.charge_limit_soc") == "70 %"


def test_login_dialogs_with_mfa_against_the_simulator(make_app, tmp_path):
    dialogs = LoginScript((MFA_EMAIL, "Device #2", DEVICE_2_SECRET))
    app = make_app(dialogs)
    app.start()
    pump(app, lambda: field(app, "vehicle_state.vehicle_name") != "-" or dialogs.errors)
    settle(app)
    assert dialogs.errors == []
    assert dialogs.asked == ["login", "factor", "passcode"]
    assert field(app, "vehicle_state.vehicle_name") == "Second Signal"
    assert (tmp_path / "cache.json").exists()


def test_a_wrong_password_is_said_in_words(make_app):
    from teslapy_apps.gui.account import SignIn

    dialogs = Recorder()
    dialogs.login = lambda email="", demo=False: SignIn("elon@tesla.com", "wrong")
    app = make_app(dialogs)
    app.start()
    settle(app)
    assert len(dialogs.errors) == 1 and dialogs.errors[0].startswith("Login failed")
    assert app.status.get() == ("Not logged in: App > Log in... | Logging in as "
                                "elon@tesla.com failed")
    assert "wrong" not in dialogs.errors[0] + dialogs.details[0]


# -- signing in today and out (the 2026 simulator) ---------------------------------------

def test_signing_in_in_a_browser_through_the_login_and_paste_dialogs(make_app, sim_env_2026,
                                                                     sim_2026, browser):
    from teslapy_apps.gui.dialogs import BrowserDialog, Dialogs, LoginDialog

    seen = {}
    app = make_app(lambda root: Dialogs(root, open_url=browser))

    def choose_the_browser(dialog):
        seen["chosen"] = dialog.method.get()
        dialog.email_entry.insert(0, "elon@tesla.com")
        dialog.ok()

    def paste(text):
        def answer(dialog):
            seen.setdefault("problems", []).append(dialog.problem.get())
            dialog.callback_entry.insert(0, text())
            dialog.ok()
        return answer

    def copy_open_and_paste_nothing_then_the_page(dialog):
        dialog.copy_button.invoke()
        seen["clipboard"] = dialog.clipboard_get()
        dialog.ok()                             # nothing pasted: asked again, in place
        seen["empty"] = dialog.problem.get()
        dialog.open_button.invoke()             # the browser signs in
        seen["said"] = dialog.said.get()
        paste(lambda: browser.opened[-1])(dialog)   # the sign-in page's own address

    answer_dialogs(app.root, LoginDialog, choose_the_browser)
    pasted = answer_dialogs(app.root, BrowserDialog, copy_open_and_paste_nothing_then_the_page,
                            paste(lambda: browser.landed[-1]))
    app.start()
    ready(app)
    assert seen["chosen"] == BROWSER                # the first way offered
    [url] = browser.opened
    assert seen["clipboard"] == url and url.startswith(sim_2026.urls["sso_base_url"])
    assert seen["said"] == "Opened in your browser."
    assert seen["empty"].startswith("Paste the address the browser ended on")
    assert len(pasted) == 2 and seen["problems"][1].startswith(
        "Login failed: The URL holds no authorization code")
    assert app.account.email == "elon@tesla.com" and app.vehicle["display_name"] == \
        "Tim's Tesla"
    mint = sim_2026.world.token_mints[-1]
    assert (mint.grant_type, mint.http_version, mint.tls_version) == (
        "authorization_code", "2", "TLSv1.3")


def test_signing_in_with_a_refresh_token_in_the_login_dialog(make_app, sim_env_2026,
                                                             sim_2026, tmp_path):
    from teslapy_apps.gui.dialogs import Dialogs, LoginDialog

    token = sim_2026.refresh_token_for("elon@tesla.com")
    seen = {}

    def give_the_token(dialog):
        dialog.email_entry.insert(0, "elon@tesla.com")
        dialog.method.set(REFRESH_TOKEN)
        dialog._method_chosen()
        seen["enabled"] = {way: str(entry.cget("state")) for way, entry in
                           dialog.fields.items()}
        seen["note"] = dialog.note.get()
        dialog.fields[REFRESH_TOKEN].insert(0, token)
        seen["shown"] = dialog.fields[REFRESH_TOKEN].cget("show")
        dialog.ok()

    app = make_app(Dialogs)
    answer_dialogs(app.root, LoginDialog, give_the_token)
    app.start()
    ready(app)
    assert seen == {"enabled": {REFRESH_TOKEN: "normal", "password": "disabled"},
                    "note": "A refresh token from another app that signs in to Tesla.",
                    "shown": "*"}
    assert app.account.email == "elon@tesla.com"
    assert [m.grant_type for m in sim_2026.world.token_mints] == ["refresh_token"]
    assert "elon@tesla.com" in (tmp_path / "cache.json").read_text()


def test_log_out_forgets_the_account_and_offers_tesla_s_sign_out_page(app_2021, tmp_path,
                                                                      sim):
    app = app_2021
    app.recorder.confirm_answer = True
    ready(app)
    app.menubar.nametowidget(app.menubar.entrycget("App", "menu")).invoke("Log out")
    settle(app)
    sign_out = sim.urls["sso_base_url"] + "oauth2/v3/logout?client_id=ownerapi"
    [question] = app.recorder.confirms
    assert question.startswith("Logged out of elon@tesla.com: its tokens are forgotten "
                               "on this computer.") and question.endswith(sign_out)
    assert app.recorder.opened == [sign_out]
    assert json.loads((tmp_path / "cache.json").read_text()) == {}
    assert app.account is None and app.vehicle is None
    assert app.status.get() == ("Not logged in: App > Log in... | Logged out of "
                                "elon@tesla.com")
    assert menu_labels(app.vehicle_menu)[0] == "Wake up"        # no cars listed
    app.log_out()
    assert app.recorder.infos == ["Nobody is logged in."]


def test_a_log_out_is_done_even_when_a_login_follows_at_once(make_app, tmp_path):
    dialogs = LoginScript(("elon@tesla.com", None, None), (SOLO_EMAIL, "Phone", SOLO_SECRET))
    app = make_app(dialogs)
    app.start()
    ready(app)
    app.log_out()
    app.ask_login()                 # before the log out had its turn on the worker
    settle(app)
    assert set(json.loads((tmp_path / "cache.json").read_text())) == {SOLO_EMAIL}
    assert dialogs.confirms == []   # the outcome belongs to the account that is gone
    assert app.status.get() == "Logged in as solo@tesla.com: no vehicles on this account"


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

    def answer(dialog):
        seen.append(dialog.photo.width())
        dialog.entry.insert(0, " A7K9 ")
        dialog.ok()

    try:
        when_waiting(root, CaptchaDialog, answer)
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
    shot = ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"])
    ARTIFACTS.mkdir(exist_ok=True)
    # Written whole under a name of this process's, then renamed: test runs side by side
    # never leave a file holding parts of two screenshots.
    part = ARTIFACTS / ("gui.png.%d" % os.getpid())
    shot.save(part, format="PNG")
    os.replace(part, ARTIFACTS / "gui.png")


def test_gui_main_starts_in_demo_stops_on_ctrl_c_and_keeps_its_size(display, tmp_path):
    xdotool = shutil.which("xdotool")
    if xdotool is None:
        pytest.skip("xdotool is not installed (apt-get install xdotool)")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    with app_process([sys.executable, str(REPO / "gui.py"), "--demo"],
                     cwd=str(tmp_path), env=env) as process:
        wait_for_window(xdotool, r"^Tesla \(demo\)$", process)
        out, errors = interrupt(process)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    settings = tmp_path / "config" / "teslapy" / "gui.json"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert set(json.loads(settings.read_text())["window"]) == {"width", "height"}


# -- what the user types and what the settings file holds, for any input ----------------

@given(st.text())
def test_any_settings_text_is_read_or_refused_with_a_settings_error(text):
    from teslapy_apps.gui.settings import SettingsError, parse_settings, window_size

    try:
        settings = parse_settings(text)
    except SettingsError as error:
        assert str(error)
        return
    size = window_size(settings)
    assert size is None or all(isinstance(n, int) and n >= 240 for n in size)


@given(st.integers(-10 ** 6, 10 ** 6), st.integers(-10 ** 6, 10 ** 6))
def test_any_saved_size_reads_back_within_bounds(tmp_path_factory, width, height):
    from teslapy_apps.gui.settings import SMALLEST, LARGEST, WindowSettings

    path = tmp_path_factory.mktemp("settings") / "gui.json"
    WindowSettings(path).save_size(width, height)
    assert WindowSettings(path).size == (min(max(width, SMALLEST[0]), LARGEST[0]),
                                         min(max(height, SMALLEST[1]), LARGEST[1]))


FAHRENHEIT_CAR = {"gui_settings": {"gui_temperature_units": "F", "gui_distance_units": "mi/hr"},
                  "climate_state": {"min_avail_temp": 15.0, "max_avail_temp": 28.0}}
KILOMETRE_CAR = {"gui_settings": {"gui_temperature_units": "C", "gui_distance_units": "km/hr"}}


@given(st.sampled_from([FAHRENHEIT_CAR, KILOMETRE_CAR]), st.sampled_from(["Temperature",
                                                                          "Speed limit"]),
       st.text())
def test_any_typed_answer_is_refused_in_words_or_sent_within_the_cars_range(car_data,
                                                                           which, text):
    from teslapy_apps.gui.commands import COMMAND_MENUS, Ask, api_value, question_for

    ask = next(spec for _, items in COMMAND_MENUS for _, _, params in items
               for spec in params.values() if isinstance(spec, Ask) and spec.prompt == which)
    question = question_for(ask, car_data)
    try:
        value = question.parse(text)
    except ValueError as error:
        assert str(error).startswith("Enter ")
        return
    assert ask.low <= api_value(ask, value, car_data) <= ask.high


@given(st.sampled_from([FAHRENHEIT_CAR, KILOMETRE_CAR]), st.floats(0, 1))
def test_every_value_in_the_cars_range_is_accepted(car_data, fraction):
    from teslapy_apps.gui.commands import CELSIUS, DECIMAL, Ask, api_value, question_for

    ask = Ask("Temperature", DECIMAL, 15.0, 28.0, CELSIUS)
    question = question_for(ask, car_data)
    typed = "%.1f" % (question.low + fraction * (question.high - question.low))
    assert 15.0 <= api_value(ask, question.parse(typed), car_data) <= 28.0


@given(st.text())
def test_any_pin_is_four_digits_or_refused(text):
    from teslapy_apps.gui.commands import PIN_ASK, question_for

    try:
        pin = question_for(PIN_ASK, {}).parse(text)
    except ValueError as error:
        assert str(error) == "Enter the PIN's four digits."
        return
    assert len(pin) == 4 and pin.isdigit() and pin.isascii()


@given(st.from_regex(r"[a-z]+(_[a-z]+)*", fullmatch=True))
def test_every_refusal_reason_reads_as_words(reason):
    from teslapy_apps.common import REFUSAL_REASONS, explain_refusal

    words = explain_refusal(reason)
    assert "_" not in words and words.endswith(".")
    assert words == "The car refused: %s." % REFUSAL_REASONS.get(reason, reason.replace("_", " "))


def test_quitting_while_a_call_runs_ends_the_process_cleanly(display):
    """The worker thread outlives the app; the Tk root must not be freed on that thread."""
    script = ("import time, tkinter as tk\n"
              "from teslapy_apps.gui import App\n"
              "app = App(tk.Tk())\n"
              "app.worker.submit(lambda: time.sleep(0.3))\n"
              "app.quit()\n"
              "del app\n"
              "time.sleep(0.6)\n"
              "print('quit cleanly')\n")
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, DISPLAY=display))
    assert (finished.returncode, finished.stdout.strip()) == (0, "quit cleanly"), finished.stderr
    assert "Tcl_AsyncDelete" not in finished.stderr
