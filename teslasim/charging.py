"""Cars that charge: a plugged-in car gains energy at the rate its charger gives.

The power comes from what the car is plugged into (its :class:`Supply`):

* AC (a wall outlet or wall connector): ``charger_voltage × charger_actual_current ×
  charger_phases`` watts, the current being the lowest of the car's request
  (``charge_current_request``), the charger's offer (``charger_pilot_current``) and the
  car's own maximum; ``charger_power`` is that in whole kW.
* DC fast charging, reported as Tesla does: ``fast_charger_present`` true,
  ``charger_power`` the charger's kW, ``charger_voltage`` 2, ``charger_actual_current``
  0, ``charger_phases`` null.

The energy goes into the car's :class:`Pack`, which turns it into level and range:
``battery_level`` is the whole percent reached, every range is the full pack's range
times the level, and ``charge_miles_added_*``, ``charge_rate`` (mi/hr) and the time to
full (rounded up, as a countdown shows it) follow from the pack's miles per kWh. A
parked charging car draws the power as negative ``drive_state.power``. At ``charge_limit_soc`` the car stops by itself:
``charging_state`` ``Complete``, no power.

Power only changes through commands, and a command brings the car up to its clock
first (:func:`advance`), so between two updates the power is constant and the energy
added is power × time. A car that charges is awake: :func:`advance` tells until when
it charged, which keeps it from falling asleep as a poll does.

This module knows cars only as :class:`Chargeable`, so :mod:`teslasim.state` can use
it without the two importing each other.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Optional, Protocol

logger = logging.getLogger(__name__)

DEFAULT_MILES_PER_KWH = 4.0        # a car whose fleet entry gives no pack size
DEFAULT_PACK_KWH = 60.0            # ... and no range either
DEFAULT_DC_KW = 120.0              # a fast charger whose power was never seen
DEFAULT_VOLTS = 240.0              # an AC outlet whose voltage was never seen
DEFAULT_AMPS = 32
DC_VOLTAGE = 2                     # what Tesla reports as the voltage while fast charging
LEVEL_EPSILON = 1e-6               # float noise below a whole percent is still that percent


def level_shown(percent: float) -> int:
    """``battery_level`` for a state of charge in percent: the whole percent reached, 0..100."""
    return max(0, min(100, int(math.floor(percent + LEVEL_EPSILON))))


@dataclass(frozen=True)
class Pack:
    """A car's battery: usable energy and the ranges a full pack gives (rated, ideal, est)."""

    usable_kwh: float
    rated_miles: float
    ideal_miles: float
    est_miles: float

    @classmethod
    def of(cls, charge: dict, usable_kwh: Optional[float] = None) -> "Pack":
        """The pack whose level and ranges ``charge`` (a ``charge_state``) shows.

        The full ranges are the shown ranges scaled to 100 %; without ``usable_kwh``
        the pack holds the rated range at :data:`DEFAULT_MILES_PER_KWH`. Raises
        ``ValueError`` for a pack size that is not a positive number.
        """
        level = float(charge.get("battery_level") or 0)

        def full(key: str) -> float:
            shown = float(charge.get(key) or 0)
            return shown * 100 / level if level > 0 and shown > 0 else 0.0

        rated = full("battery_range")
        if usable_kwh is None:
            usable_kwh = rated / DEFAULT_MILES_PER_KWH if rated else DEFAULT_PACK_KWH
        usable_kwh = float(usable_kwh)
        if not math.isfinite(usable_kwh) or usable_kwh <= 0:
            raise ValueError(f"pack_kwh must be a positive number, not {usable_kwh!r}")
        rated = rated or usable_kwh * DEFAULT_MILES_PER_KWH
        return cls(usable_kwh, rated, full("ideal_battery_range") or rated,
                   full("est_battery_range") or rated)

    @property
    def miles_per_kwh(self) -> float:
        """Rated miles one kWh gives."""
        return self.rated_miles / self.usable_kwh

    def percent(self, kwh: float) -> float:
        return kwh / self.usable_kwh * 100

    def kwh(self, percent: float) -> float:
        return percent / 100 * self.usable_kwh

    def percent_of(self, charge: dict) -> float:
        """The state of charge ``charge`` shows, in percent.

        The rated range tells the fraction of a percent the whole ``battery_level``
        leaves out; when the two disagree (someone set the level alone) the level wins.
        """
        level = float(charge.get("battery_level") or 0)
        from_range = float(charge.get("battery_range") or 0) / self.rated_miles * 100
        percent = from_range if level_shown(from_range) == level else level
        return max(0.0, min(100.0, percent))


@dataclass(frozen=True)
class Supply:
    """What a plugged-in car draws from: a DC fast charger (``dc_kw``) or AC."""

    dc_kw: Optional[float] = None
    volts: float = DEFAULT_VOLTS
    phases: int = 1
    pilot_amps: int = DEFAULT_AMPS

    @classmethod
    def of(cls, charge: dict) -> "Supply":
        """The supply a ``charge_state`` shows (defaults for what it does not show)."""
        if charge.get("fast_charger_present"):
            return cls(dc_kw=float(charge.get("charger_power") or 0) or DEFAULT_DC_KW)
        volts = float(charge.get("charger_voltage") or 0)
        return cls(volts=volts if volts > DC_VOLTAGE else DEFAULT_VOLTS,
                   phases=int(charge.get("charger_phases") or 1),
                   pilot_amps=int(charge.get("charger_pilot_current")
                                  or charge.get("charge_current_request_max") or DEFAULT_AMPS))

    def amps(self, charge: dict) -> int:
        """The AC current the car draws: its request, capped by the pilot and its maximum."""
        request = int(charge.get("charge_current_request") or 0)
        ceiling = int(charge.get("charge_current_request_max") or request)
        return max(0, min(request, ceiling, self.pilot_amps))

    def kw(self, charge: dict) -> float:
        """The power going into the car, in kW."""
        if self.dc_kw is not None:
            return self.dc_kw
        return self.volts * self.amps(charge) * self.phases / 1000


@dataclass
class Meter:
    """A charging session's running totals, as of ``time``."""

    time: float
    energy_kwh: float               # in the pack
    added_kwh: float                # charge_energy_added


class Chargeable(Protocol):
    """What charging needs of a car: its document, pack, supply, meter and route."""

    data: dict
    route: Optional[list]
    pack: Pack
    supply: Optional[Supply]            # what it is plugged into, once known
    charge_meter: Optional[Meter]       # set while it charges


def limit_percent(charge: dict) -> float:
    """The charge limit of a ``charge_state``, in percent (100 when it has none)."""
    limit = charge.get("charge_limit_soc")
    return max(0.0, min(100.0, float(100 if limit is None else limit)))


def _set_drive_power(car: Chargeable, kw: float) -> None:
    drive_state = car.data.get("drive_state")
    if isinstance(drive_state, dict) and not car.route:
        drive_state["power"] = -int(round(kw))


def stop(car: Chargeable, state: str) -> None:
    """End charging with ``charging_state`` ``state`` (``Stopped`` or ``Complete``)."""
    charge = car.data["charge_state"]
    charge.update({"charging_state": state, "charger_power": 0, "charge_rate": 0.0,
                   "charger_actual_current": 0, "minutes_to_full_charge": 0,
                   "time_to_full_charge": 0.0})
    car.charge_meter = None
    _set_drive_power(car, 0)


def begin(car: Chargeable, now: float) -> None:
    """Start charging from whatever the car is plugged into (the caller checked it is)."""
    car.data["charge_state"]["charging_state"] = "Charging"
    car.charge_meter = None
    advance(car, now)


def _rounded_up(value: float, steps: int) -> float:
    """``value`` rounded up to the next 1/``steps``, as a countdown shows time left."""
    return math.ceil(value * steps - LEVEL_EPSILON) / steps


def _show(car: Chargeable, supply: Supply, energy: float, added: float) -> None:
    """Write level, ranges, energy added, power, rate and time to full into the car's data."""
    pack, charge = car.pack, car.data["charge_state"]
    kw = supply.kw(charge)
    percent = pack.percent(energy)
    level = level_shown(percent)
    remaining = max(0.0, pack.kwh(limit_percent(charge)) - energy)
    hours = remaining / kw if kw > 0 else 0.0
    charge.update({
        "battery_level": level, "usable_battery_level": level,
        "battery_range": round(pack.rated_miles * percent / 100, 2),
        "ideal_battery_range": round(pack.ideal_miles * percent / 100, 2),
        "est_battery_range": round(pack.est_miles * percent / 100, 2),
        "charge_energy_added": round(added, 2),
        "charge_miles_added_rated": round(added * pack.miles_per_kwh, 1),
        "charge_miles_added_ideal": round(added * pack.ideal_miles / pack.usable_kwh, 1),
        "charger_power": int(round(kw)),
        "charge_rate": round(kw * pack.miles_per_kwh, 1),
        "time_to_full_charge": _rounded_up(hours, 100),
        "minutes_to_full_charge": int(_rounded_up(hours * 60, 1)),
    })
    if supply.dc_kw is None:
        charge.update(charger_voltage=int(round(supply.volts)), charger_phases=supply.phases,
                      charger_pilot_current=supply.pilot_amps,
                      charger_actual_current=supply.amps(charge))
    else:
        charge.update(charger_voltage=DC_VOLTAGE, charger_actual_current=0, charger_phases=None)
    _set_drive_power(car, kw)


def advance(car: Chargeable, now: float) -> Optional[float]:
    """Bring a charging car's charge up to time ``now``; other cars are left alone.

    Energy added since the last update is the supply's power × the time, up to the
    charge limit, where the car turns ``Complete``. A car seen charging for the first
    time starts its meter at ``now`` from what its data shows; times before the last
    update count as that update. A car unplugged (``Disconnected``) forgets its supply.
    Returns the last instant up to ``now`` at which the car was charging (``now``, or
    when it reached its limit), or None when it was not charging.
    """
    charge = car.data.get("charge_state")
    if not isinstance(charge, dict) or charge.get("charging_state") != "Charging":
        car.charge_meter = None
        if isinstance(charge, dict) and charge.get("charging_state") in ("Disconnected", None):
            car.supply = None
        return None
    supply = car.supply = car.supply or Supply.of(charge)
    meter = car.charge_meter
    if meter is None:
        meter = Meter(now, car.pack.kwh(car.pack.percent_of(charge)),
                      max(0.0, float(charge.get("charge_energy_added") or 0)))
    now = max(now, meter.time)
    kw = supply.kw(charge)
    target = car.pack.kwh(limit_percent(charge))
    energy = max(meter.energy_kwh, min(target, meter.energy_kwh + kw * (now - meter.time) / 3600))
    added = meter.added_kwh + energy - meter.energy_kwh
    _show(car, supply, energy, added)
    if energy < target:
        car.charge_meter = Meter(now, energy, added)
        return now
    logger.info("car %s charged to its limit", car.data.get("id_s"))
    stop(car, "Complete")
    if kw <= 0 or meter.energy_kwh >= target:
        return meter.time
    return meter.time + (target - meter.energy_kwh) / kw * 3600
