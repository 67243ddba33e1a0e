"""The simulated Fleet API's state: apps, partner registrations, regions and the cars' keys.

Built from the fleet document's ``fleet_api`` object (all optional)::

    "fleet_api": {
      "apps": [{"client_id": str, "client_secret": str (none: an open-source app, PKCE
                only), "name": str, "redirect_uris": [str], "allowed_origins": [str]}],
      "regions": {"<email>": "na" | "eu" | "cn"}
    }

An account's Fleet API region is the one ``regions`` gives, else ``cn`` for accounts
of the China SSO and ``na`` for the others. A partner registers a domain per region; the
domain must be the host of one of the app's allowed origins or a parent of it. The
simulator cannot download a domain's public key as Tesla does, so the registration
carries it (PEM, or the hex of the 65-byte point). Each car gets its protocol endpoint
(:class:`~teslasim.vehicle_security.VehicleSecurity`, with its own keys) the first
time it is needed; :meth:`FleetModel.approve` is what the owner's approval on the
pairing page does.
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from teslapy.vcp import crypto
from teslasim.errors import ModelError
from teslasim.vehicle_security import VehicleSecurity

REGIONS = ("na", "eu", "cn")
#: The demo fleet's Fleet API app (with a secret), and the scopes its demo tokens have.
DEMO_CLIENT_ID = "teslapy-demo"
DEMO_SCOPES = ("openid", "offline_access", "user_data", "vehicle_device_data",
               "vehicle_location", "vehicle_cmds", "vehicle_charging_cmds",
               "energy_device_data", "energy_cmds")
PUBLIC_KEY_DOWNLOAD_FAILED = "Public key download failed"


class FleetError(ModelError):
    """A Fleet API request the simulated cloud refuses (status and Tesla's text)."""


@dataclass
class FleetApp:
    """An app registered at the simulated developer portal."""

    client_id: str
    name: str = "teslapy app"
    client_secret: Optional[str] = None
    redirect_uris: List[str] = field(default_factory=list)
    allowed_origins: List[str] = field(default_factory=list)

    @property
    def open_source(self) -> bool:
        """An app without a secret: PKCE sign-in only, no partner token."""
        return self.client_secret is None

    def allows_domain(self, domain: str) -> bool:
        """Whether ``domain`` is the host of an allowed origin, or a parent domain of one."""
        domain = domain.lower().rstrip(".")
        hosts = [(urlsplit(origin).hostname or "").lower() for origin in self.allowed_origins]
        return any(host == domain or host.endswith("." + domain) for host in hosts if host)


@dataclass
class Registration:
    """A partner's domain registered in one region, with the public key Tesla holds for it."""

    client_id: str
    domain: str
    region: str
    public_key: bytes               # 65-byte uncompressed P-256 point
    created_at: float


@dataclass
class SignedRun:
    """A signed command a simulated car ran: the REST command it equals and the outcome."""

    vin: str
    name: str
    params: dict
    result: bool
    reason: str


def parse_public_key(text: object) -> bytes:
    """A P-256 public key given as PEM or as the hex of its 65-byte point, as the point.

    Raises:
        FleetError: 400 when ``text`` is neither.
    """
    if not isinstance(text, str) or not text.strip():
        raise FleetError(400, "invalid_request: public_key must be a PEM or hex string")
    value = text.strip()
    try:
        if value.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(value.encode("ascii"))
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                raise ValueError("not a P-256 key")
            return crypto.encode_public_key(key)
        point = binascii.unhexlify(value)
        crypto.decode_public_key(point)
        return point
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        raise FleetError(400, "invalid_request: public_key is not a P-256 public key") \
            from None


class FleetModel:
    """Everything the simulated Fleet API keeps beside the world's accounts and cars."""

    def __init__(self, document: dict, now: Callable[[], float]) -> None:
        self.now = now
        self.apps: Dict[str, FleetApp] = {}
        for entry in document.get("apps", []):
            app = FleetApp(**entry)
            self.apps[app.client_id] = app
        self.regions: Dict[str, str] = {email.lower(): region for email, region
                                        in document.get("regions", {}).items()}
        unknown = sorted(set(self.regions.values()) - set(REGIONS))
        if unknown:
            raise ValueError(f"unknown Fleet API region(s) {unknown} in fleet_api.regions")
        self.registrations: Dict[Tuple[str, str], Registration] = {}
        self.signed_runs: List[SignedRun] = []
        self.refresh_access: Dict[str, str] = {}    # refresh token -> access token it came with
        self._cars: Dict[str, "VehicleSecurity"] = {}

    def app(self, client_id: str) -> Optional[FleetApp]:
        return self.apps.get(client_id or "")

    def region_of(self, email: str, sso_region: str = "global") -> str:
        """The Fleet API region that serves the account ``email`` of the SSO region given."""
        return self.regions.get(email.lower(), "cn" if sso_region == "cn" else "na")

    # -- partners ---------------------------------------------------------------------

    def register(self, client_id: str, region: str, domain: object,
                 public_key: object) -> Registration:
        """Register ``domain`` for the app in ``region`` (again: the key is replaced).

        Raises:
            FleetError: 400 for a domain that is not the app's, 424 without a key.
        """
        app = self.app(client_id)
        if app is None:
            raise FleetError(401, "invalid bearer token")
        if not isinstance(domain, str) or not domain or not app.allows_domain(domain):
            raise FleetError(400, "invalid_request: domain must match the root domain of "
                                  "the app's allowed origins")
        if public_key is None:
            raise FleetError(424, PUBLIC_KEY_DOWNLOAD_FAILED)
        registration = Registration(client_id, domain.lower().rstrip("."), region,
                                    parse_public_key(public_key), self.now())
        self.registrations[(client_id, region)] = registration
        return registration

    def registration(self, client_id: str, region: str) -> Optional[Registration]:
        return self.registrations.get((client_id, region))

    def domain_key(self, domain: str) -> Optional[Tuple[FleetApp, bytes]]:
        """The app registered with ``domain`` (in any region) and its public key, or None."""
        domain = domain.lower().rstrip(".")
        for registration in self.registrations.values():
            if registration.domain == domain:
                return self.apps[registration.client_id], registration.public_key
        return None

    # -- cars -----------------------------------------------------------------------------

    def security(self, vin: str) -> VehicleSecurity:
        """The protocol endpoint of the car ``vin``, made with new keys when first needed."""
        car = self._cars.get(vin)
        if car is None:
            car = self._cars[vin] = VehicleSecurity(vin, now=self.now)
        return car

    def approve(self, domain: str, vin: str) -> FleetApp:
        """Pair the key registered for ``domain`` with the car, as the owner's approval does.

        Raises:
            FleetError: 404 when no app registered ``domain``.
        """
        found = self.domain_key(domain)
        if found is None:
            raise FleetError(404, f"no app has registered the domain {domain}")
        app, key = found
        self.security(vin).pair(key)
        return app
