"""Tesla console menu: pick a car, see its state, and send it commands.

Run as ``teslapy-menu``, ``python menu.py`` from a clone, or with ``--demo`` against
the built-in simulated Tesla cloud. With nothing cached it asks how to sign in (in a
browser, with a refresh token, or with a password where the server allows it); L in
the car list logs out. The screen is laid out for the terminal's width
(panels side by side from 90 columns, one column below); a command's result is
printed just above the actions, which are printed again only when both fit the
terminal's height. Positions are shown as street addresses when geopy is installed
and its geocoder answers, else as coordinates.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
import textwrap
from typing import Any, Callable, List, Optional, Sequence, Tuple

import teslapy
from teslapy_apps.common import (
    ExitCode, Geocoder, LoginCancelled, LoginQuestions, Places, Terminal, add_debug_option,
    add_session_options, charging_site_rows, configure_logging, default_geocoder,
    describe_error, login, open_session, product_name, run_app, temperature_in_car_units,
    temperature_in_celsius, uses_fahrenheit, wake_up,
)

logger = logging.getLogger(__name__)

Rows = List[Tuple[str, str]]
Entry = Tuple[str, Callable[[], None]]
LOGIN_ATTEMPTS = 3
PANEL_WIDTH = 44
WIDE = 2 * PANEL_WIDTH + 1          # panels side by side from this many columns
WAKE_HINT = "choose Wake up"
SIGN_IN_HINT = "log out (L in the car list) and sign in again"
LOG_OUT = "l"


class Quit(Exception):
    """The user asked to leave (0 in the car list, or end of input)."""


class Console(Terminal):
    """The menu's terminal; the end of input quits the menu."""

    def ask(self, prompt: str, secret: bool = False) -> str:
        """One line of input, stripped; end of input raises :class:`Quit`."""
        try:
            return super().ask(prompt, secret)
        except EOFError:
            self.write()
            raise Quit from None


# -- text layout -------------------------------------------------------------------------

def show(value: Any) -> str:
    """A value as the panels print it."""
    if value is None:
        return "-"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    """Lines of a plain text table with left-aligned columns."""
    cells = [[show(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    out = ["  ".join("%-*s" % (w, h) for w, h in zip(widths, headers)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join("%-*s" % (w, c) for w, c in zip(widths, row)).rstrip()
            for row in cells]
    return out


def panel(title: str, rows: Rows, width: int = PANEL_WIDTH) -> List[str]:
    """A boxed panel of label/value rows, ``width`` columns wide; long values wrap,
    labels longer than half the panel are cut."""
    inner = width - 4
    labels = min(max([16] + [len(label) + 1 for label, _ in rows]), inner // 2)
    rule = "+" + "-" * (width - 2) + "+"
    lines = [rule, "| " + title[:inner].center(inner) + " |", rule]
    for label, value in rows:
        wrapped = textwrap.wrap(str(value), inner - labels - 1) or [""]
        for number, part in enumerate(wrapped):
            text = "%-*s %s" % (labels, (label + ":")[:labels] if number == 0 else "", part)
            lines.append("| " + text.ljust(inner) + " |")
    lines.append(rule)
    return lines


def side_by_side(left: List[str], right: List[str]) -> List[str]:
    """Two panels next to each other."""
    height = max(len(left), len(right))
    blank = " " * len(left[0])
    left = left + [blank] * (height - len(left))
    right = right + [""] * (height - len(right))
    return [a + " " + b for a, b in zip(left, right)]


def columns(items: Sequence[str], width: int, most: int = 3) -> List[str]:
    """Items in as many columns (up to ``most``) as fit in ``width``, filled downwards."""
    cell = max(len(item) for item in items) + 3
    count = max(1, min(most, (width - 1) // cell))
    height = math.ceil(len(items) / count)
    lines = []
    for row in range(height):
        parts = [items[row + height * column].ljust(cell)
                 for column in range(count) if row + height * column < len(items)]
        lines.append("".join(parts).rstrip())
    return lines


def open_doors(state: dict, keys: Sequence[Tuple[str, str]]) -> str:
    """The names of the doors, trunks or windows that are open, or 'closed'."""
    names = [name for key, name in keys if state.get(key)]
    return ", ".join(names) if names else "closed"


def number(value: float) -> str:
    """A number as typed: ``70`` or ``22.5``."""
    return "%g" % value


# -- the menu ----------------------------------------------------------------------------

class Menu:
    """The menu for one logged-in account: the car list, then one car's screen."""

    def __init__(self, tesla: teslapy.Tesla, console: Console,
                 geocoder: Optional[Geocoder] = None) -> None:
        self.tesla = tesla
        self.console = console
        self.places = Places(geocoder)
        self.vehicle = teslapy.Vehicle({}, tesla)
        self.has_data = False
        self.printed = 0                # lines printed since the last choice

    # -- output -----------------------------------------------------------------

    def say(self, *lines: str) -> None:
        for line in lines:
            self.console.write(line)
        self.printed += len(lines)

    def width(self) -> int:
        return self.console.size().columns

    def call(self, func: Callable[[], Any]) -> Tuple[bool, Any]:
        """Run one library call; a failure is told in words and the menu goes on."""
        try:
            return True, func()
        except Exception as error:          # every failure is shown, none ends the menu
            logger.debug("Menu action failed", exc_info=True)
            code, message = describe_error(error, self.name, WAKE_HINT, SIGN_IN_HINT)
            self.say(message)
            if code == ExitCode.VEHICLE_UNAVAILABLE:    # offer the wake-up from now on
                self.has_data = False
                with contextlib.suppress(Exception):
                    self.vehicle.get_vehicle_summary()
            return False, None

    @property
    def name(self) -> str:
        return product_name(self.vehicle)

    # -- the car list -----------------------------------------------------------

    def run(self) -> None:
        """The car list, then the chosen car's screen; returns once the user logged out.

        Raises Quit when the user quits.
        """
        while True:
            vehicles = self.tesla.vehicle_list()
            if vehicles:
                rows = [(n, product_name(v), v["state"], v["vin"])
                        for n, v in enumerate(vehicles, 1)]
                self.say("", *table(("#", "Name", "State", "VIN"), rows))
            else:
                self.say("No vehicles on this account.")
            choice = self.choose_car(len(vehicles))
            if choice == LOG_OUT:
                self.log_out()
                return
            if choice == "0":
                raise Quit
            self.open(vehicles[int(choice) - 1])

    def choose_car(self, count: int) -> str:
        """A car's number, ``'0'`` to quit or :data:`LOG_OUT`; anything else asks again."""
        cars = "1-%d, " % count if count > 1 else "1, " if count else ""
        while True:
            text = self.console.ask("Car [%sL logs out, 0 quits]: " % cars).lower()
            if text == LOG_OUT or (text.isdecimal() and int(text) <= count):
                return str(int(text)) if text.isdecimal() else text
            if text:
                self.say("Please enter %s0 or L." % ("a car's number, " if count else ""))

    def log_out(self) -> None:
        """Forget the account's tokens (in the cache too) and say where Tesla's sign-out
        page is."""
        url = self.tesla.logout()
        self.say("Logged out of %s: its tokens are forgotten here." % self.tesla.email,
                 "To end the browser's session at Tesla too, open its sign-out page:",
                 "  " + url, "")

    # -- one car's screen -------------------------------------------------------

    def open(self, vehicle: teslapy.Vehicle) -> None:
        """The car's screen: its state and actions, until the user goes back.

        The actions are printed again after a result only when both fit the
        terminal's height; else the prompt says that Enter shows them.
        """
        self.vehicle = vehicle
        self.printed = 0
        self.refresh()
        if self.has_data and self.fits(self.dashboard()):
            self.say("", *self.dashboard())
        show_actions = True
        while True:
            entries = self.entries()
            if show_actions:
                self.say("", self.status(), *self.action_lines(entries))
                prompt = "Choice [0-%d]: " % len(entries)
            else:
                prompt = "Choice [0-%d, Enter shows the actions]: " % len(entries)
            choice = self.console.ask_number(prompt, 0, len(entries))
            self.printed = 0
            if choice == 0:
                return
            if choice is not None:
                entries[choice - 1][1]()
            show_actions = choice is None or self.fits([])

    def action_lines(self, entries: List[Entry]) -> List[str]:
        """The numbered actions, in as many columns as the terminal's width holds."""
        labels = ["%2d) %s" % (n, label) for n, (label, _) in enumerate(entries, 1)]
        return columns(labels + [" 0) Back to the car list"], self.width())

    def fits(self, lines: List[str]) -> bool:
        """Whether what was printed since the last choice, a blank line, ``lines``,
        the status, the actions and the prompt fit the terminal's height together."""
        below = 1 + len(self.action_lines(self.entries())) + 1
        return self.printed + 1 + len(lines) + 1 + below <= self.console.size().lines

    def entries(self) -> List[Entry]:
        """The actions for the car as it is: wake-up first when it is not online."""
        if not self.has_data:
            return [("Wake up", self.wake), ("Refresh", self.refresh_told),
                    ("Car details (VIN, options)", self.details)]
        v = self.vehicle
        climate, state = v.get("climate_state", {}), v.get("vehicle_state", {})
        charge = v.get("charge_state", {})
        locked, climate_on = state.get("locked"), climate.get("is_climate_on")
        port_open = charge.get("charge_port_door_open")
        charging = charge.get("charging_state") in ("Charging", "Starting")
        defrost = climate.get("is_front_defroster_on")
        return [
            ("Dashboard (all data)", lambda: self.say("", *self.dashboard())),
            ("Refresh", self.refresh_told),
            ("Car details (VIN, options)", self.details),
            ("Nearby charging sites", self.nearby_sites),
            ("Honk horn", lambda: self.command("HONK_HORN", "Horn honked.")),
            ("Flash lights", lambda: self.command("FLASH_LIGHTS", "Lights flashed.")),
            ("Unlock" if locked else "Lock",
             lambda: self.command("UNLOCK" if locked else "LOCK",
                                  "%s is %s." % (self.name, "unlocked" if locked
                                                 else "locked"))),
            ("Climate off" if climate_on else "Climate on",
             lambda: self.command("CLIMATE_OFF" if climate_on else "CLIMATE_ON",
                                  "Climate %s." % ("off" if climate_on else "on"))),
            ("Set temperature", self.set_temperature),
            ("Open frunk/trunk", self.actuate_trunk),
            ("Remote start drive", self.remote_start),
            ("Set charge limit", self.set_charge_limit),
            ("Close charge port" if port_open else "Open charge port",
             lambda: self.command("CHARGE_PORT_DOOR_CLOSE" if port_open
                                  else "CHARGE_PORT_DOOR_OPEN",
                                  "Charge port %s." % ("closed" if port_open else "open"))),
            ("Stop charging" if charging else "Start charging",
             lambda: self.command("STOP_CHARGE" if charging else "START_CHARGE",
                                  "Charging %s." % ("stopped" if charging else "started"))),
            ("Seat heater", self.seat_heater),
            ("Media playback", self.media),
            ("Window control", self.window_control),
            ("Max defrost off" if defrost else "Max defrost on",
             lambda: self.command("MAX_DEFROST", "Max defrost %s." % ("off" if defrost
                                                                     else "on"),
                                  on=not defrost)),
        ]

    # -- the car's data -----------------------------------------------------------

    def refresh(self) -> None:
        """Read the car's state, and all its data when it is online."""
        self.call(self.vehicle.get_vehicle_summary)
        self.has_data = False
        if self.vehicle.get("state") == "online":
            self.has_data = self.call(self.vehicle.get_vehicle_data)[0]

    def refresh_told(self) -> None:
        self.refresh()
        self.say("%s is %s%s." % (self.name, self.vehicle.get("state"),
                                  ": data read" if self.has_data else ""))

    def temperature(self, celsius: Optional[float]) -> str:
        """A temperature in °C shown in the car's unit."""
        if celsius is None:
            return "-"
        fahrenheit = uses_fahrenheit(self.vehicle)
        return "%.1f %s" % (temperature_in_car_units(celsius, fahrenheit),
                            "°F" if fahrenheit else "°C")

    def distance(self, miles: Optional[float], speed: bool = False) -> str:
        return show(self.vehicle.dist_units(miles, speed))

    def status(self) -> str:
        """The car in one line: state, battery, range, charging, inside, lock."""
        v = self.vehicle
        text = "%s (%s)" % (self.name, v.get("state"))
        if self.has_data:
            charge, state = v.get("charge_state", {}), v.get("vehicle_state", {})
            text += ": %s %%, %s, %s, inside %s, %s" % (
                show(charge.get("battery_level")), self.distance(charge.get("battery_range")),
                show(charge.get("charging_state")),
                self.temperature(v.get("climate_state", {}).get("inside_temp")),
                "locked" if state.get("locked") else "unlocked")
        else:
            text += ": wake it up to see its data and send commands"
        width = self.width() - 1
        return text if len(text) <= width else text[:width - 3] + "..."

    def dashboard(self) -> List[str]:
        """The climate, vehicle, drive and charge panels: two by two from 90 columns,
        else one under the other, in the car's units."""
        panels = self.panels()
        if self.width() >= WIDE:
            return (side_by_side(panel(*panels[0]), panel(*panels[1]))
                    + side_by_side(panel(*panels[2]), panel(*panels[3])))
        width = max(30, min(self.width() - 1, 60))
        return [line for title, rows in panels for line in panel(title, rows, width)]

    def panels(self) -> List[Tuple[str, Rows]]:
        """The panels' titles and label/value rows."""
        v = self.vehicle
        climate, state = v.get("climate_state", {}), v.get("vehicle_state", {})
        drive, charge = v.get("drive_state", {}), v.get("charge_state", {})
        temp, dist = self.temperature, self.distance
        climate_rows = [
            ("Inside", temp(climate.get("inside_temp"))),
            ("Outside", temp(climate.get("outside_temp"))),
            ("Driver setting", temp(climate.get("driver_temp_setting"))),
            ("Passenger set.", temp(climate.get("passenger_temp_setting"))),
            ("Climate on", show(climate.get("is_climate_on"))),
            ("Fan", show(climate.get("fan_status"))),
            ("Front defrost", show(climate.get("is_front_defroster_on"))),
            ("Rear defrost", show(climate.get("is_rear_defroster_on"))),
            ("Seat heaters", "left %s, right %s" % (show(climate.get("seat_heater_left")),
                                                    show(climate.get("seat_heater_right")))),
        ]
        vehicle_rows = [
            ("Name", show(state.get("vehicle_name"))),
            ("Software", show(state.get("car_version"))),
            ("Odometer", dist(state.get("odometer"))),
            ("Locked", show(state.get("locked"))),
            ("Sentry mode", show(state.get("sentry_mode"))),
            ("Valet mode", show(state.get("valet_mode"))),
            ("User present", show(state.get("is_user_present"))),
            ("Doors", open_doors(state, (("df", "driver front"), ("dr", "driver rear"),
                                         ("pf", "passenger front"), ("pr", "passenger rear")))),
            ("Trunks", open_doors(state, (("ft", "frunk"), ("rt", "trunk")))),
            ("Windows", open_doors(state, (("fd_window", "driver front"),
                                           ("rd_window", "driver rear"),
                                           ("fp_window", "passenger front"),
                                           ("rp_window", "passenger rear")))),
        ]
        drive_rows = [
            ("Shift state", show(drive.get("shift_state"))),
            ("Speed", dist(drive.get("speed"), True)),
            ("Power", "%s kW" % show(drive.get("power"))),
            ("Heading", "%s deg" % show(drive.get("heading"))),
            ("Position", self.places.describe(drive.get("latitude"), drive.get("longitude"))),
        ]
        charge_rows = [
            ("Battery level", "%s %%" % show(charge.get("battery_level"))),
            ("Range", dist(charge.get("battery_range"))),
            ("Est. range", dist(charge.get("est_battery_range"))),
            ("Charging", show(charge.get("charging_state"))),
            ("Charge limit", "%s %%" % show(charge.get("charge_limit_soc"))),
            ("Charge rate", dist(charge.get("charge_rate"), True)),
            ("Time to full", "%s h" % show(charge.get("time_to_full_charge"))),
            ("Charger", "%s kW, %s V, %s A" % (show(charge.get("charger_power")),
                                               show(charge.get("charger_voltage")),
                                               show(charge.get("charger_actual_current")))),
            ("Charge port", "open" if charge.get("charge_port_door_open") else "closed"),
            ("Energy added", "%s kWh" % show(charge.get("charge_energy_added"))),
        ]
        return [("Climate", climate_rows), ("Vehicle", vehicle_rows), ("Drive", drive_rows),
                ("Charge", charge_rows)]

    # -- actions ------------------------------------------------------------------

    def command(self, name: str, done: str, **params: Any) -> None:
        """Send one command; say ``done`` and read the car again after success."""
        if self.call(lambda: self.vehicle.command(name, **params))[0]:
            self.refresh()
            self.say(done)

    def wake(self) -> None:
        self.say("Waking up %s ..." % self.name)
        if self.call(lambda: wake_up(self.vehicle))[0]:
            self.refresh()
            self.say("%s is online." % self.name)

    def details(self) -> None:
        """The car's decoded VIN and its option codes."""
        self.say("", "%s (VIN %s)" % (self.name, self.vehicle.get("vin")))
        decoded = self.call(self.vehicle.decode_vin)[1] or {}
        for key, value in decoded.items():
            self.say("  %-14s %s" % (key.replace("_", " ").capitalize() + ":", value))
        codes = self.call(self.vehicle.option_code_list)[1]
        if codes:
            self.say("Option codes:", *textwrap.wrap(
                ", ".join(codes), self.width() - 1, initial_indent="  ",
                subsequent_indent="  "))

    def nearby_sites(self) -> None:
        done, sites = self.call(self.vehicle.get_nearby_charging_sites)
        if done:
            rows = charging_site_rows(self.vehicle, sites)
            self.say("", *table(("Type", "Name", "Distance", "Stalls free"), rows))

    def set_temperature(self) -> None:
        """Ask the temperature in the car's unit, within the car's range."""
        climate = self.vehicle.get("climate_state", {})
        fahrenheit = uses_fahrenheit(self.vehicle)
        unit = "°F" if fahrenheit else "°C"
        low, high = (round(temperature_in_car_units(celsius, fahrenheit), 1) for celsius in
                     (climate.get("min_avail_temp") or 15.0,
                      climate.get("max_avail_temp") or 28.0))
        value = self.console.ask_number("Temperature in %s [%s-%s]: " % (unit, low, high),
                                        low, high, kind=float)
        if value is not None:
            celsius = temperature_in_celsius(value, fahrenheit)
            self.command("CHANGE_CLIMATE_TEMPERATURE_SETTING",
                         "Climate temperature set to %s %s." % (number(value), unit),
                         driver_temp=celsius, passenger_temp=celsius)

    def actuate_trunk(self) -> None:
        choice = self.console.choose("Which one?", ("Frunk (front)", "Trunk (rear)"))
        if choice is not None:
            which, label = (("front", "Frunk"), ("rear", "Trunk"))[choice]
            self.command("ACTUATE_TRUNK", "%s opened." % label, which_trunk=which)

    def remote_start(self) -> None:
        if not self.tesla.password:
            password = self.console.ask("Account password: ", secret=True)
            if not password:
                return
            self.tesla.password = password
        if self.call(self.vehicle.remote_start_drive)[0]:
            self.refresh()
            self.say("Keyless driving is on: drive within two minutes.")

    def set_charge_limit(self) -> None:
        charge = self.vehicle.get("charge_state", {})
        low = charge.get("charge_limit_soc_min") or 50
        high = charge.get("charge_limit_soc_max") or 100
        value = self.console.ask_number("Charge limit in %% [%s-%s]: " % (low, high), low, high)
        if value is not None:
            self.command("CHANGE_CHARGE_LIMIT", "Charge limit set to %d %%." % value,
                         percent=value)

    def seat_heater(self) -> None:
        seats = ("Driver", "Passenger", "Rear left", "Rear left back", "Rear center",
                 "Rear right")
        seat = self.console.choose("Which seat?", seats)
        if seat is None:
            return
        level = self.console.ask_number("Level [0-3]: ", 0, 3)
        if level is not None:
            self.command("REMOTE_SEAT_HEATER_REQUEST",
                         "%s seat heater set to %d." % (seats[seat], level),
                         heater=seat, level=level)

    def media(self) -> None:
        names = (("Toggle playback", "MEDIA_TOGGLE_PLAYBACK", "Playback toggled."),
                 ("Next track", "MEDIA_NEXT_TRACK", "Skipped to the next track."),
                 ("Previous track", "MEDIA_PREVIOUS_TRACK", "Back to the previous track."),
                 ("Next favorite", "MEDIA_NEXT_FAVORITE", "Skipped to the next favorite."),
                 ("Previous favorite", "MEDIA_PREVIOUS_FAVORITE",
                  "Back to the previous favorite."),
                 ("Volume up", "MEDIA_VOLUME_UP", "Volume up."),
                 ("Volume down", "MEDIA_VOLUME_DOWN", "Volume down."))
        choice = self.console.choose("Media:", [label for label, _, _ in names])
        if choice is not None:
            self.command(names[choice][1], names[choice][2])

    def window_control(self) -> None:
        choice = self.console.choose("Windows:", ("Vent", "Close"))
        if choice is None:
            return
        drive = self.vehicle.get("drive_state", {})
        self.command("WINDOW_CONTROL", "Windows %s." % ("vented", "closed")[choice],
                     command=("vent", "close")[choice],
                     lat=drive.get("latitude", 0), lon=drive.get("longitude", 0))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Tesla Owner API console menu")
    parser.add_argument("-e", dest="email", metavar="EMAIL", help="login email (else asked)")
    add_debug_option(parser)
    add_session_options(parser, geocoding=True)
    return parser


def run(args: argparse.Namespace, console: Console,
        geocoder: Optional[Geocoder] = None) -> int:
    """Sign in and run the menu; after a log out sign in again. End of input, 0 in the
    car list, or no choice of how to sign in again quits."""
    questions = LoginQuestions(console)
    options = dict(questions.options(), verify=args.verify, proxy=args.proxy)
    try:
        email = args.email
        while not email and not args.demo:
            email = console.ask("Email: ")
        with open_session(email, None, demo=args.demo, on_simulator=questions.use_simulator,
                          **options) as tesla:
            login(tesla, questions, LOGIN_ATTEMPTS)
            while True:
                Menu(tesla, console, geocoder).run()
                questions.method = None         # logged out: ask how to sign in again
                try:
                    login(tesla, questions, LOGIN_ATTEMPTS)
                except LoginCancelled:
                    raise Quit from None
    except Quit:
        console.write("Bye.")
    return ExitCode.OK


def main(argv: Optional[Sequence[str]] = None, console: Optional[Console] = None,
         geocoder: Optional[Geocoder] = None) -> int:
    """Entry point of ``teslapy-menu`` and ``menu.py``; returns the exit code.

    console: (optional) the terminal to use (its input, output, size and browser), for
        scripting
    geocoder: (optional) ``(latitude, longitude) -> address``; Nominatim by default,
        none with ``--demo`` or ``--no-geocode``
    """
    args = build_parser().parse_args(argv)
    undo_logging = configure_logging(args.debug)
    if geocoder is None:
        geocoder = default_geocoder(args)
    try:
        return run_app(lambda: run(args, console or Console(), geocoder), args.debug)
    finally:
        undo_logging()


if __name__ == "__main__":
    sys.exit(main())
