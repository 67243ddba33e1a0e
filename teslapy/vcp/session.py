"""Signed-command sessions with a car: handshake, signing, replies and resynchronisation.

Each domain of a car (vehicle security and infotainment) has its own key, epoch, clock
and counter, so each needs its own :class:`DomainSession`. A session is transport
agnostic: it builds ``RoutableMessage`` bytes and reads the bytes the car answers; the
caller moves them (the Fleet API's ``signed_command`` carries them base64-encoded).

:meth:`DomainSession.run` does a whole exchange under the session's lock, one command
per car and domain at a time (vehicle security needs counters in order)::

    session = DomainSession(private_key, vin, Domain.INFOTAINMENT)
    reply = session.run(payload, send)      # send(request: bytes) -> reply bytes

Rules kept (Tesla's protocol description, "Recovering from synchronization errors"):

* Session info is trusted only with a valid tag, answering a request made less than
  ``max_latency`` seconds ago, and with a clock that did not run backwards in its epoch.
* The counter never goes back unless the epoch changes; each command uses the next one.
* A command expires ``lifetime`` seconds after it is signed, on the car's clock.
* Commands are HMAC-SHA256 signed (the Fleet API refuses encrypted ones) and ask the
  car to encrypt its answer; encrypted answers are checked against the request and
  each reply counter is accepted once.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Set, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec

from teslapy.vcp import crypto
from teslapy.vcp.carserver import Response
from teslapy.vcp.errors import (DecodeError, KeyNotPairedError, ResponseAuthenticationError,
                                SessionOutOfSyncError, SignedCommandError, VehicleBusyError)
from teslapy.vcp.faults import PAIR_HINT, fault_error, read_result
from teslapy.vcp.messages import (Destination, Domain, Flag, HmacPersonalizedSignatureData,
                                  KeyIdentity, OperationStatus, RoutableMessage,
                                  SessionInfo, SessionInfoRequest, SessionInfoStatus,
                                  SignatureData, SignatureType)
from teslapy.vcp.metadata import request_hash, request_metadata, response_metadata
from teslapy.vcp.vcsec import FromVCSECMessage

logger = logging.getLogger(__name__)

#: Seconds a signed command stays valid on the car's clock.
DEFAULT_LIFETIME = 10.0
#: Seconds within which a handshake answer must arrive to be trusted.
MAX_LATENCY = 10.0
COUNTER_LIMIT = 0xFFFFFFFF
UUID_LENGTH = 16
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}\Z")

Transport = Callable[[bytes], bytes]


@dataclass
class Request:
    """A message on its way to the car and what is needed to read the answer."""

    data: bytes                       # the serialized RoutableMessage
    uuid: bytes
    created_at: float                 # on the session's local clock
    request_hash: bytes = b""         # empty for handshakes
    seen_counters: Set[int] = field(default_factory=set)


class DomainSession:
    """The session with one domain of one car.

    Parameters:
        private_key: the command key (P-256) the car has paired.
        vin: the car's VIN; signatures are bound to it.
        domain: ``Domain.VEHICLE_SECURITY`` or ``Domain.INFOTAINMENT``.
        clock: (optional) local seconds, ``time.monotonic`` by default.
        lifetime: (optional) seconds a command stays valid, default 10.
        max_latency: (optional) seconds a handshake answer may take, default 10.

    The lower-level steps (:meth:`handshake_request`, :meth:`accept_handshake`,
    :meth:`sign`, :meth:`read_reply`) do not lock; hold :attr:`lock` when calling them
    from several threads, or use :meth:`run`.

    Raises:
        ValueError: the VIN or domain is not valid.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, vin: str, domain: int, *,
                 clock: Callable[[], float] = time.monotonic,
                 lifetime: float = DEFAULT_LIFETIME, max_latency: float = MAX_LATENCY) -> None:
        if not isinstance(vin, str) or not _VIN.match(vin):
            raise ValueError(f"not a VIN (17 letters and digits, no I, O or Q): {vin!r}")
        if domain not in (Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT):
            raise ValueError(f"domain must be VEHICLE_SECURITY or INFOTAINMENT, not {domain}")
        self.private_key = private_key
        self.public_key = crypto.encode_public_key(private_key.public_key())
        self.vin = vin
        self.domain = Domain(domain)
        self.clock = clock
        self.lifetime = lifetime
        self.max_latency = max_latency
        self.lock = threading.Lock()
        self._routing_address = os.urandom(UUID_LENGTH)
        self._forget()

    def __repr__(self) -> str:
        state = f"counter {self._counter}" if self.established else "no session"
        return f"<DomainSession {self.vin} {self.domain.name}: {state}>"

    def _forget(self) -> None:
        self._key: Optional[bytes] = None
        self._vehicle_key = b""
        self._epoch = b""
        self._counter = 0
        self._clock_time = 0
        self._time_zero = 0.0

    @property
    def established(self) -> bool:
        """Whether the session can sign (a handshake was accepted and counters remain)."""
        return self._key is not None and self._counter < COUNTER_LIMIT

    @property
    def counter(self) -> int:
        """The counter of the last signed command (or of the car's session info)."""
        return self._counter

    @property
    def epoch(self) -> bytes:
        return self._epoch

    def vehicle_time(self) -> int:
        """Now on the car's clock for this domain (seconds since its epoch began)."""
        return int(self.clock() - self._time_zero)

    # -- messages to the car ----------------------------------------------------

    def _envelope(self, uuid: bytes, **payload: Any) -> RoutableMessage:
        return RoutableMessage(
            to_destination=Destination(domain=int(self.domain)),
            from_destination=Destination(routing_address=self._routing_address),
            uuid=uuid, **payload)

    def handshake_request(self) -> Request:
        """A session info request for this domain, carrying our public key."""
        uuid = os.urandom(UUID_LENGTH)
        message = self._envelope(
            uuid, session_info_request=SessionInfoRequest(public_key=self.public_key))
        return Request(message.encode(), uuid, self.clock())

    def sign(self, payload: bytes) -> Request:
        """A command carrying ``payload`` (protobuf bytes), HMAC-signed with the next counter.

        Raises:
            ValueError: there is no session (run the handshake first).
        """
        if not self.established:
            raise ValueError("no session with the car; run the handshake first")
        key = self._session_key()
        self._counter += 1
        expires_at = int(self.clock() + self.lifetime - self._time_zero)
        flags = 1 << Flag.ENCRYPT_RESPONSE
        metadata = request_metadata(SignatureType.HMAC_PERSONALIZED, self.domain, self.vin,
                                    self._epoch, expires_at, self._counter, flags)
        tag = crypto.hmac_command_tag(key, metadata, payload)
        uuid = os.urandom(UUID_LENGTH)
        message = self._envelope(
            uuid, protobuf_message_as_bytes=payload, flags=flags,
            signature_data=SignatureData(
                signer_identity=KeyIdentity(public_key=self.public_key),
                hmac_personalized_data=HmacPersonalizedSignatureData(
                    epoch=self._epoch, counter=self._counter, expires_at=expires_at,
                    tag=tag)))
        return Request(message.encode(), uuid, self.clock(),
                       request_hash(SignatureType.HMAC_PERSONALIZED, tag, self.domain))

    # -- messages from the car --------------------------------------------------

    def _parse(self, request: Request, data: bytes) -> RoutableMessage:
        try:
            reply = RoutableMessage.decode(data)
        except DecodeError as exc:
            raise ResponseAuthenticationError(f"The car's reply is not a valid message: {exc}") \
                from exc
        if reply.request_uuid and reply.request_uuid != request.uuid:
            raise ResponseAuthenticationError("The reply answers another request.")
        if reply.source_domain not in (None, self.domain):
            raise ResponseAuthenticationError("The reply comes from another domain of the car.")
        return reply

    def accept_handshake(self, request: Request, data: bytes) -> None:
        """Start the session from the car's answer to :meth:`handshake_request`.

        Raises:
            KeyNotPairedError: the car does not have our key on its list.
            ResponseAuthenticationError: the answer is late, malformed or its tag is wrong.
            SignedCommandError: the car answered with a fault (a subclass says which).
        """
        reply = self._parse(request, data)
        if reply.session_info is None:
            raise self._fault(reply) or ResponseAuthenticationError(
                "The car's reply to the handshake holds no session info.")
        info = self._authenticate(request, reply, reply.session_info)
        if info is None:
            raise ResponseAuthenticationError("The car's session info is older than the "
                                              "session's; it was not used.")
        logger.debug("session with %s %s: epoch %s, counter %d", self.vin, self.domain.name,
                     self._epoch.hex(), self._counter)

    def read_reply(self, request: Request, data: bytes) -> bytes:
        """The application payload of the car's answer to a signed ``request``.

        Session info in the answer (sent with a synchronisation fault) is checked and
        applied before the fault is raised.

        Raises:
            SessionOutOfSyncError: the car refused the epoch, counter, clock or signature;
                it did not run the command. ``resynced`` tells whether fresh session
                info was applied.
            ResponseAuthenticationError: the answer is malformed, replayed, meant for
                another request, or does not decrypt.
            SignedCommandError: any other fault (a subclass says which).
        """
        reply = self._parse(request, data)
        resynced = False
        if reply.session_info is not None:
            resynced = self._authenticate(request, reply, reply.session_info) is not None
        error = self._fault(reply)
        if error is not None:
            if isinstance(error, SessionOutOfSyncError):
                error.resynced = resynced
            raise error
        gcm = reply.signature_data.aes_gcm_response_data if reply.signature_data else None
        payload = reply.protobuf_message_as_bytes or b""
        if gcm is None:
            return payload
        if gcm.counter in request.seen_counters:
            raise ResponseAuthenticationError("The car's reply was replayed: its counter "
                                              "was already used for this request.")
        source = reply.source_domain if reply.source_domain is not None else 0
        metadata = response_metadata(source, self.vin, gcm.counter, reply.flags,
                                     request.request_hash, reply.fault)
        try:
            plaintext = crypto.gcm_decrypt(self._session_key(), metadata, gcm.nonce, payload,
                                           gcm.tag)
        except (InvalidTag, ValueError):
            raise ResponseAuthenticationError("The car's encrypted reply failed "
                                              "authentication; it was ignored.") from None
        request.seen_counters.add(gcm.counter)
        return plaintext

    def _session_key(self) -> bytes:
        if self._key is None:
            raise ValueError("no session with the car; run the handshake first")
        return self._key

    def _fault(self, reply: RoutableMessage) -> Optional[SignedCommandError]:
        status = reply.signed_message_status
        if status is None:
            return None
        if status.signed_message_fault:
            return fault_error(status.signed_message_fault)
        if status.operation_status == OperationStatus.WAIT:
            return VehicleBusyError("The car asked to wait. The command did not run; try "
                                    "again in a few seconds.")
        if status.operation_status == OperationStatus.ERROR:
            return SignedCommandError("The car reported an error without saying which.")
        return None

    def _authenticate(self, request: Request, reply: RoutableMessage,
                      encoded: bytes) -> Optional[SessionInfo]:
        """Check the session info ``encoded`` in ``reply``, apply it; None when it is stale."""
        if self.clock() - request.created_at > self.max_latency:
            raise ResponseAuthenticationError(
                f"The car's session info came more than {self.max_latency:g} s after the "
                "request; it was not trusted.")
        signature = reply.signature_data
        tag = signature.session_info_tag.tag if signature and signature.session_info_tag \
            else b""
        try:
            info = SessionInfo.decode(encoded)
            key = crypto.shared_key(self.private_key, info.public_key)
        except (DecodeError, ValueError) as exc:
            raise ResponseAuthenticationError(f"The car's session info is not valid: {exc}") \
                from exc
        expected = crypto.session_info_tag(key, self.vin, request.uuid, encoded)
        if not crypto.tags_equal(expected, tag):
            raise ResponseAuthenticationError("The car's session info failed authentication "
                                              "(wrong tag); it was ignored.")
        if info.status == SessionInfoStatus.KEY_NOT_ON_WHITELIST:
            raise KeyNotPairedError("The car does not know this command key. " + PAIR_HINT)
        return self._apply(info, key)

    def _apply(self, info: SessionInfo, key: bytes) -> Optional[SessionInfo]:
        now = self.clock()
        if info.epoch == self._epoch and info.public_key == self._vehicle_key:
            if info.clock_time < self._clock_time:
                logger.debug("ignored session info whose clock went backwards")
                return None
            self._counter = max(self._counter, info.counter)
        else:
            self._counter = info.counter
            self._epoch = info.epoch
            self._vehicle_key = info.public_key
            self._key = key
        self._clock_time = info.clock_time
        self._time_zero = now - info.clock_time
        return info

    # -- a whole exchange ---------------------------------------------------------

    def handshake(self, send: Transport) -> None:
        """Run a handshake over ``send``, replacing any session.

        Raises: as :meth:`accept_handshake`, plus whatever ``send`` raises.
        """
        request = self.handshake_request()
        self._forget()
        self.accept_handshake(request, send(request.data))

    def run(self, payload: bytes, send: Transport) -> Union[Response, FromVCSECMessage]:
        """Sign ``payload``, send it, and return the car's checked reply.

        Holds :attr:`lock` throughout. Starts with a handshake when there is no session.
        If the car refuses the message as out of sync (stale epoch or counter, expired,
        or a signature from an older session), it did not run the command, so the
        command is signed again with the refreshed session (or after a new handshake)
        and sent once more; a second refusal raises.

        Raises:
            SessionOutOfSyncError: refused again after one resynchronisation.
            SignedCommandError: a subclass saying why the car did not run the command
                (:class:`~teslapy.vcp.errors.KeyNotPairedError`,
                :class:`~teslapy.vcp.errors.MobileAccessDisabledError`,
                :class:`~teslapy.vcp.errors.VehicleBusyError`,
                :class:`~teslapy.vcp.errors.CommandRefusedError`, ...).
            Whatever ``send`` raises (transport errors pass through).
        """
        with self.lock:
            try:
                return self._exchange(payload, send)
            except SessionOutOfSyncError as exc:
                # The car refused the message while authenticating it, before running it,
                # so sending the command once more, signed with the refreshed session,
                # cannot make it run twice.
                logger.info("%s %s refused the session (%s); signing again", self.vin,
                            self.domain.name, exc)
                if not exc.resynced:
                    self._forget()
            return self._exchange(payload, send)

    def _exchange(self, payload: bytes, send: Transport) -> Union[Response, FromVCSECMessage]:
        if not self.established:
            self.handshake(send)
        request = self.sign(payload)
        return read_result(self.domain, self.read_reply(request, send(request.data)))


class VehicleSessions:
    """The sessions with one car: one per domain, each with its own lock.

    Parameters:
        private_key, vin, clock, lifetime: as for :class:`DomainSession`.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, vin: str, *,
                 clock: Callable[[], float] = time.monotonic,
                 lifetime: float = DEFAULT_LIFETIME) -> None:
        self._sessions = {
            domain: DomainSession(private_key, vin, domain, clock=clock, lifetime=lifetime)
            for domain in (Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT)}
        self.vin = vin

    def __getitem__(self, domain: int) -> DomainSession:
        return self._sessions[Domain(domain)]

    def run(self, domain: int, payload: bytes,
            send: Transport) -> Union[Response, FromVCSECMessage]:
        """Send ``payload`` to ``domain`` with :meth:`DomainSession.run`."""
        return self[domain].run(payload, send)
