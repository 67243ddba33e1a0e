"""The main window: menus, the dashboard and a status bar, for one account and one car.

Everything shown and every pending call belongs to the signed-in account and its
selected car. Signing in again (or choosing another car) first resets the window and
ends the worker's generation, so no call queued for the previous car runs and no
late result of it is shown: an action can only ever reach the car on screen.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
import time
import tkinter as tk
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Type

import teslapy
from teslapy_apps.common import DEMO_EMAIL, DEMO_PASSWORD, Geocoder, Places
from teslapy_apps.gui.account import (
    Account, DemoCloud, SignIn, WindowQuestions, open_account,
)
from teslapy_apps.gui.actions import CarActions
from teslapy_apps.gui.commands import COMMAND_MENUS
from teslapy_apps.gui.dashboard import IMAGE_WIDTH, Dashboard, read_dashboard
from teslapy_apps.gui.dialogs import Dialogs
from teslapy_apps.gui.errors import explain
from teslapy_apps.gui.scrolling import ScrolledFrame
from teslapy_apps.gui.settings import WindowSettings
from teslapy_apps.gui.worker import Worker
from teslapy_apps.signin import REFRESH_TOKEN

logger = logging.getLogger(__name__)

AUTO_REFRESH_MS = 30000
#: Seconds ``quit`` waits for a call still running on the worker thread.
QUIT_WAIT = 0.2
#: Tk roots of apps that quit while their worker thread still ran a call: kept until the
#: process ends, so that thread never lets go of the last reference (Tcl aborts when an
#: interpreter is freed on a thread other than its own).
_ROOTS_OUTLIVING_WORKERS: list = []
MIN_SIZE = (480, 320)
SCREEN_MARGIN = (40, 80)        # room left for the desktop's panels and borders


class App:
    """The main window of one :class:`tk.Tk` root.

    demo: (optional) sign in to the built-in simulated cloud, kept running across logins
    email: (optional) the email the login dialog starts with
    dialogs: (optional) what asks and tells the user things (tests pass a script)
    geocoder: (optional) names positions as addresses
    settings_file: (optional) where the window size is remembered; None keeps nothing
    options: other ``Tesla`` keyword arguments (cache_file, verify, proxy, ...)
    """

    closed = False

    def __init__(self, root: tk.Tk, demo: bool = False, email: str = "",
                 dialogs: Optional[Dialogs] = None, geocoder: Optional[Geocoder] = None,
                 auto_refresh_ms: int = AUTO_REFRESH_MS,
                 settings_file: Optional[Path] = None, **options: Any) -> None:
        self.root = root
        self.demo = demo
        self.email = email or (DEMO_EMAIL if demo else "")
        self.options = options
        self.dialogs = dialogs or Dialogs(root)
        self.places = Places(geocoder)
        self.auto_refresh_ms = auto_refresh_ms
        self.settings = WindowSettings(settings_file)
        self.worker = Worker(root)
        self.cloud = DemoCloud(on_start=self._on_simulator) if demo else None
        self.simulator: Any = None
        self.account: Optional[Account] = None
        self.vehicle: Optional[teslapy.Vehicle] = None
        self.last_update: Optional[float] = None
        self.note: Optional[str] = None     # the last outcome, shown in the status bar
        self.command_items: Dict[str, Callable[[], None]] = {}
        self._logging_in = False
        self._auto_id: Optional[str] = None
        root.title("Tesla" + (" (demo)" if demo else ""))
        root.protocol("WM_DELETE_WINDOW", self.quit)
        root.report_callback_exception = self._callback_failed
        root.minsize(*MIN_SIZE)
        self.selected = tk.IntVar(value=-1)
        self.auto_refresh = tk.BooleanVar(value=False)
        self.status = tk.StringVar()
        self.actions = CarActions(self)
        self._build_menus()
        self._build_body()
        self._size_window()
        self.update_status()

    # -- layout -------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = tk.Menu(self.root)
        app_menu = tk.Menu(bar, tearoff=False)
        app_menu.add_command(label="Log in...", command=self.ask_login)
        app_menu.add_command(label="Log out", command=self.log_out)
        app_menu.add_command(label="Refresh", command=self.refresh, accelerator="F5")
        app_menu.add_checkbutton(label="Auto refresh", variable=self.auto_refresh,
                                 command=self.toggle_auto_refresh)
        app_menu.add_separator()
        app_menu.add_command(label="Quit", command=self.quit)
        bar.add_cascade(label="App", menu=app_menu)
        self.vehicle_menu = tk.Menu(bar, tearoff=False)
        bar.add_cascade(label="Vehicle", menu=self.vehicle_menu)
        self._fill_vehicle_menu()
        for title, items in COMMAND_MENUS:
            menu = tk.Menu(bar, tearoff=False)
            for label, name, params in items:
                action = self.actions.command_action(label, name, params)
                self.command_items[label] = action
                menu.add_command(label=label, command=action)
            bar.add_cascade(label=title, menu=menu)
        self.root.config(menu=bar)
        self.menubar = bar
        self.root.bind("<F5>", lambda event: self.refresh())

    def _fill_vehicle_menu(self) -> None:
        """The account's cars (the selected one checked), then the car actions."""
        menu = self.vehicle_menu
        menu.delete(0, "end")
        vehicles = self.account.vehicles if self.account else []
        for index, vehicle in enumerate(vehicles):
            menu.add_radiobutton(label="%s (%s)" % (vehicle["display_name"], vehicle["vin"]),
                                 variable=self.selected, value=index,
                                 command=functools.partial(self.select_vehicle, index))
        if vehicles:
            menu.add_separator()
        actions = self.actions
        for label, action in (("Wake up", actions.wake_up),
                              ("Nearby charging sites", actions.nearby_sites),
                              ("Option codes", actions.option_codes),
                              ("Decode VIN", actions.decode_vin),
                              ("Service scheduling", actions.service_data),
                              ("Mobile access", actions.mobile_access),
                              ("Remote start drive", actions.remote_start)):
            menu.add_command(label=label, command=action,
                             state="normal" if self.vehicle is not None else "disabled")

    def _build_body(self) -> None:
        self.status_bar = tk.Label(self.root, textvariable=self.status, relief="sunken",
                                   anchor="w")
        self.status_bar.pack(side="bottom", fill="x")
        self.scroller = ScrolledFrame(self.root)
        self.scroller.pack(fill="both", expand=True)
        self.dashboard = Dashboard(self.scroller.inner)

    def _size_window(self) -> None:
        """The remembered size, else the dashboard's natural size, within the screen;
        from then on the dashboard is arranged for the window's width."""
        self.dashboard.arrange(IMAGE_WIDTH * 100)
        self.scroller.fit_content()
        self.root.update_idletasks()
        width, height = self.settings.size or (self.root.winfo_reqwidth(),
                                               self.root.winfo_reqheight())
        width = min(width, self.root.winfo_screenwidth() - SCREEN_MARGIN[0])
        height = min(height, self.root.winfo_screenheight() - SCREEN_MARGIN[1])
        self.root.geometry("%dx%d" % (max(width, MIN_SIZE[0]), max(height, MIN_SIZE[1])))
        self.scroller.on_width = self.dashboard.arrange

    # -- background calls --------------------------------------------------------

    def run(self, what: str, func: Callable[[], Any],
            on_done: Optional[Callable[[Any], None]] = None,
            vehicle: Optional[teslapy.Vehicle] = None,
            on_failed: Optional[Callable[[], None]] = None, keep: bool = False) -> None:
        """Run a library call on the worker; a failure is shown in words.

        vehicle: (optional) the car the call acts on: unless it is still the selected
        car nothing is sent
        keep: (optional) make the call even if another account or car comes on screen
        before its turn (its outcome is not shown then)
        """
        if vehicle is not None and vehicle is not self.vehicle:
            return
        car = vehicle["display_name"] if vehicle is not None else None

        def failed(error: BaseException) -> None:
            words, detail = explain(error, car)
            logger.debug("%s failed", what, exc_info=error)
            self.note = "%s failed" % what
            if on_failed is not None:
                on_failed()
            self.update_status()
            self.dialogs.error(what, words, detail)

        self.note = None
        self.status.set("%s..." % what)
        self.worker.submit(func, on_done, failed, keep)

    # -- accounts and cars -----------------------------------------------------------

    def start(self) -> None:
        """The first login: straight in to the demo account (with the refresh token the
        simulator hands out), else the login dialog."""
        if self.demo:
            self.log_in(SignIn(DEMO_EMAIL, method=REFRESH_TOKEN))
        else:
            self.ask_login()

    def ask_login(self) -> None:
        """App > Log in...: ask how to sign in, then sign in."""
        if self._logging_in:
            self.dialogs.info("Log in", "A login is already running.")
            return
        sign_in = self.dialogs.login(self.email, demo=self.demo)
        if sign_in is not None:
            self.log_in(sign_in)

    def log_in(self, sign_in: SignIn) -> None:
        """Forget the present account and all it shows, then sign in with ``sign_in``.

        In the demo an empty refresh token is one the simulator hands out, and the
        session knows the demo password (for remote start).
        """
        if self.demo and not sign_in.password:
            sign_in = dataclasses.replace(sign_in, password=DEMO_PASSWORD)
        self.email = sign_in.email
        previous = self.forget_account()
        self._logging_in = True
        options = self._session_options()
        cloud = self.cloud
        questions = WindowQuestions(sign_in, self.worker.ask_main, self.dialogs,
                                    cloud.refresh_token_for if cloud is not None else None)

        def sign_in_now() -> Account:
            if previous is not None:
                previous.close()
            if cloud is not None:
                options.update(cloud.options(sign_in.email))
                questions.ca_file = cloud.simulator.ca_file
            return open_account(sign_in, questions, **options)

        self.run("Logging in as %s" % sign_in.email, sign_in_now, self._on_logged_in,
                 on_failed=self._login_ended)

    def _session_options(self) -> Dict[str, Any]:
        """``Tesla`` options with the login questions answered by dialogs."""
        ask = self.worker.ask_main
        options = dict(self.options)
        options.setdefault("passcode_getter", lambda: ask(self.dialogs.passcode))
        options.setdefault("factor_selector",
                           lambda factors: ask(lambda: self.dialogs.factor(factors)))
        options.setdefault("captcha_solver", lambda svg: ask(lambda: self.dialogs.captcha(svg)))
        return options

    def _on_simulator(self, simulator: Any) -> None:
        self.simulator = simulator

    def _login_ended(self) -> None:
        self._logging_in = False

    def _on_logged_in(self, account: Account) -> None:
        self._login_ended()
        self.account = account
        self._fill_vehicle_menu()
        if account.vehicles:
            self.select_vehicle(0)
        else:
            self.update_status()

    def forget_account(self, log_out: bool = False) -> Optional[Account]:
        """Reset everything shown and every pending call; return the account to close.

        log_out: (optional) also forget the account's tokens and close it (on the
        worker), then tell where Tesla's sign-out page is; None is returned then
        """
        self.worker.reset()
        previous, self.account = self.account, None
        self._stop_auto_refresh()
        self._show_vehicle(None)
        if not log_out or previous is None:
            return previous

        def log_out_now() -> str:
            try:
                return previous.log_out()
            finally:
                previous.close()

        self.run("Logging out of %s" % previous.email, log_out_now,
                 lambda url: self._logged_out(previous.email, url), keep=True)
        return None

    def log_out(self) -> None:
        """App > Log out: forget the account's tokens here and everything shown."""
        if self._logging_in:
            self.dialogs.info("Log out", "A login is running: wait until it ends.")
        elif self.account is None:
            self.dialogs.info("Log out", "Nobody is logged in.")
        else:
            self.forget_account(log_out=True)

    def _logged_out(self, email: str, url: str) -> None:
        self.note = "Logged out of %s" % email
        self.update_status()
        if self.dialogs.confirm("Logged out", "Logged out of %s: its tokens are forgotten "
                                "on this computer.\n\nOpen Tesla's sign-out page in the "
                                "browser, to end the browser's session there too?\n\n%s"
                                % (email, url)):
            self.dialogs.open_url(url)

    def select_vehicle(self, index: int) -> None:
        """Show the account's car number ``index``, forgetting the previous car's calls."""
        if self.account is None or not 0 <= index < len(self.account.vehicles):
            return
        self.worker.reset()
        self._show_vehicle(self.account.vehicles[index])
        self.selected.set(index)
        self.refresh()
        self.load_image()

    def _show_vehicle(self, vehicle: Optional[teslapy.Vehicle]) -> None:
        """Make ``vehicle`` (or no car) the one on screen, with none of its data yet."""
        self.vehicle = vehicle
        self.last_update = None
        self.note = None
        self.selected.set(-1)
        self.dashboard.clear("" if vehicle is None else
                             "%s\n%s" % (vehicle["display_name"], vehicle["vin"]))
        self._fill_vehicle_menu()
        self.update_status()

    # -- reading ------------------------------------------------------------------

    def refresh(self, note: Optional[str] = None) -> None:
        """Read the car on screen (all its data when online) and show it."""
        vehicle = self.vehicle
        if vehicle is None:
            return
        self.run("Reading %s" % vehicle["display_name"], lambda: self._read(vehicle),
                 lambda texts: self._show_reading(vehicle, texts, note), vehicle)

    def _read(self, vehicle: teslapy.Vehicle) -> Optional[Dict[str, str]]:
        """On the worker: the car's state and, when online, the dashboard texts."""
        vehicle.get_vehicle_summary()
        if vehicle["state"] != "online":
            return None
        vehicle.get_vehicle_data()
        return read_dashboard(vehicle, self.places)

    def _show_reading(self, vehicle: teslapy.Vehicle, texts: Optional[Dict[str, str]],
                      note: Optional[str]) -> None:
        if vehicle is not self.vehicle:
            return
        if texts is not None:
            self.dashboard.show(texts)
            self.last_update = time.time()
        self.note = note
        self.update_status()

    def update_status(self) -> None:
        """Say in the status bar who is logged in, the car's state and the last outcome."""
        vehicle = self.vehicle
        if self.account is None:
            parts = ["Not logged in: App > Log in..."]
        elif vehicle is None:
            parts = ["Logged in as %s: no vehicles on this account" % self.account.email]
        else:
            parts = ["%s is %s" % (vehicle["display_name"], vehicle["state"])]
            charge = vehicle.get("charge_state") or {}
            if vehicle["state"] == "online" and charge:
                parts.append("%s, battery %s %%" % (charge.get("charging_state"),
                                                    charge.get("battery_level")))
                parts.append("locked" if (vehicle.get("vehicle_state") or {}).get("locked")
                             else "unlocked")
            elif vehicle["state"] != "online":
                parts.append("wake it up to read its data")
            if self.last_update:
                parts.append("updated %s" % time.strftime("%H:%M:%S",
                                                          time.localtime(self.last_update)))
            if self.auto_refresh.get():
                parts.append("auto refresh on: the car will not sleep")
        if self.note:
            parts.append(self.note)
        self.status.set(" | ".join(parts))

    def load_image(self) -> None:
        """Fetch the composed picture of the car on screen (once per car) and show it."""
        vehicle, account = self.vehicle, self.account
        if vehicle is None or account is None:
            return
        if vehicle["vin"] in account.images:
            self.dashboard.show_image(account.images[vehicle["vin"]])
            return

        def show(png: bytes) -> None:
            account.images[vehicle["vin"]] = png
            if vehicle is self.vehicle:
                self.dashboard.show_image(png)

        self.run("Loading the car image",
                 lambda: vehicle.compose_image(size=IMAGE_WIDTH,
                                               options=vehicle.get("option_codes")),
                 show, vehicle)

    def toggle_auto_refresh(self) -> None:
        if self.auto_refresh.get():
            self.dialogs.warning("Auto refresh", "While auto refresh is on, the car is polled "
                                 "every %d seconds and will not go to sleep."
                                 % (self.auto_refresh_ms // 1000))
            self._schedule_auto_refresh()
        else:
            self._stop_auto_refresh()
        self.update_status()

    def _stop_auto_refresh(self) -> None:
        self.auto_refresh.set(False)
        if self._auto_id is not None:
            self.root.after_cancel(self._auto_id)
            self._auto_id = None

    def _schedule_auto_refresh(self) -> None:
        def tick() -> None:
            self._auto_id = None
            if self.auto_refresh.get():
                if self.worker.idle:
                    self.refresh()
                self._schedule_auto_refresh()
        self._auto_id = self.root.after(self.auto_refresh_ms, tick)

    # -- car actions ------------------------------------------------------------------

    # -- closing ------------------------------------------------------------------

    def _callback_failed(self, kind: Type[BaseException], error: BaseException,
                         trace: Any) -> None:
        """A Tk callback raised: Ctrl-C quits, anything else is shown in words."""
        if issubclass(kind, KeyboardInterrupt):
            self.quit()
            return
        logger.debug("Unexpected error in the window", exc_info=(kind, error, trace))
        self.dialogs.error("Error", *explain(error))

    def quit(self) -> None:
        """Remember the window size, stop the worker, close the session (and the demo
        cloud), close the window.

        Afterwards the app holds nothing: every Tk object is freed here, on the main
        thread. Left to the cyclic garbage collector, Tcl objects could be freed on
        another thread (a server or worker thread), which Tcl does not allow.
        """
        if self.closed:
            return
        root = self.root
        with contextlib.suppress(tk.TclError):
            if root.winfo_ismapped():
                self.settings.save_size(root.winfo_width(), root.winfo_height())
        if self._auto_id is not None:
            root.after_cancel(self._auto_id)
        self.worker.stop()
        self.worker.thread.join(QUIT_WAIT)
        if self.worker.thread.is_alive():
            _ROOTS_OUTLIVING_WORKERS.append(root)
        if self.account is not None:
            self.account.close()
        if self.cloud is not None:
            self.cloud.close()
        with contextlib.suppress(AttributeError):
            del root.report_callback_exception
        root.destroy()
        self.__dict__.clear()
        self.closed = True
        del root
        gc.collect()
