"""Commands signed with the Vehicle Command Protocol and carried by the Fleet API.

:class:`CommandSigner` turns ``Vehicle.command`` calls into ``signed_command``
messages for cars that need them: the command becomes a protocol payload
(:func:`teslapy.vcp.build_command`), a :class:`~teslapy.vcp.VehicleSessions` per car
does the handshake and signing (one command per car and domain at a time), and the
message travels base64-encoded as ``POST api/1/vehicles/{vin}/signed_command``.
A car that answers 422 there does not take the protocol and gets REST commands.
"""
from __future__ import annotations

import base64
import binascii
import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Set

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from teslapy import endpoints
from teslapy._types import JsonDict
from teslapy.errors import ResponseError
from teslapy.vcp import (SIGNED_COMMANDS, CommandRefusedError, KeyNotPairedError,
                         VehicleSessions, build_command)

if TYPE_CHECKING:  # pragma: no cover
    from teslapy.fleet.session import TeslaFleet
    from teslapy.vehicle import Vehicle

logger = logging.getLogger(__name__)

SIGNED_COMMAND_PATH = "api/1/vehicles/{vin}/signed_command"
#: What the Fleet API answers on ``signed_command`` for a car without the protocol.
NOT_SUPPORTED_STATUS = 422


class CommandSigner:
    """Signs and sends the commands of one :class:`TeslaFleet` session's cars.

    Parameters:
        tesla: the session that carries the messages (its requests, tokens, region).
        private_key: the command key the cars have paired.
    """

    def __init__(self, tesla: "TeslaFleet", private_key: ec.EllipticCurvePrivateKey) -> None:
        self.tesla = tesla
        self.private_key = private_key
        self._sessions: Dict[str, VehicleSessions] = {}
        self._rest_only: Set[str] = set()
        self._lock = threading.Lock()

    def send(self, vehicle: "Vehicle", name: str, params: Mapping[str, Any]) -> Optional[JsonDict]:
        """Run command ``name`` signed; the reply as REST gives it, or None to send it as REST.

        None for commands the protocol does not carry (navigation, calendar, ...) and
        for cars that do not take signed commands.

        Raises:
            KeyNotPairedError: the car does not know the key; the message says how to
                pair it.
            CommandRefusedError: the car declined; its text is the reason, as for REST.
            teslapy.vcp.SignedCommandError: another reason the car did not run it.
            ValueError: a parameter is missing or malformed.
            requests.HTTPError: the Fleet API refused the request.
        """
        vin = vehicle.get("vin")
        if name not in SIGNED_COMMANDS or not isinstance(vin, str) or vin in self._rest_only:
            return None
        domain, payload = build_command(name, params)
        try:
            self._sessions_of(vin).run(domain, payload, self._transport(vin))
        except requests.HTTPError as error:
            if error.response is None or error.response.status_code != NOT_SUPPORTED_STATUS:
                raise
            logger.info("%s does not take signed commands; sending REST commands", vin)
            with self._lock:
                self._rest_only.add(vin)
            return None
        except KeyNotPairedError as error:
            raise KeyNotPairedError(self._pairing_help(vehicle), fault=error.fault) from error
        except CommandRefusedError as error:
            reason = error.reason or str(error)
            raise CommandRefusedError(reason, reason=reason, fault=error.fault) from error
        return JsonDict({"response": JsonDict({"result": True, "reason": ""})})

    def _sessions_of(self, vin: str) -> VehicleSessions:
        with self._lock:
            sessions = self._sessions.get(vin)
            if sessions is None:
                sessions = self._sessions[vin] = VehicleSessions(self.private_key, vin)
            return sessions

    def _transport(self, vin: str) -> Callable[[bytes], bytes]:
        """Send one message to the car ``vin`` through the Fleet API; returns the car's answer."""
        path = SIGNED_COMMAND_PATH.format(
            vin=endpoints.path_segment("signed_command", "vin", vin))

        def send(message: bytes) -> bytes:
            reply = self.tesla.request(
                "POST", path, json={"routable_message": base64.b64encode(message).decode("ascii")})
            encoded = reply.get("response") if isinstance(reply, dict) else None
            if not isinstance(encoded, str):
                raise ResponseError(f"signed_command gave no message: {str(reply)[:200]!r}")
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise ResponseError("signed_command gave a message that is not base64") \
                    from None
        return send

    def _pairing_help(self, vehicle: "Vehicle") -> str:
        name = vehicle.get("display_name") or vehicle.get("vin")
        try:
            where = f"opens {self.tesla.pairing_link()}"
        except ValueError:
            where = "opens https://tesla.com/_ak/<your app's domain>"
        return (f"{name} does not know this app's command key. Pair it: the car's owner "
                f"{where} on the phone with the Tesla app, chooses the car and approves "
                "the key, then try again.")
