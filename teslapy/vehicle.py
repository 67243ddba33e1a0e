"""Vehicle: a car's data as a dict, with methods for reads, commands and wake-up.

Only :meth:`Vehicle.get_vehicle_summary`, :meth:`Vehicle.option_code_list`,
:meth:`Vehicle.get_service_scheduling_data`, :meth:`Vehicle.compose_image` and
:meth:`Vehicle.decode_vin` work while the car is asleep or offline, and they do not
wake it. Everything else needs the car online (see :meth:`Vehicle.sync_wake_up`);
otherwise Tesla answers ``408 Client Error: vehicle unavailable``.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from teslapy import codes, wake
from teslapy._types import JsonDict
from teslapy.errors import ResponseError, VehicleError

if TYPE_CHECKING:
    from teslapy.session import Tesla

logger = logging.getLogger(__name__)

DEFAULT_VIEW = "STUD_3QTR"
DEFAULT_IMAGE_SIZE = 640
#: The data groups ``get_vehicle_data(endpoints=...)`` can ask for.
DATA_ENDPOINTS = (
    "charge_state", "climate_state", "closures_state", "drive_state", "gui_settings",
    "location_data", "charge_schedule_data", "preconditioning_schedule_data",
    "vehicle_config", "vehicle_state", "vehicle_data_combo",
)


def data_endpoints(endpoints: Union[str, Sequence[str]]) -> str:
    """The ``endpoints`` query value (names joined by ``;``) for a list or a ``;`` string.

    Raises:
        ValueError: a name is not one of :data:`DATA_ENDPOINTS`, or none is given.
    """
    names = endpoints.split(";") if isinstance(endpoints, str) else list(endpoints)
    names = [name.strip() if isinstance(name, str) else name for name in names]
    unknown = [name for name in names if name not in DATA_ENDPOINTS]
    if unknown:
        raise ValueError(f"unknown vehicle data endpoint(s) {unknown!r}; choose from "
                         f"{', '.join(DATA_ENDPOINTS)}")
    if not names:
        raise ValueError("give at least one vehicle data endpoint")
    return ";".join(dict.fromkeys(names))


def api_response(reply: Any, name: str,
                 kind: Union[type, Tuple[type, ...]] = dict) -> Any:
    """Return the ``response`` member of an API reply, checking its type.

    kind: (optional) the type (or tuple of types) the member must have

    Raises ``ResponseError`` naming the endpoint when the reply is not shaped as
    ``{"response": <kind>}``.
    """
    response = reply.get("response") if isinstance(reply, dict) else None
    if not isinstance(response, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        raise ResponseError(f"{name} gave an unexpected reply without a {wanted} "
                            f"'response': {str(reply)[:200]!r}")
    return response


class _OptionCodeTable:
    """``Vehicle.codes``: the packaged option-code descriptions, read on first use."""

    def __get__(self, instance: object, owner: type) -> Dict[str, str]:
        return codes.option_codes()


class _StreamedColumns:
    """``Vehicle.COLS``: the streamed columns, from the streaming package on first use
    (it is slow to import); then a plain class attribute."""

    def __get__(self, instance: object, owner: type) -> List[str]:
        from teslapy.streaming import COLUMNS

        columns = list(COLUMNS)
        setattr(owner, "COLS", columns)
        return columns


class Vehicle(JsonDict):
    """A car on the account; holds the API's vehicle object and data groups.

    ``COLS`` names the streamed columns and ``codes`` is the option-code table, as in
    TeslaPy 1.5; ``callback`` is the function the last :meth:`stream` call was given.
    """

    COLS: List[str] = _StreamedColumns()  # type: ignore[assignment]
    codes = _OptionCodeTable()

    def __init__(self, data: Dict[str, Any], tesla: "Tesla") -> None:
        super().__init__(data)
        self.tesla = tesla
        self.callback: Optional[Callable[[Dict[str, Any]], Any]] = None

    # -- plumbing -------------------------------------------------------------------

    @property
    def _id_s(self) -> str:
        """The id Owner API paths use: ``id_s`` (the long ``id`` as a string)."""
        id_s = self.get("id_s") or self.get("id")
        if id_s is None:
            raise ValueError("This vehicle has no 'id_s' or 'id'; it cannot be addressed")
        return str(id_s)

    def api(self, name: str, **kwargs: Any) -> JsonDict:
        """Call the named endpoint with this car's id as ``vehicle_id``.

        Keyword arguments go in the query string (GET) or the JSON body.

        Raises ``ValueError`` for an unknown endpoint name and ``HTTPError`` for
        errors Tesla returns (408 while the car sleeps).
        """
        reply: JsonDict = self.tesla.api(name, {"vehicle_id": self._id_s}, **kwargs)
        return reply

    def _display_name(self) -> str:
        return str(self.get("display_name") or self.get("vin") or self._id_s)

    # -- reads ----------------------------------------------------------------------

    def get_vehicle_summary(self) -> "Vehicle":
        """Refresh the vehicle object (state, name, options) and return self.

        Works while the car sleeps and does not wake it.
        """
        self.update(api_response(self.api("VEHICLE_SUMMARY"), "VEHICLE_SUMMARY"))
        return self

    def get_vehicle_data(self, endpoints: Union[str, Sequence[str], None] = None) -> "Vehicle":
        """Fetch the car's data groups and return self.

        endpoints: (optional) the groups to fetch, names of :data:`DATA_ENDPOINTS`
            (a list, or one string separated by ``;``); all but the location by
            default on the Fleet API, all on the Owner API. The car's location
            comes only with ``location_data`` (and, on the Fleet API, a token with
            the ``vehicle_location`` scope).

        Raises ``HTTPError`` (408) when the car is asleep or offline, ``ValueError``
        for an unknown endpoint name.
        """
        params = {} if endpoints is None else {"endpoints": data_endpoints(endpoints)}
        self.update(api_response(self.api("VEHICLE_DATA", **params), "VEHICLE_DATA"))
        return self

    def sync_wake_up(self, timeout: float = 60, interval: float = wake.DEFAULT_INTERVAL,
                     backoff: float = 1.0) -> None:
        """Wake the car up and wait until it reports ``online``.

        Reads the summary first (which does not wake the car), so a car that fell
        asleep since it was last read is woken too; sends ``wake_up`` only when the
        car is not online, then polls the summary until a poll sees ``online``: every
        ``interval`` seconds, each wait ``backoff`` times the one before, but never
        more often than twice as TeslaPy 1.5 did (its polls came 2, 4, 6, 9, 12, 16,
        20, 25, 31, 38, 46, ... s after the wake-up). With the defaults a car that
        wakes within 40 s is seen at most 1.92 s, and on average 0.96 s, after it is
        online; see :mod:`teslapy.wake` for the whole schedule. Never waits past
        ``timeout``.

        Raises ``VehicleError('<name> not woken up within <timeout> seconds')`` when
        the car is still not online at the deadline, ``ValueError`` for a
        non-positive ``interval`` or a ``backoff`` below 1.
        """
        schedule = wake.poll_times(interval, backoff)
        deadline = time.monotonic() + timeout
        if self.get_vehicle_summary().get("state") == "online":
            return
        logger.debug("Waking up %s", self._display_name())
        self.update(api_response(self.api("WAKE_UP"), "WAKE_UP"))
        woken = time.monotonic()
        while self.get("state") != "online":
            now = time.monotonic()
            if now >= deadline:
                raise VehicleError(f"{self._display_name()} not woken up within "
                                   f"{timeout} seconds")
            time.sleep(max(0.0, min(woken + next(schedule), deadline) - now))
            self.get_vehicle_summary()
            logger.debug("%s is %s", self._display_name(), self.get("state"))

    def option_code_list(self) -> List[str]:
        """Describe the car's option codes, in its order, skipping unknown codes.

        Reads the packaged ``option_codes.json``; no API call. A car without option
        codes gives an empty list. (Tesla returns a generic Model 3 style list for
        many cars, so the codes may not describe the actual car.)
        """
        return codes.describe_option_codes(self.get("option_codes"))

    def get_nearby_charging_sites(self) -> JsonDict:
        """List nearby Superchargers and destination chargers.

        Raises ``HTTPError`` (408) when the car is asleep, (400) when unsupported.
        """
        name = "NEARBY_CHARGING_SITES"
        return JsonDict(api_response(self.api(name), name))

    def get_service_scheduling_data(self) -> JsonDict:
        """Return this car's next service appointment entry, or ``{}`` when none.

        Works while the car sleeps.
        """
        name = "SERVICE_SELF_SCHEDULING_ELIGIBILITY"
        response = api_response(self.tesla.api(name), name)
        entries = response.get("enabled_vins") or []
        for entry in entries:
            if isinstance(entry, dict) and entry.get("vin") == self.get("vin"):
                return JsonDict(entry)
        return JsonDict()

    def mobile_enabled(self) -> bool:
        """Return whether mobile access is enabled in the car.

        Raises ``HTTPError`` (408) when the car is asleep.
        """
        name = "MOBILE_ENABLED"
        return bool(api_response(self.api(name), name, bool))

    # -- image, units, VIN ------------------------------------------------------------

    def compose_image(self, view: str = DEFAULT_VIEW, size: int = DEFAULT_IMAGE_SIZE,
                      options: Optional[str] = None) -> bytes:
        """Fetch a PNG picture of the car from Tesla's image compositor.

        view: (optional) ``STUD_3QTR``, ``STUD_SEAT``, ``STUD_SIDE``, ``STUD_REAR``
            or ``STUD_WHEEL``
        size: (optional) width in pixels
        options: (optional) comma-separated option codes; the car's own codes are
            used (with a warning) when not given, and may not match the car.

        The compositor is public: the request goes through the session's transport
        (``verify``, ``proxies``, ``timeout``, retries) without the bearer token. Works while the car sleeps.
        Returns the PNG bytes. Raises ``HTTPError`` on a 4xx/5xx reply and
        ``ValueError`` when the car's VIN is malformed.
        """
        model = codes.compositor_model(self.get("vin"))
        if options is None:
            logger.warning("No options given to compose_image(); using the car's "
                           "option_codes, which may not match the car")
            options = self.get("option_codes") or ""
        params = {"model": model, "bkba_opt": 1, "view": view, "size": size,
                  "options": options}
        response = self.tesla.request("GET", self.tesla.compositor_url, params=params,
                                      serialize=False, withhold_token=True)
        image: bytes = response.content
        return image

    def _gui_settings(self) -> Dict[str, Any]:
        """The car's GUI settings, fetched with vehicle_data when not yet known."""
        if not isinstance(self.get("gui_settings"), dict):
            self.get_vehicle_data()
        settings = self.get("gui_settings")
        if not isinstance(settings, dict):
            raise ResponseError(f"VEHICLE_DATA of {self._display_name()} has no gui_settings")
        return settings

    def dist_units(self, miles: Optional[float], speed: bool = False) -> Optional[str]:
        """Format a distance in miles (or a speed in mph) in the car's GUI units.

        One decimal and the unit: ``'160.9 km'`` / ``'100.0 mi'``, with ``speed``
        ``'160.9 km/h'`` / ``'100.0 mi/h'``. ``None`` passes through. Fetches the GUI
        settings with vehicle_data when not yet known (``HTTPError`` 408 if asleep).
        """
        if miles is None:
            return None
        return codes.format_distance(miles, codes.uses_kilometres(self._gui_settings()),
                                     speed)

    def temp_units(self, celcius: Optional[float] = None, *,
                   celsius: Optional[float] = None) -> Optional[str]:
        """Format a temperature in degrees Celsius in the car's GUI units.

        One decimal and the unit letter: ``'21.0 C'`` / ``'69.8 F'``. ``None`` passes
        through. Fetches the GUI settings like :meth:`dist_units`. The argument keeps
        TeslaPy 1.5's spelling ``celcius``; ``celsius=`` works as well.
        """
        if celcius is None:
            celcius = celsius
        if celcius is None:
            return None
        celsius = celcius
        return codes.format_temperature(celsius,
                                        codes.uses_fahrenheit(self._gui_settings()))

    def decode_vin(self) -> JsonDict:
        """Decode the car's VIN into a dict of what its positions say.

        Keys: manufacturer, make, body_type, battery_type, drive_unit, year (a string)
        and plant_code; characters missing from the tables give ``'Unknown'``.
        Raises ``ValueError`` for a malformed VIN. No API call.
        """
        return JsonDict(codes.decode_vin(self.get("vin")))

    # -- commands -------------------------------------------------------------------

    def command(self, name: str, **kwargs: Any) -> Any:
        """Send a vehicle command and return its result.

        A :class:`~teslapy.fleet.TeslaFleet` with a command key sends it signed to a
        car that needs the Vehicle Command Protocol (see :meth:`Tesla.vehicle_command`).

        Raises ``VehicleError(reason)`` when the car answers ``result: false``
        (e.g. ``user_not_present``), ``ResponseError`` when the reply has no result,
        ``HTTPError`` (408) when the car is asleep.
        """
        response = api_response(self.tesla.vehicle_command(self, name, **kwargs), name)
        if "result" not in response:
            raise ResponseError(f"{name} gave an unexpected reply without a result: "
                               f"{str(response)[:200]!r}")
        if not response["result"]:
            raise VehicleError(response.get("reason") or f"{name} was not accepted")
        return response["result"]

    def remote_start_drive(self) -> Any:
        """Enable keyless driving for two minutes, using the account password.

        Raises ``ValueError`` when the session has no password, ``VehicleError``
        when the car refuses.
        """
        password = getattr(self.tesla, "password", None)
        if not password:
            raise ValueError("remote_start_drive() needs the account password; "
                             "create Tesla(email, password) or set tesla.password")
        return self.command("REMOTE_START", password=password)

    # -- streaming ------------------------------------------------------------------

    def stream(self, callback: Optional[Callable[[Dict[str, Any]], Any]] = None, retry: int = 0,
               indefinitely: bool = False, **kwargs: Any) -> None:
        """Receive the car's streamed data on change until the stream ends.

        callback: (optional) called with a dict of each update (``timestamp``,
            ``speed``, ``odometer``, ``soc``, ``elevation``, ``est_heading``,
            ``est_lat``, ``est_lng``, ``power``, ``shift_state``, ``range``,
            ``est_range``, ``heading``; empty values are ``None``)
        retry: (optional) restart (resubscribe or reconnect) this many times
        indefinitely: (optional) restart forever

        The car's ``drive_state``, ``charge_state`` and ``vehicle_state`` are always
        updated. Tesla ends the stream after about 10 seconds without a change.
        Other keyword arguments (``connect_timeout``, ``ping_interval``,
        ``ping_timeout``, ``idle_timeout``, ``backoff`` and connection options) and
        the errors raised are those of :func:`teslapy.streaming.stream`. Ctrl-C stops
        streaming and returns.
        """
        from teslapy import streaming       # loaded with the first stream

        self.callback = callback
        streaming.stream(self, callback, retry=retry, indefinitely=indefinitely, **kwargs)
