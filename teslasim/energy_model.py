"""How simulated energy sites behave: solar by the sun, household load, a Powerwall that balances.

Everything here is a function of an :class:`~teslasim.state.EnergySite` and a clock
time. Solar power follows the local solar time at the site's longitude (daylight from
6 to 18 h) scaled by the site's peak power and a slow, deterministic cloud factor.
Load has a morning and an evening peak. A Powerwall charges from surplus solar and
discharges to cover the deficit (down to the backup reserve; in ``backup`` mode or
storm mode it only charges); its stored energy is integrated on a fixed five-minute
grid kept in ``site.config["live"]``, so the same clock gives the same reading.

History series (``history`` and ``calendar_history``) are computed from per-day totals
seeded by the site id and the date, so they never change between calls.

Raises :class:`EnergyError` (with an HTTP status) for bad parameters.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import logging
import math
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Optional

from teslasim.errors import ModelError
from teslasim.state import EnergySite

logger = logging.getLogger(__name__)

MODES = ("self_consumption", "backup", "autonomous")
KINDS = ("power", "energy", "backup", "self_consumption", "time_of_use_energy",
         "time_of_use_self_consumption", "savings")
HISTORY_PERIODS = ("day", "week", "month", "year")
CALENDAR_PERIODS = HISTORY_PERIODS + ("lifetime",)
STEP_SECONDS = 300                       # battery integration grid
MAX_CATCH_UP_STEPS = 2 * 24 * 12         # integrate at most two days at once
START_PERCENT = 60.0
FIRMWARE_VERSION = "21.44.1 c58c2df3"
TOU_PERIODS = (("off_peak", 0.45), ("partial_peak", 0.25), ("on_peak", 0.30))
DEFAULT_PRICE_PER_KWH = 0.25
ENERGY_FIELDS = (
    "solar_energy_exported", "generator_energy_exported", "grid_energy_imported",
    "grid_services_energy_imported", "grid_services_energy_exported",
    "grid_energy_exported_from_solar", "grid_energy_exported_from_generator",
    "grid_energy_exported_from_battery", "battery_energy_exported",
    "battery_energy_imported_from_grid", "battery_energy_imported_from_solar",
    "battery_energy_imported_from_generator", "consumer_energy_imported_from_grid",
    "consumer_energy_imported_from_solar", "consumer_energy_imported_from_battery",
    "consumer_energy_imported_from_generator",
)
DEFAULT_TOU_SETTINGS = {
    "optimization_strategy": "economics",
    "schedule": [
        {"target": "off_peak", "week_days": [1, 0], "start_seconds": 0, "end_seconds": 3600},
        {"target": "peak", "week_days": [1, 0], "start_seconds": 3600, "end_seconds": 0},
    ],
}


class EnergyError(ModelError):
    """A request the energy service refuses; ``status`` is the HTTP status to answer."""


# -- site facts ---------------------------------------------------------------------

def is_battery(site: EnergySite) -> bool:
    return site.kind == "battery"


def site_zone(site: EnergySite) -> tzinfo:
    """The site's installation time zone (a fixed offset from its longitude if unknown)."""
    return zone_named(site.config.get("installation_time_zone"), site)


def zone_named(name: Optional[str], site: EnergySite) -> tzinfo:
    """The IANA zone ``name``, or the site's own zone when ``name`` is empty.

    Raises ``EnergyError(400)`` for a name that is not a known zone.
    """
    own = site.config.get("installation_time_zone")
    name = name or own
    if not name:
        return _longitude_zone(site)
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except (ImportError, ValueError, KeyError, OSError):
        if name == own:
            return _longitude_zone(site)
        raise EnergyError(400, f"invalid timezone: {name}") from None


def _longitude_zone(site: EnergySite) -> tzinfo:
    hours = round(_longitude(site) / 15.0)
    return timezone(timedelta(hours=hours))


def _latitude(site: EnergySite) -> float:
    return float(site.config.get("geolocation", {}).get("latitude", 0.0))


def _longitude(site: EnergySite) -> float:
    return float(site.config.get("geolocation", {}).get("longitude", 0.0))


def peak_solar_watts(site: EnergySite) -> float:
    return float(site.config.get("solar_peak_power") or site.config.get("nameplate_power") or 0)


def capacity_wh(site: EnergySite) -> float:
    return float(site.product.get("total_pack_energy") or 0) if is_battery(site) else 0.0


def max_battery_watts(site: EnergySite) -> float:
    return float(site.config.get("nameplate_power") or 5000)


def backup_reserve(site: EnergySite) -> float:
    if not is_battery(site):
        return 0.0
    return float(site.product.get("backup", {}).get("backup_reserve_percent") or 0)


def operation_mode(site: EnergySite) -> str:
    if not is_battery(site):
        return "self_consumption"
    return site.product.get("default_real_mode") or "self_consumption"


def storm_mode_enabled(site: EnergySite) -> bool:
    if is_battery(site):
        return bool(site.product.get("user_settings", {}).get("storm_mode_enabled"))
    return bool(site.config.get("storm_mode_enabled"))


def site_name(site: EnergySite) -> str:
    return site.config.get("site_name") or site.product.get("site_name") or ""


def iso_local(site: EnergySite, when: float, zone: Optional[tzinfo] = None) -> str:
    """Clock time ``when`` as ISO 8601 with the site's (or ``zone``'s) UTC offset."""
    moment = datetime.fromtimestamp(when, tz=zone or site_zone(site)).replace(microsecond=0)
    return moment.isoformat()


# -- instantaneous power -------------------------------------------------------------

def _solar_hour(site: EnergySite, when: float) -> float:
    return (when / 3600.0 + _longitude(site) / 15.0) % 24.0


def solar_power(site: EnergySite, when: float) -> float:
    """Solar production at ``when`` in W: zero at night, a clouded sine by day."""
    hour = _solar_hour(site, when)
    if hour <= 6.0 or hour >= 18.0:
        return 0.0
    sun = math.sin(math.pi * (hour - 6.0) / 12.0) ** 1.3
    clouds = 0.82 + 0.12 * math.sin(when / 1700.0) + 0.06 * math.sin(when / 263.0)
    return peak_solar_watts(site) * sun * clouds


def load_power(site: EnergySite, when: float) -> float:
    """Household consumption at ``when`` in W: a base load with morning and evening peaks."""
    hour = _solar_hour(site, when)
    morning = 900.0 * math.exp(-((hour - 7.5) / 1.2) ** 2)
    evening = 1200.0 * math.exp(-((hour - 19.0) / 2.0) ** 2)
    wobble = 120.0 * math.sin(when / 37.0) + 80.0 * math.sin(when / 11.0)
    return max(150.0, 450.0 + morning + evening + wobble)


def battery_power(site: EnergySite, when: float, energy: float) -> float:
    """Powerwall power at ``when`` in W for stored ``energy`` Wh (positive = discharging)."""
    capacity = capacity_wh(site)
    if capacity <= 0:
        return 0.0
    limit = max_battery_watts(site)
    surplus = solar_power(site, when) - load_power(site, when)
    percent = 100.0 * energy / capacity
    if operation_mode(site) == "backup" or storm_mode_enabled(site):
        return -limit if percent < 100.0 else 0.0
    if surplus >= 0:
        return -min(surplus, limit) if percent < 100.0 else 0.0
    return min(-surplus, limit) if percent > backup_reserve(site) else 0.0


def _step(site: EnergySite, when: float, energy: float, seconds: float) -> float:
    flow = battery_power(site, when, energy)
    return min(capacity_wh(site), max(0.0, energy - flow * seconds / 3600.0))


def stored_energy(site: EnergySite, when: float) -> float:
    """Energy in the Powerwall at ``when`` in Wh, integrated on a fixed grid from the first look."""
    capacity = capacity_wh(site)
    if capacity <= 0:
        return 0.0
    live = site.config.setdefault("live", {})
    if "grid_time" not in live:
        live["grid_time"] = math.floor(when / STEP_SECONDS) * STEP_SECONDS
        live["energy"] = capacity * START_PERCENT / 100.0
    grid_time, energy = live["grid_time"], live["energy"]
    if when - grid_time > MAX_CATCH_UP_STEPS * STEP_SECONDS:
        grid_time = math.floor(when / STEP_SECONDS) * STEP_SECONDS - MAX_CATCH_UP_STEPS * STEP_SECONDS
    while grid_time + STEP_SECONDS <= when:
        energy = _step(site, grid_time, energy, STEP_SECONDS)
        grid_time += STEP_SECONDS
    live["grid_time"], live["energy"] = grid_time, energy
    if when > grid_time:
        return _step(site, grid_time, energy, when - grid_time)
    return energy


def live_values(site: EnergySite, when: float) -> dict:
    """The instantaneous readings shared by live status, battery data and summaries."""
    solar = solar_power(site, when)
    load = load_power(site, when)
    if is_battery(site):
        energy = stored_energy(site, when)
        battery = battery_power(site, when, energy)
        total = capacity_wh(site)
        percent = 100.0 * energy / total if total else 0.0
    else:
        energy, battery, total, percent = 0.0, 0.0, 1, 0.0
    return {
        "solar_power": int(round(solar)),
        "load_power": int(round(load)),
        "battery_power": int(round(battery)),
        "grid_power": int(round(load - solar - battery)),
        "energy_left": round(energy, 1),
        "total_pack_energy": int(total),
        "percentage_charged": round(percent, 2),
    }


# -- documents the routes serve --------------------------------------------------------

def live_status(site: EnergySite, when: float) -> dict:
    """SITE_DATA: the site's power flows right now."""
    values = live_values(site, when)
    return {
        "solar_power": values["solar_power"],
        "energy_left": values["energy_left"],
        "total_pack_energy": values["total_pack_energy"],
        "percentage_charged": values["percentage_charged"],
        "battery_power": values["battery_power"],
        "load_power": values["load_power"],
        "grid_status": "Active" if is_battery(site) else "Unknown",
        "grid_services_active": False,
        "grid_power": values["grid_power"],
        "grid_services_power": 0,
        "generator_power": 0,
        "storm_mode_active": is_battery(site) and storm_mode_enabled(site),
        "timestamp": iso_local(site, when),
    }


SUMMARY_KEYS = (
    "energy_site_id", "resource_type", "site_name", "id", "gateway_id", "asset_site_id",
    "energy_left", "total_pack_energy", "percentage_charged", "battery_type",
    "backup_capable", "battery_power", "sync_grid_alert_enabled", "breaker_alert_enabled",
)
SHORT_COMPONENT_KEYS = ("battery", "solar", "solar_type", "grid", "load_meter", "market_type")


def _with_live(site: EnergySite, document: dict, when: float) -> dict:
    values = live_values(site, when)
    for key in ("energy_left", "total_pack_energy", "percentage_charged", "battery_power",
                "solar_power"):
        if key in document:
            document[key] = values[key]
    if "site_name" in document:
        document["site_name"] = site_name(site)
    return document


def product_entry(site: EnergySite, when: float) -> dict:
    """The site as ``api/1/products`` lists it, with live values."""
    product = site.product
    if is_battery(site):
        entry = {key: copy.deepcopy(product.get(key)) for key in SUMMARY_KEYS}
        components = product.get("components", {})
        entry["components"] = {key: components.get(key, "residential" if key == "market_type"
                                                   else None)
                               for key in SHORT_COMPONENT_KEYS}
    else:
        entry = copy.deepcopy(product)
    return _with_live(site, entry, when)


def battery_data(site: EnergySite, when: float) -> dict:
    """BATTERY_DATA: the Powerwall document with live energy and a fresh power reading."""
    document = _with_live(site, copy.deepcopy(site.product), when)
    values = live_values(site, when)
    document["power_reading"] = [{
        "timestamp": iso_local(site, when),
        "load_power": values["load_power"],
        "solar_power": values["solar_power"],
        "grid_power": values["grid_power"],
        "battery_power": values["battery_power"],
        "generator_power": 0,
    }]
    return document


def battery_summary(site: EnergySite, when: float) -> dict:
    """BATTERY_SUMMARY: the product keys of the Powerwall with live values."""
    summary = {key: copy.deepcopy(site.product.get(key)) for key in SUMMARY_KEYS}
    summary["grid_status"] = "Active"
    summary["operation"] = operation_mode(site)
    return _with_live(site, summary, when)


def site_status(site: EnergySite, when: float) -> dict:
    """SITE_SUMMARY: name, energy and alert settings of the site."""
    if not is_battery(site):
        status = copy.deepcopy(site.product)
        status["site_name"] = site_name(site)
        status["storm_mode_enabled"] = storm_mode_enabled(site)
        return _with_live(site, status, when)
    product = site.product
    status = {
        "resource_type": "battery",
        "site_name": site_name(site),
        "gateway_id": product.get("gateway_id"),
        "energy_left": 0,
        "total_pack_energy": 0,
        "percentage_charged": 0,
        "battery_type": product.get("battery_type"),
        "backup_capable": product.get("backup_capable", True),
        "battery_power": 0,
        "storm_mode_enabled": storm_mode_enabled(site),
        "sync_grid_alert_enabled": product.get("sync_grid_alert_enabled", False),
        "breaker_alert_enabled": product.get("breaker_alert_enabled", False),
    }
    return _with_live(site, status, when)


def tou_settings(site: EnergySite) -> dict:
    return copy.deepcopy(site.config.get("tou_settings") or DEFAULT_TOU_SETTINGS)


def installation_date(site: EnergySite) -> str:
    return site.product.get("installation_date") or site.config.get(
        "installation_date", "2020-01-01T10:10:00+00:00")


def site_info(site: EnergySite) -> dict:
    """SITE_CONFIG: the site's configuration, time of use settings and location."""
    product = site.product
    battery = is_battery(site)
    user_settings = copy.deepcopy(product.get("user_settings") or {
        "storm_mode_enabled": storm_mode_enabled(site),
        "sync_grid_alert_enabled": product.get("sync_grid_alert_enabled", False),
        "breaker_alert_enabled": product.get("breaker_alert_enabled", False),
    })
    info = {
        "id": product.get("gateway_id") or site.id,
        "site_name": site_name(site),
        "site_number": product.get("asset_site_id"),
        "backup_reserve_percent": int(backup_reserve(site)),
        "default_real_mode": operation_mode(site),
        "installation_date": installation_date(site),
        "user_settings": user_settings,
        "components": copy.deepcopy(product.get("components", {})),
        "version": FIRMWARE_VERSION,
        "battery_count": product.get("battery_count", 1) if battery else 0,
        "off_grid_vehicle_charging_reserve_percent":
            int(site.config.get("off_grid_vehicle_charging_reserve_percent", 0)),
        "tou_settings": tou_settings(site),
        "nameplate_power": site.config.get("nameplate_power", 0),
        "nameplate_energy": site.config.get("nameplate_energy", 0) if battery else 0,
        "installation_time_zone": site.config.get("installation_time_zone", "UTC"),
        "geolocation": {
            "latitude": _latitude(site),
            "longitude": _longitude(site),
            "source": "Site Address Preference",
        },
    }
    if not battery:
        info.pop("backup_reserve_percent")
    return info


# -- changes -----------------------------------------------------------------------------

def _require_battery(site: EnergySite, what: str) -> None:
    if not is_battery(site):
        raise EnergyError(400, f"{what} needs a Powerwall site")


def _check_percent(percent: Any, name: str) -> None:
    """Raises ``EnergyError(400)`` unless ``percent`` is a number from 0 to 100."""
    if isinstance(percent, bool) or not isinstance(percent, (int, float)) \
            or not 0 <= percent <= 100:
        raise EnergyError(400, f"{name} must be a number from 0 to 100")


def set_backup_reserve(site: EnergySite, percent: Any) -> None:
    """Set the backup reserve. Raises ``EnergyError(400)`` unless 0 <= percent <= 100."""
    _require_battery(site, "backup reserve")
    _check_percent(percent, "backup_reserve_percent")
    site.product.setdefault("backup", {"events": None})["backup_reserve_percent"] = \
        int(percent) if float(percent).is_integer() else percent


def set_operation(site: EnergySite, mode: Any) -> None:
    """Set the operation mode. Raises ``EnergyError(400)`` for a mode not in :data:`MODES`."""
    _require_battery(site, "operation mode")
    if mode not in MODES:
        raise EnergyError(400, "default_real_mode must be one of " + ", ".join(MODES))
    site.product["default_real_mode"] = mode
    site.product["operation"] = mode


def set_site_name(site: EnergySite, name: Any) -> None:
    """Rename the site. Raises ``EnergyError(400)`` for an empty or non-text name."""
    if not isinstance(name, str) or not name.strip():
        raise EnergyError(400, "site_name must be a non-empty string")
    site.config["site_name"] = name
    if "site_name" in site.product:
        site.product["site_name"] = name


def set_storm_mode(site: EnergySite, enabled: Any) -> None:
    """Switch storm watch. Raises ``EnergyError(400)`` unless ``enabled`` is a bool."""
    if not isinstance(enabled, bool):
        raise EnergyError(400, "enabled must be true or false")
    if is_battery(site):
        site.product.setdefault("user_settings", {})["storm_mode_enabled"] = enabled
    site.config["storm_mode_enabled"] = enabled


def set_off_grid_reserve(site: EnergySite, percent: Any) -> None:
    """Set the off-grid vehicle charging reserve. Raises ``EnergyError(400)`` unless 0-100."""
    _check_percent(percent, "off_grid_vehicle_charging_reserve_percent")
    site.config["off_grid_vehicle_charging_reserve_percent"] = percent


def set_tou_settings(site: EnergySite, settings: Any) -> None:
    """Replace the time of use settings. Raises ``EnergyError(400)`` unless given an object."""
    if not isinstance(settings, dict):
        raise EnergyError(400, "tou_settings must be an object")
    merged = tou_settings(site)
    merged.update(copy.deepcopy(settings))
    site.config["tou_settings"] = merged


# -- history ---------------------------------------------------------------------------------

def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 time (``Z`` allowed; naive means UTC). Raises ``EnergyError(400)``."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EnergyError(400, f"{name} is not an ISO 8601 time: {text}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _unit(site: EnergySite, key: str) -> float:
    """A stable number in [0, 1) for this site and ``key``."""
    return _unit_of(site.energy_site_id, key)


def _unit_of(site_id: int, key: str) -> float:
    digest = hashlib.blake2b(f"{site_id}:{key}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2 ** 32


def daily_energy(site: EnergySite, day: date) -> dict:
    """Energy flows of one whole day in Wh, every field of :data:`ENERGY_FIELDS`."""
    return dict(_daily_energy(site.energy_site_id, _latitude(site), peak_solar_watts(site),
                              capacity_wh(site), is_battery(site), day))


@functools.lru_cache(maxsize=8192)
def _daily_energy(site_id: int, latitude: float, peak: float, capacity: float,
                  battery: bool, day: date) -> dict:
    season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 172) / 365.25)
    if latitude < 0:
        season = -season
    sun_hours = 4.6 + 1.6 * season
    weather = 0.45 + 0.55 * _unit_of(site_id, f"sun:{day.isoformat()}")
    solar = peak * sun_hours * weather
    load = 16000.0 + 6000.0 * _unit_of(site_id, f"load:{day.isoformat()}") - 2000.0 * season
    daytime_load = 0.4 * load
    solar_to_home = min(solar, daytime_load)
    spare = solar - solar_to_home
    battery_in = min(spare, 0.95 * capacity) if battery else 0.0
    solar_to_grid = spare - battery_in
    battery_out = min(battery_in * 0.95, load - solar_to_home)
    from_grid = max(0.0, load - solar_to_home - battery_out)
    flows = dict.fromkeys(ENERGY_FIELDS, 0.0)
    flows.update(
        solar_energy_exported=solar,
        grid_energy_imported=from_grid,
        grid_energy_exported_from_solar=solar_to_grid,
        battery_energy_exported=battery_out,
        battery_energy_imported_from_solar=battery_in,
        consumer_energy_imported_from_grid=from_grid,
        consumer_energy_imported_from_solar=solar_to_home,
        consumer_energy_imported_from_battery=battery_out,
    )
    return {key: round(value, 1) for key, value in flows.items()}


def _sum(days: list[dict]) -> dict:
    total = dict.fromkeys(ENERGY_FIELDS, 0.0)
    for flows in days:
        for key in ENERGY_FIELDS:
            total[key] += flows[key]
    return {key: round(value, 1) for key, value in total.items()}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _period_window(site: EnergySite, period: str, end: datetime, zone: tzinfo) -> tuple[date, date]:
    """First and last local dates of the ``period`` that contains ``end``."""
    last = end.astimezone(zone).date()
    if period == "day":
        return last, last
    if period == "week":
        return last - timedelta(days=6), last
    if period == "month":
        first = last.replace(day=1)
        return first, _add_months(first, 1) - timedelta(days=1)
    if period == "year":
        return date(last.year, 1, 1), date(last.year, 12, 31)
    installed = parse_time(installation_date(site), "installation_date")
    return installed.astimezone(zone).date(), last


def _buckets(period: str, first: date, last: date) -> list[tuple[date, date]]:
    """Inclusive (first, last) date ranges of the points an energy series has."""
    buckets = []
    if period in ("day", "week", "month"):
        day = first
        while day <= last:
            buckets.append((day, day))
            day += timedelta(days=1)
    elif period == "year":
        month = first.replace(day=1)
        while month <= last:
            end = _add_months(month, 1) - timedelta(days=1)
            buckets.append((max(month, first), min(end, last)))
            month = _add_months(month, 1)
    else:
        year = first.year
        while year <= last.year:
            buckets.append((max(date(year, 1, 1), first), min(date(year, 12, 31), last)))
            year += 1
    return buckets


def _stamp(day: date, zone: tzinfo) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()


def _share(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


def _self_consumption(flows: dict) -> dict:
    load = (flows["consumer_energy_imported_from_grid"]
            + flows["consumer_energy_imported_from_solar"]
            + flows["consumer_energy_imported_from_battery"])
    return {
        "solar": _share(flows["consumer_energy_imported_from_solar"], load),
        "battery": _share(flows["consumer_energy_imported_from_battery"], load),
    }


def _energy_point(flows: dict) -> dict:
    return dict(flows)


def _tou_energy_point(flows: dict) -> dict:
    point = {}
    for name, share in TOU_PERIODS:
        point[name] = {key: round(value * share, 1) for key, value in flows.items()}
    return point


def _tou_self_point(flows: dict) -> dict:
    shares = _tou_energy_point(flows)
    return {name: _self_consumption(shares[name]) for name, _ in TOU_PERIODS}


def _savings_point(flows: dict, price: float) -> dict:
    solar = flows["consumer_energy_imported_from_solar"] / 1000.0 * price
    battery = flows["consumer_energy_imported_from_battery"] / 1000.0 * price
    export = flows["grid_energy_exported_from_solar"] / 1000.0 * price * 0.5
    return {
        "resource_type": "savings",
        "solar_savings": round(solar, 2),
        "battery_savings": round(battery, 2),
        "grid_export_credit": round(export, 2),
        "value": round(solar + battery + export, 2),
        "currency": "USD",
    }


def _tariff_price(tariff: Optional[str]) -> float:
    if not tariff:
        return DEFAULT_PRICE_PER_KWH
    return 0.12 + 0.3 * (int.from_bytes(hashlib.blake2b(tariff.encode(), digest_size=2)
                                        .digest(), "big") / 65536)


def _power_series(site: EnergySite, start: datetime, stop: datetime, interval: int) -> list:
    points = []
    first = math.ceil(start.timestamp() / interval) * interval
    zone = start.tzinfo
    for when in range(int(first), int(stop.timestamp()) + 1, interval):
        solar = solar_power(site, when)
        load = load_power(site, when)
        battery = 0.0
        if is_battery(site):
            limit = max_battery_watts(site)
            battery = max(-limit, min(limit, load - solar))
        points.append({
            "timestamp": iso_local(site, when, zone),
            "solar_power": round(solar, 1),
            "battery_power": round(battery, 1),
            "grid_power": round(load - solar - battery, 1),
            "grid_services_power": 0,
            "generator_power": 0,
        })
    return points


def _backup_events(site: EnergySite, first: date, last: date, zone: tzinfo) -> list:
    events: list[dict] = []
    if not is_battery(site):
        return events
    day = first
    while day <= last:
        if _unit(site, f"outage:{day.isoformat()}") < 0.03:
            start = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
                minutes=int(1440 * _unit(site, f"outage-at:{day.isoformat()}")))
            duration = int(60000 * (5 + 175 * _unit(site, f"outage-for:{day.isoformat()}")))
            events.append({"timestamp": start.isoformat(), "duration": duration})
        day += timedelta(days=1)
    return events


POWER_INTERVALS = {"day": 900, "week": 900, "month": 3600, "year": 21600, "lifetime": 86400}


def history(site: EnergySite, query: dict, now: float, calendar_style: bool) -> dict:
    """HISTORY_DATA / CALENDAR_HISTORY_DATA for the query parameters of the request.

    ``kind`` and ``period`` are required; ``end_date`` (default: now) picks the period,
    ``start_date`` narrows it, ``timezone`` sets the local days and offsets. Nothing
    after ``now`` is reported. Raises ``EnergyError(400)`` for bad parameters.
    """
    kind = str(query.get("kind"))
    period = str(query.get("period"))
    periods = CALENDAR_PERIODS if calendar_style else HISTORY_PERIODS
    if kind not in KINDS:
        raise EnergyError(400, f"invalid kind: {kind}; use one of " + ", ".join(KINDS))
    if period not in periods:
        raise EnergyError(400, f"invalid period: {period}; use one of " + ", ".join(periods))
    zone = zone_named(query.get("timezone") or query.get("installation_timezone"), site)
    now_moment = datetime.fromtimestamp(now, tz=timezone.utc)
    end = parse_time(query["end_date"], "end_date") if query.get("end_date") else now_moment
    end = min(end, now_moment)
    first, last = _period_window(site, period, end, zone)
    if query.get("start_date"):
        start = parse_time(query["start_date"], "start_date")
        if start > end:
            raise EnergyError(400, "start_date is after end_date")
        first = max(first, start.astimezone(zone).date())
    last = min(last, end.astimezone(zone).date())
    offset = end.astimezone(zone).utcoffset() or timedelta(0)
    reply: dict = {
        "serial_number": site.product.get("gateway_id") or site.id,
        "installation_time_zone": site.config.get("installation_time_zone", "UTC"),
        "period": period,
        "time_zone_offset": int(offset.total_seconds() // 60),
    }
    if kind == "power":
        start_moment = datetime(first.year, first.month, first.day, tzinfo=zone)
        if query.get("start_date"):
            start_moment = max(start_moment, parse_time(query["start_date"], "start_date"))
        reply["time_series"] = _power_series(site, start_moment.astimezone(zone), end,
                                             POWER_INTERVALS[period])
        return reply
    if kind == "backup":
        events = _backup_events(site, first, last, zone)
        reply.update(time_series=events, events=events, total_events=len(events))
        return reply
    price = _tariff_price(query.get("tariff"))
    render: Callable[[dict], dict] = {
        "energy": _energy_point,
        "self_consumption": _self_consumption,
        "time_of_use_energy": _tou_energy_point,
        "time_of_use_self_consumption": _tou_self_point,
        "savings": lambda flows: _savings_point(flows, price),
    }[kind]
    series = []
    for bucket_first, bucket_last in _buckets(period, first, last):
        days = [daily_energy(site, bucket_first + timedelta(days=n))
                for n in range((bucket_last - bucket_first).days + 1)]
        point = {"timestamp": _stamp(bucket_first, zone)}
        point.update(render(_sum(days)))
        series.append(point)
    reply["time_series"] = series
    return reply
