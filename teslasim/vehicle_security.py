"""The simulated car's side of the Vehicle Command Protocol: keys, sessions and checks.

A :class:`VehicleSecurity` is one car. Each of its domains (vehicle security and
infotainment) has its own P-256 key pair, epoch, clock and, per client key, counter.
It answers handshakes with signed session info and checks signed commands as a car
does, in this order, answering a refusal with the protocol's fault code:

=====================================================  ===============================
check                                                  fault
=====================================================  ===============================
the message decodes                                    DECODING (10)
addressed to a domain the car has                      INVALID_DOMAINS (8)
signed, with the signer's public key                   BAD_PARAMETER (13)
the key is paired                                      UNKNOWN_KEY_ID (3)
Mobile Access is on                                    REMOTE_ACCESS_DISABLED (21)
the domain is not busy                                 BUSY (1)
HMAC or AES-GCM personalized, 12-byte nonce            BAD_PARAMETER / IV_INCORRECT_LENGTH
the epoch is the domain's                              INCORRECT_EPOCH (15) *
not expired                                            TIME_EXPIRED (17) *
expiry within the epoch (below 2**30 s)                BAD_PARAMETER (13) *
a counter at or below the last one expires within 30s  TIME_TO_LIVE_TOO_LONG (20) *
the tag matches (VIN, domain, epoch, expiry, counter,  INVALID_SIGNATURE (5) *
flags and payload)
the counter is new: above the last for vehicle         INVALID_TOKEN_OR_COUNTER (6) *
security, or unused within the last 32 for infotainment
the payload decodes (``UnsignedMessage`` / ``Action``)  DECODING (10)
=====================================================  ===============================

Faults marked * carry fresh signed session info, so the client can resynchronise.

:meth:`VehicleSecurity.handle` returns a :class:`CarAnswer`: either the answer is ready
(handshake, fault), or ``command`` holds the decoded payload for the caller to apply
before calling :meth:`CarAnswer.reply` with the outcome. Answers to commands that set
the encrypt-response flag are AES-GCM encrypted. Pure logic: no routes, no I/O.

The checks follow Tesla's protocol description and its Go verifier (vehicle-command,
Apache-2.0); the message codec and cryptographic primitives are teslapy's, which the
tests verify against Tesla's published vectors.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec

from teslapy.vcp import crypto
from teslapy.vcp.carserver import Action, ActionResult, ActionStatus, Response, ResultReason
from teslapy.vcp.errors import DecodeError
from teslapy.vcp.messages import (AesGcmPersonalizedSignatureData, AesGcmResponseSignatureData,
                                  Destination, Domain, Flag, HmacPersonalizedSignatureData,
                                  HmacSignatureData, MessageFault, MessageStatus,
                                  OperationStatus, RoutableMessage, SessionInfo,
                                  SessionInfoStatus, SignatureData, SignatureType)
from teslapy.vcp.metadata import request_hash, request_metadata, response_metadata
from teslapy.vcp.vcsec import FromVCSECMessage, GenericError, NominalError, Role, UnsignedMessage

EPOCH_LENGTH = 2**30            # seconds; expiry times beyond are malformed
MAX_SECONDS_WITHOUT_COUNTER = 30
WINDOW_SIZE = 32                # infotainment accepts this many out-of-order counters
EPOCH_BYTES = 16

Command = Union[UnsignedMessage, Action]


class Refusal(Exception):
    """A fault the car answers with; ``resync`` adds fresh session info to the answer."""

    def __init__(self, fault: MessageFault, resync: bool = False) -> None:
        super().__init__(fault.name)
        self.fault = fault
        self.resync = resync


@dataclass
class ClientState:
    """What one domain remembers about one client key."""

    shared_key: bytes
    counter: int = 0
    window: int = 0             # bit n set: counter - 1 - n was used


class DomainVerifier:
    """One domain of the car: its key pair, epoch, clock and client counters."""

    def __init__(self, vin: str, domain: Domain, now: Callable[[], float],
                 private_key: Optional[ec.EllipticCurvePrivateKey] = None) -> None:
        self.vin = vin
        self.domain = domain
        self.now = now
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.public_key = crypto.encode_public_key(self.private_key.public_key())
        self.clients: Dict[bytes, ClientState] = {}
        self.reply_counter = itertools.count(1)
        self.busy = False
        self.restart()

    def restart(self) -> None:
        """Begin a new epoch, as at boot: clock back to 0, every client's counter too."""
        self.epoch = os.urandom(EPOCH_BYTES)
        self.time_zero = self.now()
        self.clients.clear()

    def timestamp(self) -> int:
        """Seconds since the epoch began (the domain's clock)."""
        return int(self.now() - self.time_zero)

    def client(self, public_key: bytes) -> ClientState:
        """The state kept for ``public_key`` (raises ValueError for an invalid key)."""
        state = self.clients.get(public_key)
        if state is None:
            state = ClientState(crypto.shared_key(self.private_key, public_key))
            self.clients[public_key] = state
        return state

    def signed_session_info(self, client: ClientState, challenge: bytes,
                            status: int = SessionInfoStatus.OK) -> Tuple[bytes, bytes]:
        """The encoded session info for ``client`` and its tag for ``challenge``."""
        encoded = SessionInfo(counter=client.counter, public_key=self.public_key,
                              epoch=self.epoch, clock_time=self.timestamp(),
                              status=status).encode()
        return encoded, crypto.session_info_tag(client.shared_key, self.vin, challenge,
                                                encoded)

    def check_time(self, client: ClientState, epoch: bytes, expires_at: int,
                   counter: int) -> None:
        """Refuse a wrong epoch, an expired or malformed expiry, or a long-lived old counter."""
        now = self.timestamp()
        if epoch and epoch != self.epoch:
            raise Refusal(MessageFault.INCORRECT_EPOCH, resync=True)
        if expires_at and expires_at < now:
            raise Refusal(MessageFault.TIME_EXPIRED, resync=True)
        if expires_at > EPOCH_LENGTH:
            raise Refusal(MessageFault.BAD_PARAMETER, resync=True)
        if (counter == 0 or counter < client.counter) \
                and (expires_at == 0 or expires_at - now > MAX_SECONDS_WITHOUT_COUNTER):
            raise Refusal(MessageFault.TIME_TO_LIVE_TOO_LONG, resync=True)

    def use_counter(self, client: ClientState, counter: int) -> None:
        """Record ``counter`` as used, or refuse it as replayed or out of order."""
        if counter == 0:
            return
        if counter > client.counter:
            shift = counter - client.counter
            client.window = ((client.window << shift) | (1 << (shift - 1))) \
                & ((1 << WINDOW_SIZE) - 1)
            client.counter = counter
            return
        age = client.counter - counter
        if self.domain == Domain.VEHICLE_SECURITY or age == 0 or age > WINDOW_SIZE \
                or client.window >> (age - 1) & 1:
            raise Refusal(MessageFault.INVALID_TOKEN_OR_COUNTER, resync=True)
        client.window |= 1 << (age - 1)


class CarAnswer:
    """The car's answer to one message; for an accepted command, ``command`` is set.

    ``command`` is the decoded payload (``UnsignedMessage`` for vehicle security,
    ``Action`` for infotainment); apply it, then call :meth:`reply` with the outcome.
    For handshakes and refusals :meth:`reply` returns the prepared answer.
    """

    def __init__(self, response: bytes = b"", command: Optional[Command] = None,
                 build: Optional[Callable[[bool, str], bytes]] = None,
                 fault: int = MessageFault.NONE, domain: Optional[int] = None,
                 signer: bytes = b"") -> None:
        self._response = response
        self._build = build
        self.command = command
        self.fault = fault
        self.domain = domain
        self.signer = signer

    def reply(self, ok: bool = True, reason: str = "") -> bytes:
        """The bytes the car sends back (``ok``/``reason`` only matter for commands)."""
        return self._build(ok, reason) if self._build is not None else self._response


class VehicleSecurity:
    """One simulated car's protocol endpoint.

    Parameters:
        vin: the car's VIN, the personalisation of every signature.
        now: (optional) the clock in seconds, ``time.time`` by default (pass the
            world's clock to move time in tests).
        keys: (optional) private keys per domain; random ones by default.

    ``mobile_access`` false refuses every command with REMOTE_ACCESS_DISABLED; a
    domain's ``busy`` refuses its commands with BUSY.
    """

    def __init__(self, vin: str, now: Callable[[], float] = time.time,
                 keys: Optional[Dict[int, ec.EllipticCurvePrivateKey]] = None) -> None:
        keys = keys or {}
        self.vin = vin
        self.domains: Dict[int, DomainVerifier] = {
            domain: DomainVerifier(vin, domain, now, keys.get(domain))
            for domain in (Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT)}
        self.paired: Dict[bytes, int] = {}
        self.mobile_access = True
        self.lock = threading.Lock()

    def pair(self, public_key: bytes, role: int = Role.OWNER) -> None:
        """Add a client key (65-byte uncompressed point) to the car's list.

        Raises:
            ValueError: ``public_key`` is not a P-256 public key.
        """
        crypto.decode_public_key(public_key)
        self.paired[bytes(public_key)] = role

    def unpair(self, public_key: bytes) -> None:
        """Remove a client key from the car's list (nothing happens if it is not there)."""
        self.paired.pop(bytes(public_key), None)

    def handle(self, data: bytes) -> CarAnswer:
        """The car's answer to the serialized ``RoutableMessage`` ``data``."""
        with self.lock:
            try:
                message = RoutableMessage.decode(data)
            except DecodeError:
                return self._refusal(RoutableMessage(), None, MessageFault.DECODING)
            domain = message.destination_domain
            verifier = self.domains.get(domain) if domain is not None else None
            if verifier is None:
                return self._refusal(message, None, MessageFault.INVALID_DOMAINS)
            try:
                if message.session_info_request is not None:
                    return self._handshake(message, verifier,
                                           message.session_info_request.public_key)
                return self._command(message, verifier)
            except Refusal as refusal:
                return self._refusal(message, verifier, refusal.fault, refusal.resync)

    # -- answers ----------------------------------------------------------------------

    def _envelope(self, request: RoutableMessage, verifier: Optional[DomainVerifier],
                  **fields) -> RoutableMessage:
        answer = RoutableMessage(to_destination=request.from_destination,
                                 from_destination=Destination(domain=int(verifier.domain))
                                 if verifier else None, **fields)
        # vehicle security has too little memory to echo the request's uuid
        if verifier is None or verifier.domain == Domain.INFOTAINMENT:
            answer.request_uuid = request.uuid
        return answer

    def _with_session_info(self, answer: RoutableMessage, verifier: DomainVerifier,
                           client: ClientState, challenge: bytes,
                           status: int = SessionInfoStatus.OK) -> RoutableMessage:
        info, tag = verifier.signed_session_info(client, challenge, status)
        answer.session_info = info
        answer.signature_data = SignatureData(session_info_tag=HmacSignatureData(tag=tag))
        return answer

    def _refusal(self, request: RoutableMessage, verifier: Optional[DomainVerifier],
                 fault: MessageFault, resync: bool = False) -> CarAnswer:
        answer = self._envelope(request, verifier, signed_message_status=MessageStatus(
            operation_status=OperationStatus.ERROR, signed_message_fault=fault))
        if resync and verifier is not None:
            client = verifier.client(self._signer(request))
            self._with_session_info(answer, verifier, client, request.uuid)
        return CarAnswer(answer.encode(), fault=fault,
                         domain=verifier.domain if verifier else None)

    def _handshake(self, request: RoutableMessage, verifier: DomainVerifier,
                   public_key: bytes) -> CarAnswer:
        try:
            client = verifier.client(public_key)
        except ValueError:
            raise Refusal(MessageFault.BAD_PARAMETER) from None
        status = SessionInfoStatus.OK if public_key in self.paired \
            else SessionInfoStatus.KEY_NOT_ON_WHITELIST
        answer = self._with_session_info(self._envelope(request, verifier), verifier, client,
                                         request.uuid, status)
        return CarAnswer(answer.encode(), domain=verifier.domain, signer=public_key)

    # -- commands ---------------------------------------------------------------------

    @staticmethod
    def _signer(message: RoutableMessage) -> bytes:
        signature = message.signature_data
        identity = signature.signer_identity if signature else None
        if identity is None or not identity.public_key:
            raise Refusal(MessageFault.BAD_PARAMETER)
        return identity.public_key

    def _command(self, message: RoutableMessage, verifier: DomainVerifier) -> CarAnswer:
        signer = self._signer(message)
        if signer not in self.paired:
            raise Refusal(MessageFault.UNKNOWN_KEY_ID)
        if not self.mobile_access:
            raise Refusal(MessageFault.REMOTE_ACCESS_DISABLED)
        if verifier.busy:
            raise Refusal(MessageFault.BUSY)
        client = verifier.client(signer)
        payload, tag, signature_type = self._verify(message, verifier, client)
        try:
            command: Command = (UnsignedMessage if verifier.domain == Domain.VEHICLE_SECURITY
                                else Action).decode(payload)
        except DecodeError:
            raise Refusal(MessageFault.DECODING) from None
        hashed = request_hash(signature_type, tag, verifier.domain)

        def build(ok: bool, reason: str) -> bytes:
            return self._command_answer(message, verifier, client, hashed, ok, reason)

        return CarAnswer(command=command, build=build, domain=verifier.domain, signer=signer)

    def _verify(self, message: RoutableMessage, verifier: DomainVerifier,
                client: ClientState) -> Tuple[bytes, bytes, int]:
        """The plaintext payload, the request's tag and signature type, once all checks pass."""
        signature = message.signature_data or SignatureData()
        hmac_data, gcm_data = signature.hmac_personalized_data, \
            signature.aes_gcm_personalized_data
        data: Union[HmacPersonalizedSignatureData, AesGcmPersonalizedSignatureData, None] = \
            hmac_data or gcm_data
        payload = message.protobuf_message_as_bytes
        if data is None or payload is None:
            raise Refusal(MessageFault.BAD_PARAMETER)
        if gcm_data is not None and len(gcm_data.nonce) != crypto.NONCE_LENGTH:
            raise Refusal(MessageFault.IV_INCORRECT_LENGTH)
        verifier.check_time(client, data.epoch, data.expires_at, data.counter)
        signature_type = SignatureType.HMAC_PERSONALIZED if hmac_data is not None \
            else SignatureType.AES_GCM_PERSONALIZED
        metadata = request_metadata(signature_type, verifier.domain, self.vin, verifier.epoch,
                                    data.expires_at, data.counter, message.flags)
        if hmac_data is not None:
            expected = crypto.hmac_command_tag(client.shared_key, metadata, payload)
            if not crypto.tags_equal(expected, hmac_data.tag):
                raise Refusal(MessageFault.INVALID_SIGNATURE, resync=True)
        elif gcm_data is not None:
            try:
                payload = crypto.gcm_decrypt(client.shared_key, metadata, gcm_data.nonce,
                                             payload, gcm_data.tag)
            except (InvalidTag, ValueError):
                raise Refusal(MessageFault.INVALID_SIGNATURE, resync=True) from None
        verifier.use_counter(client, data.counter)
        return payload, data.tag, signature_type

    def _command_answer(self, request: RoutableMessage, verifier: DomainVerifier,
                        client: ClientState, hashed: bytes, ok: bool, reason: str) -> bytes:
        if verifier.domain == Domain.INFOTAINMENT:
            status = ActionStatus(result=ActionResult.OK if ok else ActionResult.ERROR,
                                  result_reason=None if ok or not reason
                                  else ResultReason(plain_text=reason))
            payload = Response(action_status=status).encode()
        else:
            payload = FromVCSECMessage(nominal_error=None if ok else NominalError(
                generic_error=GenericError.UNKNOWN)).encode()
        answer = self._envelope(request, verifier, protobuf_message_as_bytes=payload)
        if request.flags & (1 << Flag.ENCRYPT_RESPONSE):
            counter = next(verifier.reply_counter)
            metadata = response_metadata(verifier.domain, self.vin, counter, answer.flags,
                                         hashed, answer.fault)
            nonce, ciphertext, tag = crypto.gcm_encrypt(client.shared_key, metadata, payload)
            answer.protobuf_message_as_bytes = ciphertext
            answer.signature_data = SignatureData(
                aes_gcm_response_data=AesGcmResponseSignatureData(nonce=nonce,
                                                                  counter=counter, tag=tag))
        return answer.encode()
