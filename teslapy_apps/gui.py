"""Tesla desktop app (tkinter): a dashboard of one car, its picture and menus of commands.

Run as ``teslapy-gui``, ``python gui.py`` from a clone, or with ``--demo`` against the
built-in simulated Tesla cloud. Every library call runs on one worker thread; results
come back to the Tk main loop through a queue that the loop polls, so the window never
waits on the network. Pillow shows the composed car image and the login captcha.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import queue
import re
import signal
import sys
import threading
import time
import tkinter as tk
import xml.etree.ElementTree as ElementTree
from tkinter import messagebox, simpledialog
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import teslapy
from teslapy_apps.common import (
    Geocoder, Places, add_debug_option, add_session_options, charging_site_rows,
    configure_logging, default_geocoder, describe_error, login, open_session,
)

logger = logging.getLogger(__name__)

POLL_MS = 50
AUTO_REFRESH_MS = 30000
IMAGE_WIDTH = 400

# The dashboard: for each data group, (key, label, how to show it).
DASHBOARD: Dict[str, List[Tuple[str, str, str]]] = {
    "charge_state": [
        ("battery_level", "Battery level", "percent"),
        ("battery_range", "Range", "distance"),
        ("est_battery_range", "Est. range", "distance"),
        ("charging_state", "Charging", "text"),
        ("charge_limit_soc", "Charge limit", "percent"),
        ("charge_rate", "Charge rate", "speed"),
        ("charger_power", "Charger power", "kw"),
        ("charger_voltage", "Charger voltage", "volt"),
        ("charger_actual_current", "Charger current", "amp"),
        ("time_to_full_charge", "Time to full", "hours"),
        ("charge_energy_added", "Energy added", "kwh"),
        ("charge_port_door_open", "Charge port open", "bool"),
    ],
    "climate_state": [
        ("inside_temp", "Inside", "temperature"),
        ("outside_temp", "Outside", "temperature"),
        ("driver_temp_setting", "Driver setting", "temperature"),
        ("passenger_temp_setting", "Passenger setting", "temperature"),
        ("is_climate_on", "Climate on", "bool"),
        ("fan_status", "Fan", "text"),
        ("is_front_defroster_on", "Front defroster", "bool"),
        ("is_rear_defroster_on", "Rear defroster", "bool"),
        ("seat_heater_left", "Seat heater left", "text"),
        ("seat_heater_right", "Seat heater right", "text"),
    ],
    "drive_state": [
        ("shift_state", "Shift state", "text"),
        ("speed", "Speed", "speed"),
        ("power", "Power", "kw"),
        ("heading", "Heading", "degrees"),
        ("latitude", "Position", "position"),
        ("gps_as_of", "GPS time", "epoch"),
    ],
    "vehicle_state": [
        ("vehicle_name", "Name", "text"),
        ("car_version", "Software", "text"),
        ("odometer", "Odometer", "distance"),
        ("locked", "Locked", "bool"),
        ("sentry_mode", "Sentry mode", "bool"),
        ("valet_mode", "Valet mode", "bool"),
        ("is_user_present", "User present", "bool"),
        ("df", "Driver door open", "bool"),
        ("ft", "Frunk open", "bool"),
        ("rt", "Trunk open", "bool"),
    ],
    "vehicle_config": [
        ("car_type", "Car type", "text"),
        ("exterior_color", "Color", "text"),
        ("wheel_type", "Wheels", "text"),
        ("roof_color", "Roof", "text"),
        ("charge_port_type", "Charge port", "text"),
        ("rhd", "Right-hand drive", "bool"),
    ],
    "gui_settings": [
        ("gui_distance_units", "Distance units", "text"),
        ("gui_temperature_units", "Temperature units", "text"),
        ("gui_charge_rate_units", "Charge rate units", "text"),
        ("gui_range_display", "Range display", "text"),
        ("gui_24_hour_time", "24 hour time", "bool"),
    ],
}
GROUP_TITLES = {
    "charge_state": "Charge", "climate_state": "Climate", "drive_state": "Drive",
    "vehicle_state": "Vehicle", "vehicle_config": "Configuration",
    "gui_settings": "Display settings",
}


class Ask:
    """A command parameter asked from the user when the menu item is chosen."""

    def __init__(self, key: str, prompt: str, kind: type = int,
                 low: float = 0, high: float = 0) -> None:
        self.key, self.prompt, self.kind, self.low, self.high = key, prompt, kind, low, high


HERE = object()     # a parameter filled with the car's latitude / longitude

# Menus of the seed's commands: label, endpoint name, parameters.
COMMAND_MENUS: List[Tuple[str, List[Tuple[str, str, dict]]]] = [
    ("Doors", [
        ("Lock", "LOCK", {}), ("Unlock", "UNLOCK", {}),
        ("Open frunk", "ACTUATE_TRUNK", {"which_trunk": "front"}),
        ("Open/close trunk", "ACTUATE_TRUNK", {"which_trunk": "rear"}),
        ("Vent windows", "WINDOW_CONTROL", {"command": "vent", "lat": HERE, "lon": HERE}),
        ("Close windows", "WINDOW_CONTROL", {"command": "close", "lat": HERE, "lon": HERE}),
        ("Vent sunroof", "CHANGE_SUNROOF_STATE", {"state": "vent"}),
        ("Close sunroof", "CHANGE_SUNROOF_STATE", {"state": "close"}),
        ("Trigger HomeLink", "TRIGGER_HOMELINK", {"lat": HERE, "lon": HERE}),
    ]),
    ("Signals", [
        ("Honk horn", "HONK_HORN", {}), ("Flash lights", "FLASH_LIGHTS", {}),
    ]),
    ("Climate", [
        ("Climate on", "CLIMATE_ON", {}), ("Climate off", "CLIMATE_OFF", {}),
        ("Set temperature...", "CHANGE_CLIMATE_TEMPERATURE_SETTING",
         {"driver_temp": Ask("driver_temp", "Temperature in C", float, 15.0, 28.0)}),
        ("Max defrost on", "MAX_DEFROST", {"on": True}),
        ("Max defrost off", "MAX_DEFROST", {"on": False}),
        ("Seat heater...", "REMOTE_SEAT_HEATER_REQUEST",
         {"heater": Ask("heater", "Seat (0 driver, 1 passenger, 2-5 rear)", int, 0, 5),
          "level": Ask("level", "Level", int, 0, 3)}),
        ("Steering wheel heater on", "REMOTE_STEERING_WHEEL_HEATER_REQUEST", {"on": True}),
        ("Steering wheel heater off", "REMOTE_STEERING_WHEEL_HEATER_REQUEST", {"on": False}),
    ]),
    ("Charging", [
        ("Start charging", "START_CHARGE", {}), ("Stop charging", "STOP_CHARGE", {}),
        ("Set charge limit...", "CHANGE_CHARGE_LIMIT",
         {"percent": Ask("percent", "Charge limit in %", int, 50, 100)}),
        ("Open charge port", "CHARGE_PORT_DOOR_OPEN", {}),
        ("Close charge port", "CHARGE_PORT_DOOR_CLOSE", {}),
    ]),
    ("Security", [
        ("Sentry mode on", "SET_SENTRY_MODE", {"on": True}),
        ("Sentry mode off", "SET_SENTRY_MODE", {"on": False}),
        ("Valet mode on...", "SET_VALET_MODE",
         {"on": True, "password": Ask("password", "4 digit PIN", str)}),
        ("Valet mode off...", "SET_VALET_MODE",
         {"on": False, "password": Ask("password", "4 digit PIN", str)}),
        ("Reset valet PIN", "RESET_VALET_PIN", {}),
        ("Speed limit on...", "SPEED_LIMIT_ACTIVATE", {"pin": Ask("pin", "4 digit PIN", str)}),
        ("Speed limit off...", "SPEED_LIMIT_DEACTIVATE",
         {"pin": Ask("pin", "4 digit PIN", str)}),
        ("Set speed limit...", "SPEED_LIMIT_SET_LIMIT",
         {"limit_mph": Ask("limit_mph", "Speed limit in mph", int, 50, 90)}),
        ("Clear speed limit PIN...", "SPEED_LIMIT_CLEAR_PIN",
         {"pin": Ask("pin", "4 digit PIN", str)}),
    ]),
    ("Media", [
        ("Toggle playback", "MEDIA_TOGGLE_PLAYBACK", {}),
        ("Next track", "MEDIA_NEXT_TRACK", {}),
        ("Previous track", "MEDIA_PREVIOUS_TRACK", {}),
        ("Next favorite", "MEDIA_NEXT_FAVORITE", {}),
        ("Previous favorite", "MEDIA_PREVIOUS_FAVORITE", {}),
        ("Volume up", "MEDIA_VOLUME_UP", {}),
        ("Volume down", "MEDIA_VOLUME_DOWN", {}),
    ]),
    ("Software", [
        ("Schedule update...", "SCHEDULE_SOFTWARE_UPDATE",
         {"offset_sec": Ask("offset_sec", "Start in seconds", int, 0, 86400)}),
        ("Cancel update", "CANCEL_SOFTWARE_UPDATE", {}),
    ]),
]


# -- captcha image -----------------------------------------------------------------

def _number(text: Optional[str], default: float = 0.0, whole: float = 0.0) -> float:
    """An SVG length as a number; a percentage is taken of ``whole``."""
    match = re.match(r"\s*(-?[\d.]+)\s*(%?)", text or "")
    if not match:
        return default
    value = float(match.group(1))
    return value * whole / 100 if match.group(2) else value


def render_svg(svg: bytes, scale: float = 2.0) -> "PIL.Image.Image":
    """A Pillow image of an SVG: cairosvg when it is usable, else a drawing of its
    rectangles, lines, circles and text (enough for a captcha).

    Raises ImportError without Pillow; ValueError for a document that is not SVG.
    """
    from PIL import Image, ImageDraw, ImageFont

    try:
        import cairosvg
        return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg, scale=scale)))
    except Exception:                       # cairosvg or its libcairo missing: draw it ourselves
        logger.debug("cairosvg unavailable, drawing the SVG with Pillow", exc_info=True)
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise ValueError("The captcha is not a valid SVG document: %s" % error) from error
    view_box = [_number(v) for v in (root.get("viewBox") or "").replace(",", " ").split()]
    width = _number(root.get("width"), view_box[2] if len(view_box) == 4 else 150)
    height = _number(root.get("height"), view_box[3] if len(view_box) == 4 else 50)
    sx = sy = scale
    if len(view_box) == 4 and view_box[2] and view_box[3]:
        sx, sy = scale * width / view_box[2], scale * height / view_box[3]
    image = Image.new("RGB", (max(1, int(width * scale)), max(1, int(height * scale))), "white")
    draw = ImageDraw.Draw(image)

    def colour(element, attribute: str, default: Optional[str]) -> Optional[str]:
        value = element.get(attribute, default)
        if value in (None, "none", "transparent"):
            return None
        try:
            from PIL import ImageColor
            ImageColor.getrgb(value)
            return value
        except ValueError:
            return default

    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "rect":
            x, y = _number(element.get("x")) * sx, _number(element.get("y")) * sy
            w = _number(element.get("width"), width, width) * sx
            h = _number(element.get("height"), height, height) * sy
            draw.rectangle((x, y, x + w, y + h), fill=colour(element, "fill", "black"))
        elif tag == "line":
            draw.line((_number(element.get("x1")) * sx, _number(element.get("y1")) * sy,
                       _number(element.get("x2")) * sx, _number(element.get("y2")) * sy),
                      fill=colour(element, "stroke", "black"),
                      width=max(1, int(_number(element.get("stroke-width"), 1) * sx)))
        elif tag == "circle":
            cx, cy = _number(element.get("cx")) * sx, _number(element.get("cy")) * sy
            r = _number(element.get("r")) * sx
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour(element, "fill", "black"))
        elif tag == "text":
            text = "".join(element.itertext()).strip()
            size = _number(element.get("font-size"), 20) * sy
            try:
                font = ImageFont.load_default(size)
            except TypeError:               # Pillow < 10.1 has one bitmap size
                font = ImageFont.load_default()
            draw.text((_number(element.get("x")) * sx, _number(element.get("y")) * sy), text,
                      fill=colour(element, "fill", "black"), font=font, anchor="ls")
    return image


# -- threads ---------------------------------------------------------------------

class Worker:
    """Runs library calls one at a time on a background thread.

    ``submit`` queues a call; its result or error is handed back to the Tk main loop,
    which polls a queue with ``after``. ``ask_main`` lets the worker ask the main loop
    something (a login dialog) and wait for the answer.
    """

    def __init__(self, root: tk.Misc, poll_ms: int = POLL_MS) -> None:
        self.root = root
        self.poll_ms = poll_ms
        self.jobs: "queue.Queue[Optional[tuple]]" = queue.Queue()
        self.results: "queue.Queue[tuple]" = queue.Queue()
        self.pending = 0
        self.thread = threading.Thread(target=self._work, name="teslapy-gui-worker",
                                       daemon=True)
        self.thread.start()
        self._poll_id = root.after(poll_ms, self._poll)

    @property
    def idle(self) -> bool:
        return self.pending == 0

    def submit(self, func: Callable[[], Any], on_done: Optional[Callable[[Any], None]] = None,
               on_error: Optional[Callable[[BaseException], None]] = None) -> None:
        self.pending += 1
        self.jobs.put((func, on_done, on_error))

    def ask_main(self, func: Callable[[], Any]) -> Any:
        """From the worker: run ``func`` on the main loop and return its result."""
        done = threading.Event()
        box: list = []
        self.results.put(("ask", func, done, box))
        done.wait()
        return box[0]

    def stop(self) -> None:
        self.jobs.put(None)
        with contextlib.suppress(tk.TclError):
            self.root.after_cancel(self._poll_id)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            func, on_done, on_error = job
            try:
                self.results.put(("done", on_done, func(), None))
            except BaseException as error:      # every error goes back to the main loop
                self.results.put(("done", on_error, None, error))

    def _poll(self) -> None:
        while True:
            try:
                item = self.results.get_nowait()
            except queue.Empty:
                break
            if item[0] == "ask":
                _, func, done, box = item
                try:
                    box.append(func())
                except Exception:
                    logger.exception("Dialog failed")
                    box.append(None)
                done.set()
                continue
            _, callback, result, error = item
            self.pending -= 1
            if callback is not None:
                callback(error if error is not None else result)
        self._poll_id = self.root.after(self.poll_ms, self._poll)


# -- dialogs ----------------------------------------------------------------------

class Dialogs:
    """Every question and message the app shows; tests replace it with a script."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root

    def error(self, title: str, message: str) -> None:
        messagebox.showerror(title, message, parent=self.root)

    def info(self, title: str, message: str) -> None:
        messagebox.showinfo(title, message, parent=self.root)

    def warning(self, title: str, message: str) -> None:
        messagebox.showwarning(title, message, parent=self.root)

    def ask_value(self, title: str, ask: Ask) -> Any:
        """A parameter value, or None when cancelled."""
        if ask.kind is str:
            return simpledialog.askstring(title, ask.prompt + ":", parent=self.root)
        if ask.kind is float:
            return simpledialog.askfloat(title, "%s (%s-%s):" % (ask.prompt, ask.low, ask.high),
                                         minvalue=ask.low, maxvalue=ask.high, parent=self.root)
        return simpledialog.askinteger(title, "%s (%s-%s):" % (ask.prompt, ask.low, ask.high),
                                       minvalue=ask.low, maxvalue=ask.high, parent=self.root)

    def login(self, email: str = "") -> Optional[Tuple[str, str]]:
        """Email and password, or None when cancelled."""
        dialog = LoginDialog(self.root, email)
        return dialog.result

    def passcode(self) -> str:
        return simpledialog.askstring("Two-factor authentication", "Passcode:",
                                      parent=self.root) or ""

    def factor(self, factors: List[dict]) -> Any:
        names = [f.get("name", "?") for f in factors]
        dialog = ChoiceDialog(self.root, "Two-factor device", "Use which device?", names)
        return "" if dialog.result is None else factors[dialog.result]

    def captcha(self, svg: bytes) -> str:
        dialog = CaptchaDialog(self.root, svg)
        return dialog.result or ""

    def password(self) -> str:
        return simpledialog.askstring("Password", "Account password:", show="*",
                                      parent=self.root) or ""


class LoginDialog(simpledialog.Dialog):
    """Email and password fields."""

    def __init__(self, parent: tk.Misc, email: str) -> None:
        self.email = email
        self.result: Optional[Tuple[str, str]] = None
        super().__init__(parent, "Tesla login")

    def body(self, master: tk.Frame) -> tk.Widget:
        tk.Label(master, text="Email:").grid(row=0, column=0, sticky="e")
        tk.Label(master, text="Password:").grid(row=1, column=0, sticky="e")
        self.email_entry = tk.Entry(master, width=32)
        self.email_entry.insert(0, self.email)
        self.password_entry = tk.Entry(master, width=32, show="*")
        self.email_entry.grid(row=0, column=1)
        self.password_entry.grid(row=1, column=1)
        tk.Label(master, text="The password may stay empty when a token is cached.",
                 fg="grey").grid(row=2, column=0, columnspan=2)
        return self.password_entry if self.email else self.email_entry

    def validate(self) -> bool:
        if not self.email_entry.get().strip():
            messagebox.showwarning("Tesla login", "Please enter your email.", parent=self)
            return False
        return True

    def apply(self) -> None:
        self.result = (self.email_entry.get().strip(), self.password_entry.get())


class ChoiceDialog(simpledialog.Dialog):
    """Pick one entry of a list."""

    def __init__(self, parent: tk.Misc, title: str, prompt: str,
                 options: Sequence[str]) -> None:
        self.prompt, self.options = prompt, list(options)
        self.result: Optional[int] = None
        super().__init__(parent, title)

    def body(self, master: tk.Frame) -> tk.Widget:
        tk.Label(master, text=self.prompt).pack(anchor="w")
        self.listbox = tk.Listbox(master, height=min(8, len(self.options)), exportselection=False)
        for option in self.options:
            self.listbox.insert("end", option)
        self.listbox.selection_set(0)
        self.listbox.pack(fill="both")
        return self.listbox

    def apply(self) -> None:
        chosen = self.listbox.curselection()
        self.result = chosen[0] if chosen else None


class CaptchaDialog(simpledialog.Dialog):
    """The captcha image and a field for its characters."""

    def __init__(self, parent: tk.Misc, svg: bytes) -> None:
        self.svg = svg
        self.result: Optional[str] = None
        super().__init__(parent, "Captcha")

    def body(self, master: tk.Frame) -> tk.Widget:
        try:
            from PIL import ImageTk
            self.photo = ImageTk.PhotoImage(render_svg(self.svg), master=master)
            tk.Label(master, image=self.photo).pack()
        except Exception as error:          # no Pillow or an unreadable image: say so
            tk.Label(master, text="Cannot show the captcha image: %s" % error).pack()
        tk.Label(master, text="Characters:").pack(anchor="w")
        self.entry = tk.Entry(master)
        self.entry.pack(fill="x")
        return self.entry

    def apply(self) -> None:
        self.result = self.entry.get().strip()

    def destroy(self) -> None:
        self.photo = None                   # free the image on the main thread
        super().destroy()


# -- the app ----------------------------------------------------------------------

class App:
    """The main window: menus, car image, dashboard and status bar."""

    closed = False

    def __init__(self, root: tk.Tk, demo: bool = False, email: str = "",
                 dialogs: Optional[Dialogs] = None, geocoder: Optional[Geocoder] = None,
                 auto_refresh_ms: int = AUTO_REFRESH_MS, **options: Any) -> None:
        self.root = root
        self.demo = demo
        self.email = email
        self.options = options
        self.dialogs = dialogs or Dialogs(root)
        self.places = Places(geocoder)
        self.auto_refresh_ms = auto_refresh_ms
        self.worker = Worker(root)
        self.session = contextlib.ExitStack()
        self.simulator: Any = None
        self.tesla: Optional[teslapy.Tesla] = None
        self.vehicles: List[teslapy.Vehicle] = []
        self.vehicle: Optional[teslapy.Vehicle] = None
        self.images: Dict[str, Any] = {}
        self.photo: Any = None
        self.last_update: Optional[float] = None
        self.errors: List[str] = []
        self.note: Optional[str] = None     # the last failure, shown in the status bar
        root.title("Tesla" + (" (demo)" if demo else ""))
        root.protocol("WM_DELETE_WINDOW", self.quit)
        root.report_callback_exception = self._callback_failed
        self.selected = tk.IntVar(value=0)
        self.auto_refresh = tk.BooleanVar(value=False)
        self.status = tk.StringVar(value="Not logged in.")
        self.fields: Dict[str, tk.StringVar] = {}
        self.command_items: Dict[str, Callable[[], None]] = {}
        self._auto_id: Optional[str] = None
        self._build_menus()
        self._build_body()

    # -- layout -------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = tk.Menu(self.root)
        app_menu = tk.Menu(bar, tearoff=False)
        app_menu.add_command(label="Log in...", command=self.start)
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
                action = self._command_action(label, name, params)
                self.command_items[label] = action
                menu.add_command(label=label, command=action)
            bar.add_cascade(label=title, menu=menu)
        self.root.config(menu=bar)
        self.menubar = bar
        self.root.bind("<F5>", lambda event: self.refresh())

    def _fill_vehicle_menu(self) -> None:
        menu = self.vehicle_menu
        menu.delete(0, "end")
        for index, vehicle in enumerate(self.vehicles):
            menu.add_radiobutton(label="%s (%s)" % (vehicle["display_name"], vehicle["vin"]),
                                 variable=self.selected, value=index,
                                 command=lambda i=index: self.select_vehicle(i))
        if self.vehicles:
            menu.add_separator()
        for label, action in (("Wake up", self.wake_up),
                              ("Nearby charging sites", self.nearby_sites),
                              ("Option codes", self.option_codes),
                              ("Decode VIN", self.decode_vin),
                              ("Service scheduling", self.service_data),
                              ("Mobile access", self.mobile_access),
                              ("Remote start drive", self.remote_start)):
            menu.add_command(label=label, command=action)

    def _build_body(self) -> None:
        top = tk.Frame(self.root)
        top.pack(fill="both", expand=True, padx=6, pady=6)
        # A blank image of the car image's size keeps the layout still when it arrives.
        self.blank = tk.PhotoImage(master=self.root, width=IMAGE_WIDTH,
                                   height=IMAGE_WIDTH * 9 // 16)
        self.image_label = tk.Label(top, text="(no car image yet)", image=self.blank,
                                    compound="center", relief="groove", padx=0, pady=0)
        self.image_label.grid(row=0, column=0, sticky="n", padx=4, pady=4)
        positions = {"charge_state": (0, 1), "climate_state": (0, 2), "drive_state": (1, 1),
                     "vehicle_state": (1, 2), "vehicle_config": (2, 1), "gui_settings": (2, 2)}
        for group, rows in DASHBOARD.items():
            frame = tk.LabelFrame(top, text=GROUP_TITLES[group], padx=4, pady=2)
            row, column = positions[group]
            frame.grid(row=row, column=column, sticky="nsew", padx=4, pady=4)
            for line, (key, label, _) in enumerate(rows):
                variable = tk.StringVar(value="-")
                self.fields["%s.%s" % (group, key)] = variable
                tk.Label(frame, text=label + ":", anchor="w").grid(row=line, column=0,
                                                                   sticky="w")
                tk.Label(frame, textvariable=variable, anchor="w", width=26,
                         wraplength=220, justify="left").grid(row=line, column=1, sticky="w")
        self.identity = tk.StringVar(value="")
        tk.Label(top, textvariable=self.identity, justify="left", anchor="nw",
                 wraplength=IMAGE_WIDTH, font=("TkDefaultFont", 12, "bold")).grid(
            row=1, column=0, sticky="nw", padx=8)
        tk.Label(self.root, textvariable=self.status, relief="sunken", anchor="w").pack(
            side="bottom", fill="x")

    # -- background calls --------------------------------------------------------

    def run(self, what: str, func: Callable[[], Any],
            on_done: Optional[Callable[[Any], None]] = None) -> None:
        """Run a library call on the worker; an error becomes a dialog."""
        def failed(error: BaseException) -> None:
            code, message = describe_error(error)
            logger.debug("%s failed", what, exc_info=error)
            self.errors.append("%s: %s" % (what, message))
            if self.tesla is None:
                self.status.set("%s failed: App > Log in... tries again." % what)
            else:
                self.note = "%s failed" % what
                self.update_status()
            self.dialogs.error(what, message)

        self.note = None
        self.status.set("%s..." % what)
        self.worker.submit(func, on_done, failed)

    # -- login and vehicles ------------------------------------------------------

    def start(self) -> None:
        """Log in: straight away in demo mode, else after the login dialog."""
        if self.demo:
            self.connect(None, None)
            return
        answer = self.dialogs.login(self.email)
        if answer:
            self.email = answer[0]
            self.connect(answer[0], answer[1] or None)

    def connect(self, email: Optional[str], password: Optional[str]) -> None:
        ask = self.worker.ask_main
        options = dict(self.options)
        options.setdefault("passcode_getter", lambda: ask(self.dialogs.passcode))
        options.setdefault("factor_selector", lambda factors: ask(lambda: self.dialogs.factor(
            factors)))
        options.setdefault("captcha_solver", lambda svg: ask(lambda: self.dialogs.captcha(svg)))

        def log_in() -> list:
            self.session.close()
            self.session = contextlib.ExitStack()
            tesla = self.session.enter_context(open_session(
                email, password, demo=self.demo, on_simulator=self._on_simulator, **options))
            login(tesla)
            self.tesla = tesla
            return tesla.vehicle_list()

        self.run("Logging in", log_in, self.on_logged_in)

    def _on_simulator(self, simulator: Any) -> None:
        self.simulator = simulator

    def on_logged_in(self, vehicles: list) -> None:
        self.vehicles = vehicles
        self._fill_vehicle_menu()
        if not vehicles:
            self.status.set("Logged in as %s: no vehicles on this account." % self.tesla.email)
            return
        self.select_vehicle(0)

    def select_vehicle(self, index: int) -> None:
        self.selected.set(index)
        self.vehicle = self.vehicles[index]
        self.last_update = None
        for variable in self.fields.values():
            variable.set("-")
        self.identity.set("%s\n%s" % (self.vehicle["display_name"], self.vehicle["vin"]))
        self.refresh()
        self.load_image()

    # -- reading ------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the chosen car (all its data when online) and update the window."""
        vehicle = self.vehicle
        if vehicle is None:
            return
        self.run("Reading %s" % vehicle["display_name"],
                 lambda: self._read(vehicle), lambda texts: self.show(vehicle, texts))

    def _read(self, vehicle: teslapy.Vehicle) -> Optional[Dict[str, str]]:
        """On the worker: the car's state and, when online, the dashboard texts."""
        vehicle.get_vehicle_summary()
        if vehicle["state"] != "online":
            return None
        vehicle.get_vehicle_data()
        texts = {}
        for group, rows in DASHBOARD.items():
            data = vehicle.get(group) or {}
            for key, _, how in rows:
                texts["%s.%s" % (group, key)] = self._format(vehicle, data, key, how)
        return texts

    def _format(self, vehicle: teslapy.Vehicle, data: dict, key: str, how: str) -> str:
        value = data.get(key)
        if how == "position":
            return self.places.describe(data.get("latitude"), data.get("longitude"))
        if value is None:
            return "-"
        if how == "distance":
            return str(vehicle.dist_units(value))
        if how == "speed":
            return str(vehicle.dist_units(value, True))
        if how == "temperature":
            return str(vehicle.temp_units(value))
        if how == "bool":
            return "yes" if value else "no"
        if how == "epoch":
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
        units = {"percent": " %", "kw": " kW", "volt": " V", "amp": " A", "hours": " h",
                 "kwh": " kWh", "degrees": " deg"}
        return "%s%s" % (value, units.get(how, ""))

    def show(self, vehicle: teslapy.Vehicle, texts: Optional[Dict[str, str]]) -> None:
        """On the main loop: put a reading on the dashboard and the status bar."""
        if vehicle is not self.vehicle:
            return
        if texts is not None:
            for name, text in texts.items():
                self.fields[name].set(text)
            self.last_update = time.time()
        self.update_status()

    def update_status(self) -> None:
        vehicle = self.vehicle
        if vehicle is None:
            return
        parts = ["%s is %s" % (vehicle["display_name"], vehicle["state"])]
        charge, state = vehicle.get("charge_state") or {}, vehicle.get("vehicle_state") or {}
        if vehicle["state"] == "online" and charge:
            parts.append("%s, battery %s %%" % (charge.get("charging_state"),
                                                charge.get("battery_level")))
            parts.append("locked" if state.get("locked") else "unlocked")
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
        """Fetch the composed car image once per car and show it."""
        vehicle = self.vehicle
        if vehicle is None:
            return
        if vehicle["vin"] in self.images:
            self._show_image(vehicle, self.images[vehicle["vin"]])
            return
        self.run("Loading the car image",
                 lambda: vehicle.compose_image(size=IMAGE_WIDTH,
                                               options=vehicle.get("option_codes")),
                 lambda png: self._show_image(vehicle, png))

    def _show_image(self, vehicle: teslapy.Vehicle, png: bytes) -> None:
        self.images[vehicle["vin"]] = png
        if vehicle is not self.vehicle:
            return
        try:
            from PIL import Image, ImageTk
        except ImportError:
            self.image_label.config(text="Install Pillow to see the car")
            return
        try:
            image = Image.open(io.BytesIO(png))
            image.thumbnail((IMAGE_WIDTH, IMAGE_WIDTH))
            self.photo = ImageTk.PhotoImage(image, master=self.root)
        except Exception as error:          # a broken image must not stop the app
            self.image_label.config(text="Cannot show the car image: %s" % error)
            return
        self.image_label.config(image=self.photo, text="")

    def toggle_auto_refresh(self) -> None:
        if self.auto_refresh.get():
            self.dialogs.warning("Auto refresh", "While auto refresh is on, the car is polled "
                                 "every %d seconds and will not go to sleep."
                                 % (self.auto_refresh_ms // 1000))
            self._schedule_auto_refresh()
        elif self._auto_id is not None:
            self.root.after_cancel(self._auto_id)
            self._auto_id = None
        self.update_status()

    def _schedule_auto_refresh(self) -> None:
        def tick() -> None:
            self._auto_id = None
            if self.auto_refresh.get():
                if self.worker.idle:
                    self.refresh()
                self._schedule_auto_refresh()
        self._auto_id = self.root.after(self.auto_refresh_ms, tick)

    # -- vehicle actions ------------------------------------------------------------

    def _need_vehicle(self) -> Optional[teslapy.Vehicle]:
        if self.vehicle is None:
            self.dialogs.error("No vehicle", "Log in and choose a vehicle first.")
        return self.vehicle

    def _show_result(self, title: str) -> Callable[[Any], None]:
        return lambda result: (self.dialogs.info(title, str(result)), self.update_status())

    def wake_up(self) -> None:
        vehicle = self._need_vehicle()
        if vehicle:
            self.run("Waking up %s" % vehicle["display_name"], vehicle.sync_wake_up,
                     lambda _: self.refresh())

    def nearby_sites(self) -> None:
        vehicle = self._need_vehicle()
        if not vehicle:
            return

        def read() -> str:
            rows = charging_site_rows(vehicle, vehicle.get_nearby_charging_sites())
            return "\n".join("%s %s: %s%s" % (kind, name, distance,
                                              ", %s stalls free" % stalls if stalls else "")
                             for kind, name, distance, stalls in rows) \
                or "No charging sites nearby."

        self.run("Nearby charging sites", read, self._show_result("Nearby charging sites"))

    def option_codes(self) -> None:
        vehicle = self._need_vehicle()
        if vehicle:
            self.run("Option codes", lambda: "\n".join(vehicle.option_code_list()) or "None",
                     self._show_result("Option codes"))

    def decode_vin(self) -> None:
        vehicle = self._need_vehicle()
        if vehicle:
            self.run("Decode VIN", lambda: "\n".join(
                "%s: %s" % (key.replace("_", " ").capitalize(), value)
                for key, value in vehicle.decode_vin().items()), self._show_result("VIN"))

    def service_data(self) -> None:
        vehicle = self._need_vehicle()
        if vehicle:
            self.run("Service scheduling", vehicle.get_service_scheduling_data,
                     self._show_result("Service scheduling"))

    def mobile_access(self) -> None:
        vehicle = self._need_vehicle()
        if vehicle:
            self.run("Mobile access", lambda: "Mobile access is %s." % (
                "enabled" if vehicle.mobile_enabled() else "disabled"),
                self._show_result("Mobile access"))

    def remote_start(self) -> None:
        vehicle = self._need_vehicle()
        if not vehicle:
            return
        if not self.tesla.password:
            password = self.dialogs.password()
            if not password:
                return
            self.tesla.password = password
        self.run("Remote start", vehicle.remote_start_drive, lambda _: self.refresh())

    def _command_action(self, label: str, name: str, params: dict) -> Callable[[], None]:
        def action() -> None:
            vehicle = self._need_vehicle()
            if not vehicle:
                return
            values: Dict[str, Any] = {}
            for key, spec in params.items():
                if isinstance(spec, Ask):
                    value = self.dialogs.ask_value(label.rstrip("."), spec)
                    if value is None:
                        return
                    values[key] = value
                elif spec is HERE:
                    drive = vehicle.get("drive_state") or {}
                    values[key] = drive.get("latitude" if key == "lat" else "longitude", 0)
                else:
                    values[key] = spec
            if name == "CHANGE_CLIMATE_TEMPERATURE_SETTING":
                values["passenger_temp"] = values["driver_temp"]
            self.command(name, label.rstrip("."), **values)
        return action

    def command(self, name: str, label: Optional[str] = None, **params: Any) -> None:
        """Send a command to the chosen car, then read it again."""
        vehicle = self._need_vehicle()
        if vehicle:
            self.run(label or name, lambda: vehicle.command(name, **params),
                     lambda _: self.refresh())

    # -- closing ------------------------------------------------------------------

    def _callback_failed(self, kind: type, error: BaseException, trace: Any) -> None:
        """A Tk callback raised: Ctrl-C quits, anything else is shown as a dialog."""
        if issubclass(kind, KeyboardInterrupt):
            self.quit()
            return
        logger.debug("Unexpected error in the window", exc_info=(kind, error, trace))
        self.dialogs.error("Error", describe_error(error)[1])

    def quit(self) -> None:
        """Stop the worker, close the session (and the demo simulator), close the window.

        Afterwards the app holds nothing: every Tk object is freed here, on the main
        thread. Left to the cyclic garbage collector, Tcl objects could be freed on
        another thread (a server or worker thread), which Tcl does not allow.
        """
        if self.closed:
            return
        if self._auto_id is not None:
            self.root.after_cancel(self._auto_id)
        self.worker.stop()
        self.session.close()
        root = self.root
        with contextlib.suppress(AttributeError):
            del root.report_callback_exception
        root.destroy()
        self.__dict__.clear()
        self.closed = True
        del root
        gc.collect()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Tesla Owner API desktop app")
    parser.add_argument("-e", dest="email", metavar="EMAIL", default="",
                        help="login email to fill in")
    add_debug_option(parser)
    add_session_options(parser, geocoding=True)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``teslapy-gui`` and ``gui.py``; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.debug)
    try:
        root = tk.Tk()
    except tk.TclError as error:
        print("Cannot open a window: %s" % error, file=sys.stderr)
        return 1
    app = App(root, demo=args.demo, email=args.email, geocoder=default_geocoder(args),
              verify=args.verify, proxy=args.proxy)
    signal.signal(signal.SIGINT, lambda signum, frame: root.after_idle(app.quit))
    root.update()               # show the main window before the login dialog opens on it
    root.after_idle(app.start)
    try:
        root.mainloop()
    except KeyboardInterrupt:
        with contextlib.suppress(tk.TclError):
            app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
