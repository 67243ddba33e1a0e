"""Cars that drive: move a car with a route along its loop of waypoints over time.

A driving car's motion is a pure function of the clock. Its speed follows two slow
waves between about 20 and 45 mph, so the distance covered between two instants has a
closed form; position, heading, odometer and battery follow from that distance,
measured from the moment the car was first seen driving (its *anchor*). Asking for
the same instants therefore always gives the same values, however often the car is
refreshed in between.

The battery pays for the distance: each mile uses the energy of
:data:`RANGE_MILES_PER_MILE` rated miles of the car's pack, and the power shown is
that energy per mile times the speed (plus a term for speeding up, negative when
slowing down), so level, ranges and power agree with the distance driven.

A car whose ``route`` is removed parks where it is: speed empty, shift state ``P``.

This module knows cars only as :class:`Drivable` (a full ``data`` document, its
battery pack, a ``route`` and a slot for the anchor), so :mod:`teslasim.state` can use
it without the two importing each other.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Optional, Protocol

from teslasim.charging import Pack, level_shown

logger = logging.getLogger(__name__)

EARTH_RADIUS_MILES = 3958.8
MEAN_SPEED_MPH = 32.5
# (amplitude mph, period s, phase rad): mean +- 12.5 keeps speed within 20..45 mph
SPEED_WAVES = ((8.0, 97.0, 0.0), (4.5, 23.0, 1.3))
RANGE_MILES_PER_MILE = 1.1         # rated range used per mile of town driving
LOWEST_PERCENT = 5.0               # the battery never reads below this while driving
KW_PER_MPH_PER_S = 15.0            # extra power while accelerating (negative: regen)


@dataclass
class Anchor:
    """Where and when a car started driving: the values its motion is measured from."""

    time: float
    distance: float                 # closed-form distance at ``time``, miles
    odometer: float
    percent: float                  # state of charge at ``time``


class Drivable(Protocol):
    """What driving needs of a car: its vehicle_data document, pack, route and anchor."""

    data: dict
    pack: Pack
    route: Optional[list]
    drive_anchor: Optional[Anchor]        # set while the car is driving


def speed_mph(now: float) -> float:
    """Speed of a driving car at clock time ``now`` (seconds), in mph."""
    speed = MEAN_SPEED_MPH
    for amplitude, period, phase in SPEED_WAVES:
        speed += amplitude * math.sin(2 * math.pi * now / period + phase)
    return speed


def acceleration(now: float) -> float:
    """Change of speed at ``now``, in mph per second."""
    rate = 0.0
    for amplitude, period, phase in SPEED_WAVES:
        omega = 2 * math.pi / period
        rate += amplitude * omega * math.cos(omega * now + phase)
    return rate


def distance_miles(now: float) -> float:
    """Closed-form integral of :func:`speed_mph` up to ``now``, in miles (offset arbitrary)."""
    hours = MEAN_SPEED_MPH * now
    for amplitude, period, phase in SPEED_WAVES:
        omega = 2 * math.pi / period
        hours -= amplitude / omega * math.cos(omega * now + phase)
    return hours / 3600.0


def haversine_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, in miles."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 \
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def bearing_degrees(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Initial compass bearing from ``a`` to ``b`` (0 = north, 90 = east)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360.0


def _loop(route: list) -> list[tuple[float, float]]:
    points = [(float(p[0]), float(p[1])) for p in route]
    if len(points) > 1 and points[0] != points[-1]:
        points.append(points[0])
    return points


def position_on_route(route: list, miles: float) -> tuple[float, float, float]:
    """The (latitude, longitude, heading) after ``miles`` along the closed loop ``route``.

    Raises ``ValueError`` for an empty route.
    """
    points = _loop(route)
    if not points:
        raise ValueError("a route needs at least one waypoint")
    legs = [(a, b, haversine_miles(a, b)) for a, b in zip(points, points[1:])]
    total = sum(length for _, _, length in legs)
    if total <= 0:
        return points[0][0], points[0][1], 0.0
    remaining = miles % total
    for start, end, length in legs:
        if length <= 0:
            continue
        if remaining <= length:
            fraction = remaining / length
            lat = start[0] + (end[0] - start[0]) * fraction
            lon = start[1] + (end[1] - start[1]) * fraction
            return lat, lon, bearing_degrees(start, end)
        remaining -= length
    start, end, _ = legs[-1]
    return end[0], end[1], bearing_degrees(start, end)


def elevation_metres(latitude: float, longitude: float) -> int:
    """A made-up but stable terrain height for a position, in metres."""
    wave = math.sin(latitude * 157.0) + math.cos(longitude * 113.0)
    return int(round(40 + 12 * wave))


def _anchor(vehicle: Drivable, now: float) -> Anchor:
    anchor = vehicle.drive_anchor
    if anchor is None:
        anchor = Anchor(
            time=now,
            distance=distance_miles(now),
            odometer=float(vehicle.data["vehicle_state"]["odometer"]),
            percent=vehicle.pack.percent_of(vehicle.data["charge_state"]),
        )
        vehicle.drive_anchor = anchor
    return anchor


def _stamp(vehicle: Drivable, now: float) -> None:
    millis = int(now * 1000)
    for group in ("charge_state", "climate_state", "drive_state", "vehicle_state"):
        if group in vehicle.data:
            vehicle.data[group]["timestamp"] = millis
    vehicle.data["drive_state"]["gps_as_of"] = int(now)


def park(vehicle: Drivable, now: float) -> None:
    """Stop a car where it is: no speed, no power, shift state ``P``."""
    drive_state = vehicle.data["drive_state"]
    drive_state.update(speed=None, power=0, shift_state="P")
    vehicle.drive_anchor = None
    _stamp(vehicle, now)


def advance(vehicle: Drivable, now: float) -> None:
    """Update drive, charge and odometer values of a driving car to time ``now``.

    Cars without a route are left alone, except that a car which was driving and has
    lost its route parks. Times before the car's anchor count as the anchor itself.
    """
    if not vehicle.route:
        if vehicle.drive_anchor is not None:
            park(vehicle, now)
        return
    anchor = _anchor(vehicle, now)
    now = max(now, anchor.time)
    miles = distance_miles(now) - anchor.distance
    lat, lon, heading = position_on_route(vehicle.route, miles)
    speed = speed_mph(now)
    pack = vehicle.pack
    kwh_per_mile = RANGE_MILES_PER_MILE / pack.miles_per_kwh

    drive_state = vehicle.data["drive_state"]
    drive_state.update(
        latitude=round(lat, 6), longitude=round(lon, 6),
        native_latitude=round(lat, 6), native_longitude=round(lon, 6),
        heading=int(round(heading)) % 360, speed=int(round(speed)), shift_state="D",
        power=int(round(kwh_per_mile * speed + KW_PER_MPH_PER_S * acceleration(now))),
    )
    vehicle.data["vehicle_state"]["odometer"] = round(anchor.odometer + miles, 6)

    used = pack.percent(kwh_per_mile * miles)
    percent = min(anchor.percent, max(LOWEST_PERCENT, anchor.percent - used))
    charge = vehicle.data["charge_state"]
    charge.update(
        battery_level=level_shown(percent), usable_battery_level=level_shown(percent),
        battery_range=round(pack.rated_miles * percent / 100, 2),
        est_battery_range=round(pack.est_miles * percent / 100, 2),
        ideal_battery_range=round(pack.ideal_miles * percent / 100, 2),
    )
    _stamp(vehicle, now)
