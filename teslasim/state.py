"""The simulated Tesla cloud's state: accounts, cars, energy sites, tokens and a clock.

Everything the simulator serves lives on one :class:`World`. Route handlers read and
mutate it; nothing else holds state. A world is built from a fleet document (the
built-in ``fleet.json`` or a file given with ``--fleet``)::

    {
      "settings": {"access_token_lifetime": 28800, ...},     # optional, see Settings
      "accounts": [{"email", "password", "region": "global"|"cn",
                    "captcha": "off"|"always"|"after_submit",
                    "factors": [{"id", "name", "secret"}], "user_id"}],
      "vehicles": [{"owner": email, "wake_delay": seconds, "route": [[lat, lon], ...]?,
                    "pack_kwh": usable kWh?,
                    "data": <full vehicle_data response, as in Tesla's API>}],
      "energy_sites": [{"owner": email, "kind": "battery"|"solar", ...}],
      "fleet_api": {"apps": [...], "regions": {...}}        # see teslasim.fleet_model
    }

``captcha``: ``always`` puts a captcha field on the sign-in form from the start;
``after_submit`` answers the first credential post with the form again, now with a
captcha field and the message "Captcha is required". ``secret`` is a base32 TOTP
secret (RFC 6238, SHA-1, 6 digits, 30 s). A vehicle's ``data.state`` is its initial
state; ``route`` makes it drive that loop of waypoints (:mod:`teslasim.drive`);
``pack_kwh`` is the usable energy of its full battery, which with the ranges its
``charge_state`` shows sets how charging adds level and range (:mod:`teslasim.charging`;
without it the pack gives 4 rated miles per kWh). A car whose ``charging_state`` is
``Charging`` charges from the supply its ``charge_state`` shows.
"""
from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from teslasim import charging, drive
from teslasim.fleet_model import FleetModel
from teslasim.rules import Rules

VEHICLE_KEYS = (
    "id", "vehicle_id", "vin", "display_name", "option_codes", "color", "tokens",
    "state", "in_service", "id_s", "calendar_enabled", "api_version",
    "backseat_token", "backseat_token_updated_at",
)
DATA_GROUPS = (
    "charge_state", "climate_state", "drive_state", "gui_settings",
    "vehicle_config", "vehicle_state",
)


class Clock:
    """Wall-clock time that tests can move forward without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Settings:
    """Tunable behaviour; every field can be set in the fleet's ``settings``."""

    access_token_lifetime: int = 28800      # SSO access token, seconds
    owner_token_lifetime: int = 3888000     # Owner API token from oauth/token (45 days)
    refresh_grace_period: float = 30.0      # a used refresh token still works this long
    stream_idle_timeout: float = 10.0       # streaming: data:error after this long unchanged
    stream_poll_interval: float = 0.5       # streaming: seconds between looks at the car
    vehicle_idle_sleep: float = 900.0       # an online, parked car falls asleep when unpolled
    auth_code_lifetime: float = 600.0       # SSO authorization code, seconds
    mfa_max_attempts: int = 5               # wrong passcodes before a transaction is locked


@dataclass
class Factor:
    id: str
    name: str
    secret: str

    def as_json(self) -> dict:
        """The factor as the SSO's mfa/factors endpoint lists it."""
        return {
            "dispatchRequired": False, "id": self.id, "name": self.name,
            "factorType": "token:software", "factorProvider": "TESLA",
            "securityLevel": 1, "activatedAt": "2020-12-07T14:07:50.000Z",
            "updatedAt": "2020-12-07T06:07:49.000Z",
        }


@dataclass
class Account:
    email: str
    password: str
    user_id: int
    region: str = "global"
    captcha: str = "off"
    factors: list[Factor] = field(default_factory=list)


@dataclass
class VehicleState:
    """One car. ``data`` is its full vehicle_data document; ``state`` inside it is live."""

    owner: str
    data: dict
    wake_delay: float = 10.0
    route: Optional[list] = None
    woken_at: Optional[float] = None        # when a wake_up was accepted
    last_polled: float = 0.0                # last online-only call (keeps it awake)
    last_charged: float = field(default=0.0, init=False)   # last instant it drew charging power
    pins: dict = field(default_factory=dict)    # valet / speed-limit PINs (never served)
    pack_kwh: Optional[float] = None
    drive_anchor: Optional[drive.Anchor] = field(default=None, repr=False)
    pack: charging.Pack = field(init=False, repr=False)
    supply: Optional[charging.Supply] = field(default=None, init=False, repr=False)
    charge_meter: Optional[charging.Meter] = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.pack = charging.Pack.of(self.data.get("charge_state") or {}, self.pack_kwh)

    @property
    def id(self) -> int:
        return self.data["id"]

    @property
    def id_s(self) -> str:
        return self.data["id_s"]

    @property
    def vehicle_id(self) -> int:
        return self.data["vehicle_id"]

    @property
    def vin(self) -> str:
        return self.data["vin"]

    @property
    def driving(self) -> bool:
        return self.route is not None

    def update_state(self, now: float, idle_sleep: float) -> str:
        """Advance asleep -> online after a wake-up, online -> asleep when left idle.

        Idle means neither polled nor charging for ``idle_sleep`` seconds.
        """
        state = self.data["state"]
        if state == "asleep" and self.woken_at is not None \
                and now >= self.woken_at + self.wake_delay:
            self.data["state"] = state = "online"
            self.woken_at = None
            self.last_polled = now
        elif state == "online" and not self.driving \
                and now - max(self.last_polled, self.last_charged) > idle_sleep:
            self.data["state"] = state = "asleep"
        return state

    def wake_up(self, now: float) -> None:
        """Start waking an asleep car; an offline car stays unreachable."""
        if self.data["state"] == "asleep" and self.woken_at is None:
            self.woken_at = now

    def summary(self) -> dict:
        """The vehicle object as the list, summary and wake_up endpoints give it."""
        return {key: copy.deepcopy(self.data.get(key)) for key in VEHICLE_KEYS}


@dataclass
class EnergySite:
    """A Powerwall site (``kind`` battery) or a solar-only site (``kind`` solar).

    ``config`` keeps the fleet entry as given; routes derive products-list entries,
    live status and history from it.
    """

    owner: str
    kind: str
    config: dict

    @property
    def energy_site_id(self) -> int:
        return self.product["energy_site_id"]

    @property
    def product(self) -> dict:
        """The fleet's product entry: the battery document or the solar entry."""
        return self.config["battery"] if self.kind == "battery" else self.config["product"]

    @property
    def id(self) -> str:
        return self.product["id"]


@dataclass
class TokenRecord:
    """A bearer the simulator issued: who owns it and until when it works."""

    email: str
    expires_at: float
    kind: str                       # "sso", "owner", or the Fleet API's "fleet" / "partner"
    revoked: bool = False
    region: str = "global"          # the cloud it works on: "global" or "cn"
    marked: bool = False            # minted the way the 2026 minting gate refuses
    client_id: str = ""             # Fleet API tokens: the app they were issued to
    scopes: frozenset = frozenset()     # Fleet API tokens: what they allow


@dataclass
class SsoTransaction:
    """One sign-in in progress at the SSO, tied to the browser's ``tesla-auth.sid`` cookie."""

    transaction_id: str
    sid: str
    region: str                     # region of the SSO host that started it
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    scope: str
    login_hint: str = ""
    csrf: str = ""
    email: Optional[str] = None     # set once the credentials were accepted
    phase: str = "authenticate"     # authenticate -> mfa -> done
    captcha_required: bool = False
    submits: int = 0
    mfa_verified: bool = False
    mfa_failures: int = 0
    browser_challenge: str = ""     # 2026: the page script turns it into the proof field


@dataclass
class AuthCode:
    """An authorization code handed to the callback; single use, short-lived."""

    code: str
    email: str
    region: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str
    scope: str
    issued_at: float
    used: bool = False
    access_tokens: list = field(default_factory=list)


@dataclass
class RefreshGrant:
    """An SSO refresh token, rotated on use.

    Under the 2021 rules a used one works ``refresh_grace_period`` longer; under the
    2026 rules it is single use.
    """

    email: str
    region: str
    client_id: str
    scope: str
    issued_at: float
    used_at: Optional[float] = None
    revoked: bool = False


@dataclass
class TokenMint:
    """How one token was minted at the SSO token endpoint (what the 2026 gate looks at)."""

    grant_type: str                 # "authorization_code" or "refresh_token"
    email: str
    region: str                     # region of the SSO that minted it
    http_version: Optional[str]     # "1.1" or "2", as the server saw it
    tls_version: Optional[str]      # "TLSv1.2", "TLSv1.3" or None (plain http)
    alpn: Optional[str]             # "h2", "http/1.1" or None
    marked: bool                    # the Owner API refuses tokens minted this way (2026)
    at: float


class World:
    """All state of one simulated Tesla cloud. Thread-safe through ``lock``."""

    def __init__(self, fleet: dict, clock: Optional[Clock] = None,
                 rules: Optional[Rules] = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.rules = rules or Rules()
        self.settings = Settings(**fleet.get("settings", {}))
        self.accounts: dict[str, Account] = {}
        for entry in fleet.get("accounts", []):
            factors = [Factor(**f) for f in entry.get("factors", [])]
            account = Account(**{**entry, "factors": factors})
            self.accounts[account.email.lower()] = account
        self.vehicles: list[VehicleState] = [
            VehicleState(**copy.deepcopy(entry)) for entry in fleet.get("vehicles", [])
        ]
        now = self.clock.now()
        for vehicle in self.vehicles:
            vehicle.last_polled = now
        self.energy_sites: list[EnergySite] = [
            EnergySite(owner=e["owner"], kind=e["kind"], config=copy.deepcopy(e))
            for e in fleet.get("energy_sites", [])
        ]
        self.bearers: dict[str, TokenRecord] = {}
        # SSO: sessions by cookie (captcha answers), sign-ins, codes, refresh tokens.
        self.secret = secrets.token_bytes(32)           # signs this world's JWTs
        self.sso_sessions: dict[str, dict] = {}
        self.transactions: dict[str, SsoTransaction] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.used_passcodes: set[tuple[str, int]] = set()   # (factor id, time step)
        self.token_mints: list[TokenMint] = []             # every token minted, in order
        self.fleet = FleetModel(fleet.get("fleet_api", {}), self.clock.now)

    # -- construction -------------------------------------------------------

    @classmethod
    def demo(cls, clock: Optional[Clock] = None, rules: Optional[Rules] = None) -> "World":
        """The built-in demo fleet (``teslasim/fleet.json``)."""
        text = resources.files("teslasim").joinpath("fleet.json").read_text("utf-8")
        return cls(json.loads(text), clock, rules)

    @classmethod
    def from_file(cls, path: str | Path, clock: Optional[Clock] = None,
                  rules: Optional[Rules] = None) -> "World":
        return cls(json.loads(Path(path).read_text("utf-8")), clock, rules)

    # -- lookups ------------------------------------------------------------

    def account(self, email: str) -> Optional[Account]:
        return self.accounts.get((email or "").lower())

    def vehicles_of(self, email: str) -> list[VehicleState]:
        return [v for v in self.vehicles if v.owner.lower() == email.lower()]

    def vehicle_by_id_s(self, email: str, id_s: str) -> Optional[VehicleState]:
        return next((v for v in self.vehicles_of(email) if v.id_s == str(id_s)), None)

    def vehicle_by_vehicle_id(self, email: str, vehicle_id: str) -> Optional[VehicleState]:
        return next((v for v in self.vehicles_of(email)
                     if str(v.vehicle_id) == str(vehicle_id)), None)

    def sites_of(self, email: str) -> list[EnergySite]:
        return [s for s in self.energy_sites if s.owner.lower() == email.lower()]

    # -- bearer tokens --------------------------------------------------------

    def issue_bearer(self, email: str, kind: str, lifetime: float, prefix: str = "", *,
                     region: str = "global", marked: bool = False) -> str:
        token = prefix + secrets.token_hex(32)
        self.add_bearer(token, email, kind, lifetime, region=region, marked=marked)
        return token

    def add_bearer(self, token: str, email: str, kind: str, lifetime: float, *,
                   region: str = "global", marked: bool = False) -> None:
        """Register a token minted elsewhere (an SSO JWT) as a valid bearer."""
        with self.lock:
            self.bearers[token] = TokenRecord(email, self.clock.now() + lifetime, kind,
                                              region=region, marked=marked)

    def bearer_record(self, token: str) -> Optional[TokenRecord]:
        """The record of a live bearer, or None if unknown, expired or revoked."""
        record = self.bearers.get(token or "")
        if record is None or record.revoked or record.expires_at <= self.clock.now():
            return None
        return record

    def bearer_owner(self, token: str) -> Optional[str]:
        """The email a live bearer belongs to, or None if unknown, expired or revoked."""
        record = self.bearer_record(token)
        return record.email if record is not None else None

    def expire_bearers(self, email: Optional[str] = None) -> None:
        """Make every bearer (of one account, or all) expire now; for tests."""
        with self.lock:
            for record in self.bearers.values():
                if email is None or record.email.lower() == email.lower():
                    record.expires_at = self.clock.now() - 1

    # -- time passing ---------------------------------------------------------

    def refresh_vehicle(self, vehicle: VehicleState) -> str:
        """Bring one car up to the clock (wake/sleep, charging, driving) and return its state.

        A charging car stays awake (a car put to sleep by a fleet file still charges);
        only an online car drives.
        """
        with self.lock:
            now = self.clock.now()
            charged_until = charging.advance(vehicle, now)
            if charged_until is not None:
                vehicle.last_charged = charged_until
            state = vehicle.update_state(now, self.settings.vehicle_idle_sleep)
            if state == "online":
                drive.advance(vehicle, now)
            return state
