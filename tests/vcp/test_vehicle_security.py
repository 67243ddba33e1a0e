"""The simulated car's checks, message by message, and its answers to anything at all."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teslapy.vcp import crypto
from teslapy.vcp.carserver import Action
from teslapy.vcp.commands import build_command
from teslapy.vcp.keys import generate_private_key, public_key_bytes
from teslapy.vcp.messages import (AesGcmPersonalizedSignatureData, Destination, Domain,
                                  KeyIdentity, MessageFault, RoutableMessage,
                                  SessionInfoRequest, SignatureData, SignatureType)
from teslapy.vcp.metadata import request_metadata
from teslapy.vcp.session import DomainSession
from teslasim.state import Clock
from teslasim.vehicle_security import VehicleSecurity

VIN = "5YJ3E111111111111"
HONK = build_command("HONK_HORN", {})[1]
LOCK = build_command("LOCK", {})[1]


def fault(car: VehicleSecurity, data: bytes) -> int:
    answer = car.handle(data)
    assert RoutableMessage.decode(answer.reply()).fault == answer.fault
    return answer.fault


def ready(car, client_key, domain=Domain.INFOTAINMENT) -> DomainSession:
    domain_session = DomainSession(client_key, VIN, domain)
    domain_session.handshake(lambda data: car.handle(data).reply())
    return domain_session


def test_unsigned_command_is_refused(car):
    message = RoutableMessage(to_destination=Destination(domain=Domain.INFOTAINMENT),
                              protobuf_message_as_bytes=HONK)
    assert fault(car, message.encode()) == MessageFault.BAD_PARAMETER


def test_message_to_no_domain_is_refused(car):
    assert fault(car, RoutableMessage(protobuf_message_as_bytes=HONK).encode()) == \
        MessageFault.INVALID_DOMAINS
    assert fault(car, RoutableMessage(to_destination=Destination(domain=Domain.BROADCAST))
                 .encode()) == MessageFault.INVALID_DOMAINS


def test_handshake_with_an_invalid_public_key_is_refused(car):
    message = RoutableMessage(to_destination=Destination(domain=Domain.INFOTAINMENT),
                              session_info_request=SessionInfoRequest(public_key=b"\x04" * 65))
    assert fault(car, message.encode()) == MessageFault.BAD_PARAMETER


def test_infotainment_accepts_counters_out_of_order_once(car, client_key):
    domain_session = ready(car, client_key)
    first, second = domain_session.sign(HONK), domain_session.sign(HONK)
    assert [fault(car, second.data), fault(car, first.data), fault(car, first.data)] == \
        [0, 0, MessageFault.INVALID_TOKEN_OR_COUNTER]


def test_vehicle_security_needs_counters_in_order(car, client_key):
    domain_session = ready(car, client_key, Domain.VEHICLE_SECURITY)
    first, second = domain_session.sign(LOCK), domain_session.sign(LOCK)
    assert [fault(car, second.data), fault(car, first.data)] == \
        [0, MessageFault.INVALID_TOKEN_OR_COUNTER]


def test_counters_older_than_the_window_are_refused(car, client_key):
    domain_session = ready(car, client_key)
    old = domain_session.sign(HONK)
    newer = [domain_session.sign(HONK) for _ in range(33)]
    assert fault(car, newer[-1].data) == 0
    assert fault(car, old.data) == MessageFault.INVALID_TOKEN_OR_COUNTER
    assert fault(car, newer[0].data) == 0


def gcm_command(car, client_key, nonce_length=12, expires_at=None, counter=1) -> bytes:
    verifier = car.domains[Domain.INFOTAINMENT]
    key = crypto.shared_key(client_key, verifier.public_key)
    expires_at = verifier.timestamp() + 5 if expires_at is None else expires_at
    metadata = request_metadata(SignatureType.AES_GCM_PERSONALIZED, Domain.INFOTAINMENT, VIN,
                                verifier.epoch, expires_at, counter)
    nonce, ciphertext, tag = crypto.gcm_encrypt(key, metadata, HONK,
                                                bytes(range(nonce_length)))
    return RoutableMessage(
        to_destination=Destination(domain=Domain.INFOTAINMENT),
        protobuf_message_as_bytes=ciphertext,
        signature_data=SignatureData(
            signer_identity=KeyIdentity(public_key=public_key_bytes(client_key)),
            aes_gcm_personalized_data=AesGcmPersonalizedSignatureData(
                epoch=verifier.epoch, nonce=nonce, counter=counter, expires_at=expires_at,
                tag=tag))).encode()


def test_aes_gcm_command_runs(car, client_key):
    answer = car.handle(gcm_command(car, client_key))
    assert answer.command == Action.decode(HONK)


def test_aes_gcm_nonce_must_be_12_bytes(car, client_key):
    assert fault(car, gcm_command(car, client_key, nonce_length=8)) == \
        MessageFault.IV_INCORRECT_LENGTH


def test_expiry_beyond_the_epoch_is_refused(car, client_key):
    assert fault(car, gcm_command(car, client_key, expires_at=2**30 + 1)) == \
        MessageFault.BAD_PARAMETER


def test_counter_zero_must_expire_within_30_seconds(car, client_key):
    assert fault(car, gcm_command(car, client_key, expires_at=31, counter=0)) == \
        MessageFault.TIME_TO_LIVE_TOO_LONG
    assert fault(car, gcm_command(car, client_key, expires_at=29, counter=0)) == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_car_answers_any_bytes_with_a_message(data):
    car = VehicleSecurity(VIN, now=Clock().now)
    answer = car.handle(data)
    assert answer.command is None
    RoutableMessage.decode(answer.reply(False, "reason"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_damaged_command_is_refused_or_runs_what_was_signed(data):
    """Bytes outside the signature (uuid, routing) may change; the command may not."""
    client_key = generate_private_key()
    car = VehicleSecurity(VIN, now=Clock().now)
    car.pair(public_key_bytes(client_key))
    damaged = bytearray(ready(car, client_key).sign(HONK).data)
    for _ in range(data.draw(st.integers(1, 3))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    answer = car.handle(bytes(damaged))
    assert answer.command in (None, Action.decode(HONK))
    RoutableMessage.decode(answer.reply())
