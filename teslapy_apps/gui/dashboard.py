"""The dashboard: the car's picture and name beside its data, grouped and in its units.

:data:`DASHBOARD` lists, per data group of ``vehicle_data``, the keys shown, their
labels and how each value is written; :func:`read_dashboard` turns a car's data into
those texts (on the worker: a position may be looked up as an address).
:class:`Dashboard` holds the widgets and arranges them for the window's width: the
picture beside two columns of groups, above them, or everything in one column.
"""
from __future__ import annotations

import io
import time
import tkinter as tk
from typing import Any, Dict, List, Tuple

import teslapy
from teslapy_apps.common import Places

IMAGE_WIDTH = 400
PAD = 4
EMPTY = "-"

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




def read_dashboard(vehicle: teslapy.Vehicle, places: Places) -> Dict[str, str]:
    """The text of every dashboard field (``'group.key'``) from the car's last data."""
    texts = {}
    for group, rows in DASHBOARD.items():
        data = vehicle.get(group) or {}
        for key, _, how in rows:
            texts["%s.%s" % (group, key)] = format_value(vehicle, data, key, how, places)
    return texts


UNITS = {"percent": " %", "kw": " kW", "volt": " V", "amp": " A", "kwh": " kWh",
         "degrees": "°"}


def format_value(vehicle: teslapy.Vehicle, data: dict, key: str, how: str,
                 places: Places) -> str:
    """One value of a data group written for people, in the car's units."""
    value = data.get(key)
    if how == "position":
        return places.describe(data.get("latitude"), data.get("longitude"))
    if value is None:
        return EMPTY
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
    if how == "hours":
        minutes = int(round(float(value) * 60))
        return "%d h %02d min" % divmod(minutes, 60) if minutes >= 60 else "%d min" % minutes
    return "%s%s" % (value, UNITS.get(how, ""))


class Dashboard:
    """The widgets of the dashboard inside ``parent``, rearranged by :meth:`arrange`."""

    def __init__(self, parent: tk.Frame) -> None:
        self.parent = parent
        self.picture = tk.Frame(parent)
        # A blank image of the car image's size keeps the layout still when it arrives.
        self.blank = tk.PhotoImage(master=parent, width=IMAGE_WIDTH,
                                   height=IMAGE_WIDTH * 9 // 16)
        self.photo: Any = None
        self.image_label = tk.Label(self.picture, text="(no car image yet)", image=self.blank,
                                    compound="center", relief="groove", padx=0, pady=0)
        self.image_label.grid(row=0, column=0, sticky="nw", padx=PAD, pady=PAD)
        self.identity = tk.StringVar(value="")
        self.identity_label = tk.Label(self.picture, textvariable=self.identity,
                                       justify="left", anchor="nw", wraplength=IMAGE_WIDTH,
                                       font=("TkDefaultFont", 12, "bold"))
        self.fields: Dict[str, tk.StringVar] = {}
        self.groups: List[tk.LabelFrame] = []
        for group, rows in DASHBOARD.items():
            frame = tk.LabelFrame(parent, text=GROUP_TITLES[group], padx=PAD, pady=2)
            self.groups.append(frame)
            for line, (key, label, _) in enumerate(rows):
                variable = tk.StringVar(value=EMPTY)
                self.fields["%s.%s" % (group, key)] = variable
                tk.Label(frame, text=label + ":", anchor="w").grid(row=line, column=0,
                                                                   sticky="w")
                tk.Label(frame, textvariable=variable, anchor="w", width=26,
                         wraplength=220, justify="left").grid(row=line, column=1, sticky="w")
        self.layout = ""

    def clear(self, identity: str = "") -> None:
        """Show no data: every field ``-``, no picture, ``identity`` as the name."""
        for variable in self.fields.values():
            variable.set(EMPTY)
        self.identity.set(identity)
        self.photo = None
        self.image_label.config(image=self.blank, text="(no car image yet)")

    def show(self, texts: Dict[str, str]) -> None:
        for name, text in texts.items():
            self.fields[name].set(text)

    def show_image(self, png: bytes) -> None:
        """Show the composed car picture, or say why it cannot be shown."""
        try:
            from PIL import Image, ImageTk
        except ImportError:
            self.image_label.config(text="Install Pillow to see the car")
            return
        try:
            image = Image.open(io.BytesIO(png))
            image.thumbnail((IMAGE_WIDTH, IMAGE_WIDTH))
            photo = ImageTk.PhotoImage(image, master=self.parent)
        except Exception as error:          # a broken image must not stop the app
            self.image_label.config(text="Cannot show the car image: %s" % error)
            return
        self.photo = photo                  # Tk shows the image only while it is referenced
        self.image_label.config(image=photo, text="")

    def arrange(self, width: int) -> None:
        """Lay out for ``width`` pixels: picture beside the groups in two columns,
        the picture above two columns, or one column."""
        picture = self.image_label.winfo_reqwidth() + 4 * PAD   # its name wraps under it
        group = max(frame.winfo_reqwidth() for frame in self.groups) + 2 * PAD
        layout = "wide" if width >= picture + 2 * group else \
            "two columns" if width >= 2 * group else "one column"
        if layout == self.layout:
            return
        self.layout = layout
        for column in range(3):
            self.parent.columnconfigure(column, uniform="", weight=0)
        positions = self._positions(layout)
        first_group_column = positions[0][1]
        group_columns = [0] if layout == "one column" else \
            [first_group_column, first_group_column + 1]
        for column in group_columns:
            self.parent.columnconfigure(column, uniform="groups", weight=1)
        for frame, (row, column) in zip(self.groups, positions):
            frame.grid(row=row, column=column, sticky="nsew", padx=PAD, pady=PAD)
        beside = layout == "two columns"      # the name beside the picture, not below
        if layout == "wide":
            self.picture.grid(row=0, column=0, rowspan=3, columnspan=1, sticky="nw")
        else:
            self.picture.grid(row=0, column=0, rowspan=1, columnspan=2 if beside else 1,
                              sticky="nw")
        self.identity_label.grid(row=0 if beside else 1, column=1 if beside else 0,
                                 sticky="nw", padx=2 * PAD, pady=PAD if beside else 0)

    @staticmethod
    def _positions(layout: str) -> List[Tuple[int, int]]:
        """(row, column) of each group, in DASHBOARD order."""
        count = len(DASHBOARD)
        if layout == "wide":
            return [(index // 2, 1 + index % 2) for index in range(count)]
        if layout == "two columns":
            return [(1 + index // 2, index % 2) for index in range(count)]
        return [(1 + index, 0) for index in range(count)]
