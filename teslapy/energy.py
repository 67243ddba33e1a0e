"""Energy products: Powerwall batteries and solar panels.

``Product`` holds an energy product entry of the products list and addresses the
API with its ``id`` (``battery_id``) and ``energy_site_id`` (``site_id``).
``Battery`` adds Powerwall reads and settings, ``SolarPanel`` the live site status.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone as dt_timezone
from typing import Any, Dict, Optional, TYPE_CHECKING, Union

from teslapy._types import JsonDict
from teslapy.errors import ProductError
from teslapy.vehicle import api_response

if TYPE_CHECKING:
    from teslapy.session import Tesla

logger = logging.getLogger(__name__)

OPERATION_MODES = ("self_consumption", "backup", "autonomous")
#: Codes of an accepted product command: 201 (and 200, which Tesla has sent since 2025).
ACCEPTED_CODES = (201, 200)


def utc_timestamp(moment: Optional[datetime] = None) -> str:
    """Format a moment (default: now) as UTC ISO 8601 with milliseconds and ``Z``.

    E.g. ``'2021-02-28T07:59:59.999Z'``, the form Tesla's history endpoints take.
    """
    moment = (moment or datetime.now(dt_timezone.utc)).astimezone(dt_timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_object(text: str) -> Optional[Dict[str, Any]]:
    """The JSON object written in ``text``, or None when it holds no object."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _without_none(**params: Any) -> Dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


class Product(JsonDict):
    """An energy product on the account (a Powerwall site or a solar site)."""

    def __init__(self, data: Dict[str, Any], tesla: "Tesla") -> None:
        super().__init__(data)
        self.tesla = tesla

    def _data(self, name: str, **kwargs: Any) -> Dict[str, Any]:
        """Call a read endpoint and return its ``response`` object."""
        data: Dict[str, Any] = api_response(self.api(name, **kwargs), name)
        return data

    def api(self, name: str, **kwargs: Any) -> JsonDict:
        """Call the named endpoint with this product's ``battery_id`` and ``site_id``.

        ``battery_id`` is the product's ``id``, ``site_id`` its ``energy_site_id``.
        Keyword arguments go in the query string (GET) or the JSON body.

        Raises ``ValueError`` for an unknown endpoint or a path variable this product
        lacks, ``HTTPError`` for errors Tesla returns.
        """
        path_vars = _without_none(battery_id=self.get("id"),
                                  site_id=self.get("energy_site_id"))
        reply: JsonDict = self.tesla.api(name, path_vars, **kwargs)
        return reply

    def get_history_data(self, kind: str = "savings", period: str = "day",
                         start_date: Optional[str] = None, end_date: Optional[str] = None,
                         installation_timezone: Optional[str] = None,
                         timezone: Optional[str] = None,
                         tariff: Optional[str] = None) -> JsonDict:
        """Return the site's history series (HISTORY_DATA).

        kind: (optional) power, energy, backup, self_consumption,
            time_of_use_energy, time_of_use_self_consumption or savings
        period: (optional) day, week, month or year
        start_date: (optional) ISO 8601 start, e.g. ``2021-02-27T08:00:00.000Z``
        end_date: (optional) ISO 8601 end; defaults to now (UTC) at each call
        installation_timezone: (optional) the site's time zone, e.g. ``Europe/Berlin``
        timezone: (optional) time zone to report in
        tariff: (optional) tariff id for savings

        Unset options are not sent. Raises ``HTTPError`` for errors Tesla returns.
        """
        return self._history("HISTORY_DATA", kind=kind, period=period,
                             start_date=start_date, end_date=end_date,
                             installation_timezone=installation_timezone,
                             timezone=timezone, tariff=tariff)

    def get_calendar_history_data(self, kind: str = "savings", period: str = "day",
                                  start_date: Optional[str] = None,
                                  end_date: Optional[str] = None,
                                  installation_timezone: Optional[str] = None,
                                  timezone: Optional[str] = None,
                                  tariff: Optional[str] = None) -> JsonDict:
        """Return the site's calendar history series (CALENDAR_HISTORY_DATA).

        Options as :meth:`get_history_data`, plus period ``lifetime``.

        Unset options are not sent; ``end_date`` defaults to now (UTC) at each call.
        Raises ``HTTPError`` for errors Tesla returns.
        """
        return self._history("CALENDAR_HISTORY_DATA", kind=kind, period=period,
                             start_date=start_date, end_date=end_date,
                             installation_timezone=installation_timezone,
                             timezone=timezone, tariff=tariff)

    def _history(self, name: str, **params: Optional[str]) -> JsonDict:
        """Call a history endpoint; ``end_date`` defaults to now, unset options are left out."""
        params["end_date"] = params.get("end_date") or utc_timestamp()
        return JsonDict(self._data(name, **_without_none(**params)))

    def command(self, name: str, **kwargs: Any) -> str:
        """Send a product command and return Tesla's message (e.g. ``'Updated'``).

        The reply must carry ``code`` 201 or 200 (also spelled ``Code``, with ``message`` or
        ``Message``; a ``response`` that is that object written as a JSON string is
        read too).

        Raises ``ProductError(message)`` for any other code or a reply without one,
        ``ResponseError`` when the reply has no ``response`` object, ``HTTPError``
        for errors Tesla returns.
        """
        response = api_response(self.api(name, **kwargs), name, (dict, str))
        if isinstance(response, str):
            text, response = response, _json_object(response)
            if response is None:
                raise ProductError(f"{name} was not accepted: {text[:200]}")
        code = response.get("code", response.get("Code"))
        message = response.get("message", response.get("Message"))
        if code in ACCEPTED_CODES:
            return message if message is not None else ""
        raise ProductError(message or f"{name} was not accepted (code {code})")


class Battery(Product):
    """A Powerwall battery."""

    def get_battery_data(self) -> "Battery":
        """Fetch the battery's state and configuration into self and return self."""
        self.update(self._data("BATTERY_DATA"))
        return self

    def set_operation(self, mode: str) -> str:
        """Set the operation mode, e.g. ``self_consumption``, ``backup`` or ``autonomous``.

        Any mode is sent as it is (Tesla adds modes; ``OPERATION_MODES`` lists the known
        ones). Returns Tesla's message. Raises ``ValueError`` for an empty mode,
        ``ProductError`` when Tesla does not accept it.
        """
        if not isinstance(mode, str) or not mode.strip():
            raise ValueError(f"The operation mode must be a name such as "
                             f"{', '.join(OPERATION_MODES)}, not {mode!r}")
        if mode not in OPERATION_MODES:
            logger.info("Sending operation mode %r, which teslapy does not know", mode)
        return self.command("BATTERY_OPERATION_MODE", default_real_mode=mode)

    def set_backup_reserve_percent(self, percent: Union[int, float, str]) -> str:
        """Set the share of energy kept for outages, a percentage 0 to 100.

        Like TeslaPy 1.5 it takes anything ``int()`` reads (``20``, ``'20'``, ``20.0``;
        a fraction is cut off). Returns Tesla's message. Raises ``ValueError`` for a
        value ``int()`` cannot read or outside 0 to 100, ``ProductError`` when Tesla
        does not accept it.
        """
        try:
            value = int(percent)
        except (TypeError, ValueError):
            raise ValueError(f"Backup reserve must be a percentage from 0 to 100, "
                             f"not {percent!r}") from None
        if isinstance(percent, bool) or not 0 <= value <= 100:
            raise ValueError(f"Backup reserve must be a percentage from 0 to 100, "
                             f"not {percent!r}")
        return self.command("BACKUP_RESERVE", backup_reserve_percent=value)


class SolarPanel(Product):
    """A solar-only energy site."""

    def get_site_data(self) -> "SolarPanel":
        """Fetch the site's live status (power flows, grid status) into self; return self."""
        self.update(self._data("SITE_DATA"))
        return self
