"""Tesla's published test vectors (vehicle-command ``pkg/protocol/protocol.md`` and Go tests).

Every value below is published; the one derived value (the HMAC command tag, for which
no vector exists) is marked as a regression value.
"""
from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from teslapy.vcp import crypto
from teslapy.vcp.carserver import Action, HvacAutoAction, VehicleAction
from teslapy.vcp.commands import build_command
from teslapy.vcp.keys import load_key_file
from teslapy.vcp.messages import (AesGcmPersonalizedSignatureData, Destination, Domain,
                                  HmacSignatureData, KeyIdentity, RoutableMessage,
                                  SessionInfo, SessionInfoRequest, SignatureData,
                                  SignatureType, Tag)
from teslapy.vcp.metadata import Metadata, request_metadata, session_info_metadata
from teslapy.vcp.session import DomainSession, Request
from teslapy.vcp.vcsec import InformationRequest, InformationRequestType, UnsignedMessage
from teslasim.state import Clock
from teslasim.vehicle_security import VehicleSecurity

H = bytes.fromhex
VEHICLE_SCALAR = 0x344EE5B466A7CF1EEB12B6F50331DB2E5EC5834EF5F4BEFCFD8CBE55C2528D70
VEHICLE_PUBLIC = H("04c7a1f47138486aa4729971494878d33b1a24e39571f748a6e16c5955b3d877d3"
                   "a6aaa0e955166474af5d32c410f439a2234137ad1bb085fd4e8813c958f11d97")
CLIENT_SCALAR = 0x2538CDC29A97C19C1E99A637D6CF4F8C970C118B56EDE1E6323E6D162C4B30DB
CLIENT_PUBLIC = H("04b2b6bc68c2da0665ce656815594996c62394edd8bea905fe781a754fe6a845a7"
                  "14330902f225e9269d466e05b349981fda9d85cc23c6fb444aa73b629105dc6e")
CLIENT_KEY_PEM = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEICU4zcKal8GcHpmmN9bPT4yXDBGLVu3h5jI+bRYsSzDboAoGCCqGSM49
AwEHoUQDQgAEsra8aMLaBmXOZWgVWUmWxiOU7di+qQX+eBp1T+aoRacUMwkC8iXp
Jp1GbgWzSZgf2p2FzCPG+0RKpztikQXcbg==
-----END EC PRIVATE KEY-----
"""
K = H("1b2fce19967b79db696f909cff89ea9a")
SESSION_INFO_KEY = H("fceb679ee7bca756fcd441bf238bf2f338629b41d9eb9c67be1b32c9672ce300")
VIN = "5YJ30123456789ABC"
CHALLENGE = H("1588d5a30eabc6f8fc9a951b11f6fd11")
ROUTING_ADDRESS = H("2c907bd76c640d360b3027dc7404efde")
HANDSHAKE_METADATA = H("000106021135594a3330313233343536373839414243"
                       "06101588d5a30eabc6f8fc9a951b11f6fd11ff")
SESSION_INFO = H("0806124104c7a1f47138486aa4729971494878d33b1a24e39571f748a6e16c5955b3d877d3"
                 "a6aaa0e955166474af5d32c410f439a2234137ad1bb085fd4e8813c958f11d97"
                 "1a104c463f9cc0d3d26906e982ed224adde6255a0a0000")
EPOCH = H("4c463f9cc0d3d26906e982ed224adde6")
SESSION_INFO_TAG = H("996c1fe38331be138f8039c194b14db2198846ed7d8251e6749284d7b32ea002")
HVAC_ON = H("120452020801")
NONCE = H("dbf79447fa156674dae1caed")
CIPHERTEXT = H("38038e8c0f2e")
# protocol.md has shown the AES-GCM example twice: without flags (tag 8e12...) and, since
# responses can be encrypted, with FLAG_ENCRYPT_RESPONSE (tag c228...).
GCM_METADATA = H("000105010103021135594a3330313233343536373839414243"
                 "03104c463f9cc0d3d26906e982ed224adde6040400000a5f050400000007ff")
GCM_TAG = H("8e128da165f162f4d7d2c8da866cf82a")
GCM_METADATA_FLAGS = H("000105010103021135594a3330313233343536373839414243"
                       "03104c463f9cc0d3d26906e982ed224adde6040400000a5f050400000007"
                       "070400000002ff")
GCM_TAG_FLAGS = H("c228e0ff64991481db3a7bbc133696c5")
GCM_UUID = H("58406580528b6a5301391800b4fe9b99")
TX = H("320208023a1212100a7962c10d38b61dd2a7722780a4f0969a031005514f57616bcc81a8ce0f9d7b"
       "48322952040a020805")


def private_key(scalar: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(scalar, ec.SECP256R1())


def test_published_keys_encode_as_published():
    assert crypto.encode_public_key(private_key(VEHICLE_SCALAR).public_key()) == VEHICLE_PUBLIC
    assert crypto.encode_public_key(private_key(CLIENT_SCALAR).public_key()) == CLIENT_PUBLIC


def test_published_client_pem_loads_as_the_client_key(tmp_path):
    path = tmp_path / "client.key"
    path.write_bytes(CLIENT_KEY_PEM)
    path.chmod(0o600)
    assert load_key_file(str(path)).private_numbers().private_value == CLIENT_SCALAR


def test_key_agreement_gives_the_published_k_on_both_sides():
    assert crypto.shared_key(private_key(CLIENT_SCALAR), VEHICLE_PUBLIC) == K
    assert crypto.shared_key(private_key(VEHICLE_SCALAR), CLIENT_PUBLIC) == K


def test_session_info_key():
    assert crypto.session_info_key(K) == SESSION_INFO_KEY


def test_handshake_metadata():
    assert session_info_metadata(VIN, CHALLENGE).serialize() == HANDSHAKE_METADATA


def test_session_info_decodes_as_published():
    assert SessionInfo.decode(SESSION_INFO) == SessionInfo(
        counter=6, public_key=VEHICLE_PUBLIC, epoch=EPOCH, clock_time=2650)


def test_session_info_tag():
    assert crypto.session_info_tag(K, VIN, CHALLENGE, SESSION_INFO) == SESSION_INFO_TAG


def test_client_session_accepts_the_published_handshake_reply():
    """The published reply, as a RoutableMessage, starts a session with its values."""
    session = DomainSession(private_key(CLIENT_SCALAR), VIN, Domain.INFOTAINMENT)
    reply = RoutableMessage(
        to_destination=Destination(routing_address=ROUTING_ADDRESS),
        from_destination=Destination(domain=Domain.INFOTAINMENT),
        signature_data=SignatureData(session_info_tag=HmacSignatureData(tag=SESSION_INFO_TAG)),
        session_info=SESSION_INFO, request_uuid=CHALLENGE)
    session.accept_handshake(Request(b"", CHALLENGE, session.clock()), reply.encode())
    assert (session.counter, session.epoch, session.vehicle_time()) == (6, EPOCH, 2650)


def published_car() -> VehicleSecurity:
    """A simulated car with the published vehicle key, epoch and clock (2650 s, counter 6)."""
    clock = Clock()
    vehicle_key = private_key(VEHICLE_SCALAR)
    car = VehicleSecurity(VIN, now=clock.now, keys={Domain.INFOTAINMENT: vehicle_key})
    car.pair(CLIENT_PUBLIC)
    verifier = car.domains[Domain.INFOTAINMENT]
    verifier.epoch = EPOCH
    verifier.time_zero = clock.now() - 2650
    verifier.client(CLIENT_PUBLIC).counter = 6
    return car


def test_simulated_car_answers_the_published_handshake_byte_for_byte():
    request = RoutableMessage(
        to_destination=Destination(domain=Domain.INFOTAINMENT),
        from_destination=Destination(routing_address=ROUTING_ADDRESS),
        session_info_request=SessionInfoRequest(public_key=CLIENT_PUBLIC), uuid=CHALLENGE)
    reply = RoutableMessage.decode(published_car().handle(request.encode()).reply())
    assert reply.session_info == SESSION_INFO
    assert reply.signature_data.session_info_tag.tag == SESSION_INFO_TAG
    assert reply.request_uuid == CHALLENGE
    assert reply.to_destination == Destination(routing_address=ROUTING_ADDRESS)


def test_command_payload_encodes_as_published():
    action = Action(vehicle_action=VehicleAction(hvac_auto=HvacAutoAction(power_on=True)))
    assert action.encode() == HVAC_ON
    assert build_command("CLIMATE_ON", {}) == (Domain.INFOTAINMENT, HVAC_ON)
    assert Action.decode(HVAC_ON) == action


@pytest.mark.parametrize("flags, metadata, tag", [
    (0, GCM_METADATA, GCM_TAG), (2, GCM_METADATA_FLAGS, GCM_TAG_FLAGS)])
def test_aes_gcm_command_encrypts_as_published(flags, metadata, tag):
    built = request_metadata(SignatureType.AES_GCM_PERSONALIZED, Domain.INFOTAINMENT, VIN,
                             EPOCH, 2655, 7, flags)
    assert built.serialize() == metadata
    assert crypto.gcm_encrypt(K, built, HVAC_ON, NONCE) == (NONCE, CIPHERTEXT, tag)
    assert crypto.gcm_decrypt(K, built, NONCE, CIPHERTEXT, tag) == HVAC_ON


def test_simulated_car_accepts_the_published_aes_gcm_command():
    """The RoutableMessage of protocol.md's AES-GCM example runs HVAC on in the car."""
    message = RoutableMessage(
        to_destination=Destination(domain=Domain.INFOTAINMENT),
        from_destination=Destination(routing_address=ROUTING_ADDRESS),
        protobuf_message_as_bytes=CIPHERTEXT, flags=2, uuid=GCM_UUID,
        signature_data=SignatureData(
            signer_identity=KeyIdentity(public_key=CLIENT_PUBLIC),
            aes_gcm_personalized_data=AesGcmPersonalizedSignatureData(
                epoch=EPOCH, nonce=NONCE, counter=7, expires_at=2655, tag=GCM_TAG_FLAGS)))
    answer = published_car().handle(message.encode())
    assert answer.fault == 0
    assert answer.command == Action.decode(HVAC_ON)


def test_hmac_command_tag_regression_value():
    """No HMAC vector is published: this is the value derived from the same inputs."""
    metadata = request_metadata(SignatureType.HMAC_PERSONALIZED, Domain.INFOTAINMENT, VIN,
                                EPOCH, 2655, 7)
    assert crypto.command_key(K) == H(
        "6d3a14d0b6d762e4f076739e2cf6edd291d2e56e3f25bc6a2af5cb26dc753b14")
    assert crypto.hmac_command_tag(K, metadata, HVAC_ON) == H(
        "6d75c4e7c5e144996e22f1bdf694e453c94774a636e4382053cb8e358bf25ea8")


def test_wire_decode_example_as_parsed_messages():
    message = RoutableMessage.decode(TX)
    assert message == RoutableMessage(
        to_destination=Destination(domain=Domain.VEHICLE_SECURITY),
        from_destination=Destination(routing_address=H("0a7962c10d38b61dd2a7722780a4f096")),
        protobuf_message_as_bytes=H("0a020805"), uuid=H("05514f57616bcc81a8ce0f9d7b483229"))
    assert UnsignedMessage.decode(message.protobuf_message_as_bytes) == UnsignedMessage(
        information_request=InformationRequest(
            information_request_type=InformationRequestType.GET_WHITELIST_INFO))
    # re-encoded in field-number order, which is not Go's byte order: compare parsed
    assert RoutableMessage.decode(message.encode()) == message


def checksum_items() -> Metadata:
    return (Metadata()
            .add(Tag.SIGNATURE_TYPE, b"\x05")
            .add(Tag.DOMAIN, b"\x02")
            .add(Tag.PERSONALIZATION, b"testVIN")
            .add(Tag.EPOCH, H("aada928a4f215f55f9e6e45e66b6521e"))
            .add(Tag.EXPIRES_AT, H("00000e74"))
            .add(Tag.COUNTER, H("0000053a")))


def test_metadata_checksum():
    assert checksum_items().checksum() == H(
        "abab04d804499813382efd74a06791ce2de777439603246dfbaa8392ca05868e")
    assert hashlib.sha512(checksum_items().serialize()).digest() == H(
        "df4a60e03fd4f71a83e6b56ccf27ccf390269ba3fccfafd9cb3a0925fc36843866b4326655f1c9d5"
        "39c7ffc6f331ba693e1c62d237cb6cb5d9e60439f98f2283")


PHONE_PUBLIC = H("0407fb60b65b94e0de4a954c53be10003d9e69918dedfda5f4e9efb9ebd8c5bd67"
                 "2a53991c4068865d5fb44f97f6cecf8398f261dd1d7bc69be676afdc8ffacbcc")


def test_shared_key_keeps_a_leading_zero_byte():
    scalar = int("5260f8d6113875d86f8ee8fea340df1ffb40c658b5455e8c33d797c53a41afd3", 16)
    secret = H("0072d5b815207a04f0c795fba0ba9e8add3f1f57148c51fface22ca15e6fd845")
    assert crypto.shared_key(private_key(scalar), PHONE_PUBLIC) == \
        hashlib.sha1(secret).digest()[:16]


def test_shared_key_refuses_points_off_the_curve_and_at_infinity():
    key = private_key(CLIENT_SCALAR)
    flipped = bytearray(PHONE_PUBLIC)
    flipped[1] ^= 1
    with pytest.raises(ValueError):
        crypto.shared_key(key, bytes(flipped))
    with pytest.raises(ValueError):
        crypto.shared_key(key, b"\x04" + bytes(64))
