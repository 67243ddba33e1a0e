"""What the Vehicle and command menus do to the car on screen.

Every action takes the car on screen when it is chosen and hands its library call to
:meth:`App.run` with that car, so nothing is sent once another car or account is on
screen. Commands that need the car awake offer a wake-up for a car last seen asleep;
asked values are phrased and converted in the car's units (:mod:`commands`).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

import teslapy
from teslapy import codes
from teslapy_apps.common import charging_site_rows
from teslapy_apps.gui.commands import HERE, Ask, api_value, question_for, units_known

if TYPE_CHECKING:
    from teslapy_apps.gui.app import App


class CarActions:
    """The actions of ``app``'s menus, each on the car on screen."""

    def __init__(self, app: "App") -> None:
        self.app = app

    def selected_car(self, online: bool = False) -> Optional[teslapy.Vehicle]:
        """The car on screen, or None after saying why there is none to act on.

        online: the action needs the car awake; for a car last seen asleep, offer to
        wake it instead
        """
        app, vehicle = self.app, self.app.vehicle
        if vehicle is None:
            app.dialogs.error("No vehicle", "There is no car to act on.",
                              "This account has no vehicles." if app.account else
                              "Log in (App > Log in...) and choose a car first.")
            return None
        if online and vehicle["state"] != "online":
            name, state = vehicle["display_name"], vehicle["state"]
            if app.dialogs.confirm("%s is %s" % (name, state),
                                   "%s is %s. Wake it up now? Then choose the action "
                                   "again." % (name, state)):
                self.wake_up()
            return None
        return vehicle

    def _table(self, title: str, columns: Sequence[str], empty: str,
               note: str = "") -> Callable[[List[Sequence[str]]], None]:
        """A callback showing rows in a scrolling table (``empty`` when there are none)."""
        def show(rows: List[Sequence[str]]) -> None:
            self.app.update_status()
            if rows:
                self.app.dialogs.table(title, columns, rows, note)
            else:
                self.app.dialogs.info(title, empty)
        return show

    def wake_up(self) -> None:
        vehicle = self.selected_car()
        if vehicle is not None:
            self.app.run("Waking up %s" % vehicle["display_name"], vehicle.sync_wake_up,
                         lambda _: self.app.refresh(), vehicle)

    def nearby_sites(self) -> None:
        vehicle = self.selected_car(online=True)
        if vehicle is None:
            return

        def read() -> List[Sequence[str]]:
            rows = charging_site_rows(vehicle, vehicle.get_nearby_charging_sites())
            return [(name, kind, distance, stalls.replace("/", " of "))
                    for kind, name, distance, stalls in rows]

        name = vehicle["display_name"]
        self.app.run("Nearby charging sites", read, self._table(
            "Nearby charging sites", ("Name", "Type", "Distance", "Free stalls"),
            "No charging sites near %s." % name, "Charging sites near %s:" % name), vehicle)

    def option_codes(self) -> None:
        vehicle = self.selected_car()
        if vehicle is None:
            return

        def read() -> List[Sequence[str]]:
            known = codes.option_codes()
            return [(code, known.get(code, "(not in the table)"))
                    for code in codes.split_option_codes(vehicle.get("option_codes"))]

        self.app.run("Option codes", read, self._table(
            "Option codes", ("Code", "Meaning"), "Tesla lists no option codes for this car.",
            "Tesla reports a generic list for many cars: it may not describe %s exactly."
            % vehicle["display_name"]), vehicle)

    def decode_vin(self) -> None:
        vehicle = self.selected_car()
        if vehicle is None:
            return

        def read() -> List[Sequence[str]]:
            return [(_words(key), value) for key, value in vehicle.decode_vin().items()]

        self.app.run("Decode VIN", read, self._table(
            "VIN %s" % vehicle["vin"], ("Position", "Meaning"), "Nothing to decode."), vehicle)

    def service_data(self) -> None:
        vehicle = self.selected_car()
        if vehicle is None:
            return

        def read() -> List[Sequence[str]]:
            return [(_words(key), value if isinstance(value, str) else json.dumps(value))
                    for key, value in vehicle.get_service_scheduling_data().items()]

        self.app.run("Service scheduling", read, self._table(
            "Service scheduling", ("Item", "Value"),
            "Tesla lists no service scheduling for %s." % vehicle["display_name"]), vehicle)

    def mobile_access(self) -> None:
        vehicle = self.selected_car(online=True)
        if vehicle is None:
            return

        def show(enabled: bool) -> None:
            self.app.update_status()
            self.app.dialogs.info("Mobile access", "Mobile access is %s in %s." % (
                "enabled" if enabled else "disabled", vehicle["display_name"]))

        self.app.run("Mobile access", vehicle.mobile_enabled, show, vehicle)

    def remote_start(self) -> None:
        vehicle, account = self.selected_car(online=True), self.app.account
        if vehicle is None or account is None:
            return
        if not account.tesla.password:
            password = self.app.dialogs.password()
            if not password:
                return
            account.tesla.password = password
        self.app.run("Remote start", vehicle.remote_start_drive, lambda _: self.app.refresh(
            "Remote start: done, drive within 2 minutes"), vehicle)

    def command_action(self, label: str, name: str,
                       params: Dict[str, Any]) -> Callable[[], None]:
        """The action of a command menu item (:data:`COMMAND_MENUS`)."""
        title = label.rstrip(".")

        def action() -> None:
            vehicle = self.selected_car(online=True)
            if vehicle is None:
                return
            values = self._command_values(title, params, vehicle)
            if values is None:
                return
            if name == "CHANGE_CLIMATE_TEMPERATURE_SETTING":
                values["passenger_temp"] = values["driver_temp"]
            self.command(name, title, vehicle, **values)
        return action

    def _command_values(self, title: str, params: Dict[str, Any],
                        vehicle: teslapy.Vehicle) -> Optional[Dict[str, Any]]:
        """The command's parameters, asked in the car's units; None when cancelled."""
        dialogs = self.app.dialogs
        asks = [spec for spec in params.values() if isinstance(spec, Ask) and spec.unit]
        if (asks and not units_known(vehicle)) or (HERE in params.values() and not (
                vehicle.get("drive_state") or {}).get("latitude")):
            dialogs.error(title, "%s's data has not been read yet: refresh it (F5) and try "
                          "again." % vehicle["display_name"])
            return None
        values: Dict[str, Any] = {}
        for key, spec in params.items():
            if isinstance(spec, Ask):
                answer = dialogs.ask_value(title, question_for(spec, vehicle))
                if answer is None:
                    return None
                values[key] = api_value(spec, answer, vehicle)
            elif spec is HERE:
                drive = vehicle.get("drive_state") or {}
                values[key] = drive["latitude" if key == "lat" else "longitude"]
            else:
                values[key] = spec
        return values

    def command(self, name: str, label: str, vehicle: teslapy.Vehicle, **params: Any) -> None:
        """Send a command to ``vehicle`` (if still on screen), then read it again."""
        self.app.run(label, lambda: vehicle.command(name, **params),
                     lambda _: self.app.refresh("%s: done" % label), vehicle)


def _words(key: str) -> str:
    """A data key as words: ``'body_type'`` -> ``'Body type'``."""
    return key.replace("_", " ").capitalize()
