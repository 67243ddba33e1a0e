"""Tesla console menu: pick a car, see its state in panels, and send it commands.

Run as ``teslapy-menu``, ``python menu.py`` from a clone, or with ``--demo`` against
the built-in simulated Tesla cloud. Positions are shown as street addresses when geopy
is installed and its geocoder answers, else as coordinates.
"""
from __future__ import annotations

import argparse
import builtins
import getpass
import logging
import sys
import textwrap
from typing import Any, Callable, List, Optional, Sequence, Tuple

import teslapy
from teslapy_apps.common import (
    ExitCode, Geocoder, LoginCancelled, LoginFailed, Places, add_debug_option,
    add_session_options, captcha_in_terminal, charging_site_rows, configure_logging, default_geocoder,
    describe_error, login, open_session, run_app,
)

logger = logging.getLogger(__name__)

Rows = List[Tuple[str, str]]
LOGIN_ATTEMPTS = 3
PANEL_WIDTH = 44


class Quit(Exception):
    """The user asked to leave (0 in a menu, or end of input)."""


class Console:
    """The menu's terminal: line input, hidden input and output, replaceable in tests."""

    def __init__(self, read: Callable[[str], str] = builtins.input,
                 read_secret: Callable[[str], str] = getpass.getpass,
                 write: Callable[..., None] = builtins.print) -> None:
        self.read = read
        self.read_secret = read_secret
        self.write = write

    def ask(self, prompt: str, secret: bool = False) -> str:
        """One line of input, stripped; end of input raises :class:`Quit`."""
        try:
            return (self.read_secret if secret else self.read)(prompt).strip()
        except EOFError:
            self.write()
            raise Quit from None

    def ask_number(self, prompt: str, low: float, high: float, kind: type = int,
                   allow_empty: bool = True) -> Optional[Any]:
        """A number in [low, high]; re-prompts on bad input; empty input gives None."""
        while True:
            text = self.ask(prompt)
            if not text:
                if allow_empty:
                    return None
                continue
            try:
                value = kind(text)
            except ValueError:
                self.write("Please enter a number.")
                continue
            if low <= value <= high:
                return value
            self.write("Please enter a number from %s to %s." % (low, high))

    def choose(self, title: str, options: Sequence[str]) -> Optional[int]:
        """Numbered options; returns the 0-based index, or None on empty input."""
        self.write(title)
        for number, option in enumerate(options, 1):
            self.write("  %d) %s" % (number, option))
        choice = self.ask_number("Choice [1-%d, empty to cancel]: " % len(options),
                                 1, len(options))
        return None if choice is None else choice - 1


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
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join("%-*s" % (w, c) for w, c in zip(widths, row)) for row in cells]
    return out


def panel(title: str, rows: Rows, width: int = PANEL_WIDTH) -> List[str]:
    """A boxed panel of label/value rows."""
    inner = width - 4
    lines = ["+" + "-" * (width - 2) + "+", "| " + title.center(inner) + " |",
             "+" + "-" * (width - 2) + "+"]
    for label, value in rows:
        wrapped = textwrap.wrap(str(value), inner - 17) or [""]
        for number, part in enumerate(wrapped):
            text = "%-16s %s" % (label + ":" if number == 0 else "", part)
            lines.append("| " + text.ljust(inner) + " |")
    lines.append("+" + "-" * (width - 2) + "+")
    return lines


def side_by_side(left: List[str], right: List[str]) -> List[str]:
    """Two panels next to each other."""
    height = max(len(left), len(right))
    blank = " " * len(left[0])
    left = left + [blank] * (height - len(left))
    right = right + [""] * (height - len(right))
    return [a + " " + b for a, b in zip(left, right)]


def open_doors(state: dict, keys: Sequence[Tuple[str, str]]) -> str:
    """The names of the doors, trunks or windows that are open, or 'closed'."""
    names = [name for key, name in keys if state.get(key)]
    return ", ".join(names) if names else "closed"


class Menu:
    """The menu for one logged-in account."""

    def __init__(self, tesla: teslapy.Tesla, console: Console,
                 geocoder: Optional[Geocoder] = None) -> None:
        self.tesla = tesla
        self.console = console
        self.places = Places(geocoder)
        self.vehicle: Optional[teslapy.Vehicle] = None
        self.has_data = False

    # -- output ---------------------------------------------------------------

    def say(self, *lines: str) -> None:
        for line in lines:
            self.console.write(line)

    def call(self, what: str, func: Callable[[], Any]) -> Any:
        """Run one library call; errors are printed and give None, the menu goes on."""
        try:
            return func()
        except Quit:
            raise
        except Exception as error:          # every failure is shown, none ends the menu
            code, message = describe_error(error)
            logger.debug("%s failed", what, exc_info=True)
            self.say("%s failed: %s" % (what, message))
            return None

    # -- choosing a car -------------------------------------------------------

    def choose_vehicle(self) -> bool:
        """Show the account's cars and let the user pick one; False when there are none."""
        vehicles = self.tesla.vehicle_list()
        if not vehicles:
            self.say("No vehicles on this account.")
            return False
        rows = [(n, v["display_name"], v["vin"], v["state"]) for n, v in enumerate(vehicles, 1)]
        self.say("", *table(("#", "Name", "VIN", "State"), rows))
        if len(vehicles) == 1:
            self.vehicle = vehicles[0]
        else:
            number = self.console.ask_number("Vehicle [1-%d]: " % len(vehicles),
                                             1, len(vehicles), allow_empty=False)
            self.vehicle = vehicles[number - 1]
        self.show_identity()
        return True

    def show_identity(self) -> None:
        """The chosen car's decoded VIN and option codes."""
        vehicle = self.vehicle
        self.say("", "%s (%s)" % (vehicle["display_name"], vehicle["vin"]))
        decoded = self.call("VIN decode", vehicle.decode_vin) or {}
        for key, value in decoded.items():
            self.say("  %-14s %s" % (key.replace("_", " ").capitalize() + ":", value))
        codes = self.call("Option codes", vehicle.option_code_list)
        if codes:
            self.say("Option codes:", *textwrap.wrap(", ".join(codes), 88,
                                                      initial_indent="  ",
                                                      subsequent_indent="  "))

    # -- the car's data -------------------------------------------------------

    def refresh(self) -> None:
        """Read the car's state, and all its data when it is online."""
        vehicle = self.vehicle
        self.call("Reading the vehicle", vehicle.get_vehicle_summary)
        if vehicle["state"] == "online":
            self.has_data = self.call("Reading vehicle data",
                                      vehicle.get_vehicle_data) is not None
        else:
            self.has_data = False

    def position(self, drive: dict) -> str:
        """The car's address, or its coordinates when no geocoder answers."""
        return self.places.describe(drive.get("latitude"), drive.get("longitude"))

    def panels(self) -> List[str]:
        """The climate, vehicle, drive and charge panels, in the car's units."""
        v = self.vehicle
        climate, state = v.get("climate_state", {}), v.get("vehicle_state", {})
        drive, charge = v.get("drive_state", {}), v.get("charge_state", {})
        dist, temp = v.dist_units, v.temp_units
        climate_rows = [
            ("Inside", show(temp(climate.get("inside_temp")))),
            ("Outside", show(temp(climate.get("outside_temp")))),
            ("Driver setting", show(temp(climate.get("driver_temp_setting")))),
            ("Passenger set.", show(temp(climate.get("passenger_temp_setting")))),
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
            ("Odometer", show(dist(state.get("odometer")))),
            ("Locked", show(state.get("locked"))),
            ("Sentry mode", show(state.get("sentry_mode"))),
            ("Valet mode", show(state.get("valet_mode"))),
            ("User present", show(state.get("is_user_present"))),
            ("Doors", open_doors(state, (("df", "driver front"), ("dr", "driver rear"),
                                         ("pf", "passenger front"), ("pr", "passenger rear"))))
            ,
            ("Trunks", open_doors(state, (("ft", "frunk"), ("rt", "trunk")))),
            ("Windows", open_doors(state, (("fd_window", "driver front"),
                                           ("rd_window", "driver rear"),
                                           ("fp_window", "passenger front"),
                                           ("rp_window", "passenger rear")))),
        ]
        drive_rows = [
            ("Shift state", show(drive.get("shift_state"))),
            ("Speed", show(dist(drive.get("speed"), True))),
            ("Power", "%s kW" % show(drive.get("power"))),
            ("Heading", "%s deg" % show(drive.get("heading"))),
            ("Position", self.position(drive)),
        ]
        charge_rows = [
            ("Battery level", "%s %%" % show(charge.get("battery_level"))),
            ("Range", show(dist(charge.get("battery_range")))),
            ("Est. range", show(dist(charge.get("est_battery_range")))),
            ("Charging", show(charge.get("charging_state"))),
            ("Charge limit", "%s %%" % show(charge.get("charge_limit_soc"))),
            ("Charge rate", show(dist(charge.get("charge_rate"), True))),
            ("Time to full", "%s h" % show(charge.get("time_to_full_charge"))),
            ("Charger", "%s kW, %s V, %s A" % (show(charge.get("charger_power")),
                                               show(charge.get("charger_voltage")),
                                               show(charge.get("charger_actual_current")))),
            ("Charge port", "open" if charge.get("charge_port_door_open") else "closed"),
            ("Energy added", "%s kWh" % show(charge.get("charge_energy_added"))),
        ]
        return (side_by_side(panel("Climate", climate_rows), panel("Vehicle", vehicle_rows))
                + side_by_side(panel("Drive", drive_rows), panel("Charge", charge_rows)))

    def show_state(self) -> None:
        v = self.vehicle
        self.say("", "=== %s: %s ===" % (v["display_name"], v["state"]))
        if self.has_data:
            lines = self.call("Showing the panels", self.panels)
            self.say(*(lines or []))
        else:
            self.say("The car is %s: wake it up to see its data." % v["state"])

    # -- actions ----------------------------------------------------------------

    def actions(self) -> List[Tuple[str, Callable[[], None]]]:
        """The menu entries, with toggles labelled for the car's current state."""
        v = self.vehicle
        climate, state = v.get("climate_state", {}), v.get("vehicle_state", {})
        charge = v.get("charge_state", {})
        charging = charge.get("charging_state") in ("Charging", "Starting")
        return [
            ("Refresh", self.refresh),
            ("Wake up", self.wake_up),
            ("Nearby charging sites", self.nearby_sites),
            ("Honk horn", lambda: self.command("HONK_HORN")),
            ("Flash lights", lambda: self.command("FLASH_LIGHTS")),
            ("Unlock" if state.get("locked") else "Lock",
             lambda: self.command("UNLOCK" if state.get("locked") else "LOCK")),
            ("Climate off" if climate.get("is_climate_on") else "Climate on",
             lambda: self.command("CLIMATE_OFF" if climate.get("is_climate_on")
                                  else "CLIMATE_ON")),
            ("Set temperature", self.set_temperature),
            ("Open frunk/trunk", self.actuate_trunk),
            ("Remote start drive", self.remote_start),
            ("Set charge limit", self.set_charge_limit),
            ("Close charge port" if charge.get("charge_port_door_open") else "Open charge port",
             lambda: self.command("CHARGE_PORT_DOOR_CLOSE" if charge.get("charge_port_door_open")
                                  else "CHARGE_PORT_DOOR_OPEN")),
            ("Stop charging" if charging else "Start charging",
             lambda: self.command("STOP_CHARGE" if charging else "START_CHARGE")),
            ("Seat heater", self.seat_heater),
            ("Media playback", self.media),
            ("Window control", self.window_control),
            ("Max defrost off" if climate.get("is_front_defroster_on") else "Max defrost on",
             lambda: self.command("MAX_DEFROST", on=not climate.get("is_front_defroster_on"))),
        ]

    def command(self, name: str, **params: Any) -> None:
        """Send one command; report the outcome and refresh after success."""
        if self.call(name, lambda: self.vehicle.command(name, **params)) is not None:
            self.say("%s: done." % name)
            self.refresh()

    def wake_up(self) -> None:
        self.say("Waking up %s ..." % self.vehicle["display_name"])
        if self.call("Wake up", self.vehicle.sync_wake_up) is not None or \
                self.vehicle["state"] == "online":
            self.say("The car is online.")
        self.refresh()

    def nearby_sites(self) -> None:
        sites = self.call("Nearby charging sites", self.vehicle.get_nearby_charging_sites)
        if sites is None:
            return
        rows = charging_site_rows(self.vehicle, sites)
        self.say("", *table(("Type", "Name", "Distance", "Stalls free"), rows))

    def set_temperature(self) -> None:
        climate = self.vehicle.get("climate_state", {})
        low = climate.get("min_avail_temp") or 15.0
        high = climate.get("max_avail_temp") or 28.0
        value = self.console.ask_number("Temperature in C [%s-%s]: " % (low, high),
                                        low, high, kind=float)
        if value is not None:
            self.command("CHANGE_CLIMATE_TEMPERATURE_SETTING",
                          driver_temp=value, passenger_temp=value)

    def actuate_trunk(self) -> None:
        choice = self.console.choose("Which one?", ("Frunk (front)", "Trunk (rear)"))
        if choice is not None:
            self.command("ACTUATE_TRUNK", which_trunk=("front", "rear")[choice])

    def remote_start(self) -> None:
        if not self.tesla.password:
            password = self.console.ask("Account password: ", secret=True)
            if not password:
                return
            self.tesla.password = password
        if self.call("Remote start", self.vehicle.remote_start_drive) is not None:
            self.say("Remote start: done, drive within two minutes.")
            self.refresh()

    def set_charge_limit(self) -> None:
        charge = self.vehicle.get("charge_state", {})
        low = charge.get("charge_limit_soc_min") or 50
        high = charge.get("charge_limit_soc_max") or 100
        value = self.console.ask_number("Charge limit in %% [%s-%s]: " % (low, high), low, high)
        if value is not None:
            self.command("CHANGE_CHARGE_LIMIT", percent=value)

    def seat_heater(self) -> None:
        seats = ("Driver", "Passenger", "Rear left", "Rear left back", "Rear center",
                 "Rear right")
        seat = self.console.choose("Which seat?", seats)
        if seat is None:
            return
        level = self.console.ask_number("Level [0-3]: ", 0, 3)
        if level is not None:
            self.command("REMOTE_SEAT_HEATER_REQUEST", heater=seat, level=level)

    def media(self) -> None:
        names = (("Toggle playback", "MEDIA_TOGGLE_PLAYBACK"),
                 ("Next track", "MEDIA_NEXT_TRACK"),
                 ("Previous track", "MEDIA_PREVIOUS_TRACK"),
                 ("Next favorite", "MEDIA_NEXT_FAVORITE"),
                 ("Previous favorite", "MEDIA_PREVIOUS_FAVORITE"),
                 ("Volume up", "MEDIA_VOLUME_UP"),
                 ("Volume down", "MEDIA_VOLUME_DOWN"))
        choice = self.console.choose("Media:", [label for label, _ in names])
        if choice is not None:
            self.command(names[choice][1])

    def window_control(self) -> None:
        choice = self.console.choose("Windows:", ("Vent", "Close"))
        if choice is None:
            return
        drive = self.vehicle.get("drive_state", {})
        self.command("WINDOW_CONTROL", command=("vent", "close")[choice],
                     lat=drive.get("latitude", 0), lon=drive.get("longitude", 0))

    # -- the loop ---------------------------------------------------------------

    def run(self) -> None:
        """Choose a car, then show its state and the actions until the user quits."""
        if not self.choose_vehicle():
            return
        self.refresh()
        while True:
            self.show_state()
            actions = self.actions()
            self.say("", "Actions:")
            for number, (label, _) in enumerate(actions, 1):
                self.say("  %2d) %s" % (number, label))
            self.say("   0) Quit")
            choice = self.console.ask_number("Choice [0-%d]: " % len(actions), 0, len(actions),
                                             allow_empty=False)
            if choice == 0:
                raise Quit
            actions[choice - 1][1]()


class LoginQuestions:
    """The login questions on the console: password, factor, passcode and captcha.

    Remembers whether the password was accepted (a factor or passcode was asked), so
    a wrong passcode does not make the user type the password again.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.password_accepted = False

    def password(self) -> str:
        """The account password; empty input asks again."""
        while True:
            password = self.console.ask("Password: ", secret=True)
            if password:
                return password

    def factor(self, factors: List[dict]) -> Any:
        """One of the account's MFA devices; empty input cancels the login."""
        self.password_accepted = True
        index = self.console.choose("Two-factor devices:", [f.get("name", "?") for f in factors])
        return "" if index is None else factors[index]

    def passcode(self) -> str:
        """The device's passcode (not echoed); empty input cancels the login."""
        self.password_accepted = True
        return self.console.ask("Passcode: ", secret=True)

    def captcha(self, svg: bytes) -> str:
        return captcha_in_terminal(svg, self.console.ask, self.console.write)

    def options(self) -> dict:
        """The ``Tesla`` keyword arguments that ask these questions."""
        return {"passcode_getter": self.passcode, "factor_selector": self.factor,
                "captcha_solver": self.captcha}


def log_in(tesla: teslapy.Tesla, questions: LoginQuestions) -> None:
    """Log in with the cached token, or ask for the password (three tries).

    Raises LoginCancelled when the user cancels, LoginFailed after the third failure.
    """
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        if not tesla.authorized and not tesla.password:
            tesla.password = questions.password()
        questions.password_accepted = False
        try:
            login(tesla)
            return
        except LoginCancelled:
            raise
        except LoginFailed as error:
            if attempt == LOGIN_ATTEMPTS:
                raise
            questions.console.write(describe_error(error)[1])
            if not questions.password_accepted:
                tesla.password = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Tesla Owner API console menu")
    parser.add_argument("-e", dest="email", metavar="EMAIL", help="login email (else asked)")
    add_debug_option(parser)
    add_session_options(parser, geocoding=True)
    return parser


def run(args: argparse.Namespace, console: Console,
        geocoder: Optional[Geocoder] = None) -> int:
    """Log in and run the menu; end of input or 0 quits."""
    questions = LoginQuestions(console)
    options = dict(questions.options(), verify=args.verify, proxy=args.proxy)
    try:
        email = args.email
        while not email and not args.demo:
            email = console.ask("Email: ")
        with open_session(email, None, demo=args.demo, **options) as tesla:
            log_in(tesla, questions)
            Menu(tesla, console, geocoder).run()
    except Quit:
        console.write("Bye.")
    return ExitCode.OK


def main(argv: Optional[Sequence[str]] = None, console: Optional[Console] = None,
         geocoder: Optional[Geocoder] = None) -> int:
    """Entry point of ``teslapy-menu`` and ``menu.py``; returns the exit code.

    console: (optional) the terminal to use, for scripting
    geocoder: (optional) ``(latitude, longitude) -> address``; Nominatim by default,
        none with ``--demo`` or ``--no-geocode``
    """
    args = build_parser().parse_args(argv)
    configure_logging(args.debug)
    if geocoder is None:
        geocoder = default_geocoder(args)
    return run_app(lambda: run(args, console or Console(), geocoder), args.debug)


if __name__ == "__main__":
    sys.exit(main())
