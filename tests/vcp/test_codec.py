"""The protobuf codec and the metadata TLV: round trips, canonical bytes, and bad input."""
from __future__ import annotations

import functools
import struct
from typing import Any, Dict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teslapy.vcp import carserver, messages, vcsec
from teslapy.vcp.carserver import Action, Response, VehicleAction, Void
from teslapy.vcp.errors import DecodeError
from teslapy.vcp.messages import Destination, RoutableMessage, SessionInfo, Tag
from teslapy.vcp.metadata import Metadata
from teslapy.vcp.vcsec import FromVCSECMessage, RKEAction, UnsignedMessage
from teslapy.vcp.wire import (BOOL, BYTES, DOUBLE, ENUM, FIXED32, FLOAT, INT32, INT64, SINT32,
                              STRING, UINT32, UINT64, Message)


def subclasses(cls: type) -> list:
    return [sub for direct in cls.__subclasses__() for sub in [direct, *subclasses(direct)]]


MESSAGE_TYPES = sorted(
    (cls for cls in subclasses(Message)
     if cls.__module__ in (messages.__name__, vcsec.__name__, carserver.__name__)),
    key=lambda cls: cls.__name__)
TOP_LEVEL = [RoutableMessage, SessionInfo, UnsignedMessage, FromVCSECMessage, Action, Response]

SCALARS: Dict[str, st.SearchStrategy] = {
    UINT32: st.integers(0, 2**32 - 1), FIXED32: st.integers(0, 2**32 - 1),
    UINT64: st.integers(0, 2**64 - 1), INT64: st.integers(-2**63, 2**63 - 1),
    INT32: st.integers(-2**31, 2**31 - 1), ENUM: st.integers(-2**31, 2**31 - 1),
    SINT32: st.integers(-2**31, 2**31 - 1), BOOL: st.booleans(),
    FLOAT: st.floats(width=32, allow_nan=False), DOUBLE: st.floats(allow_nan=False),
    BYTES: st.binary(max_size=40), STRING: st.text(max_size=20),
}


def value_strategy(spec) -> st.SearchStrategy:
    if spec.is_message:
        return st.deferred(lambda: message_strategy(spec.kind))
    return SCALARS[spec.kind]


@functools.lru_cache(maxsize=None)
def message_strategy(cls) -> st.SearchStrategy:
    """Any valid instance of ``cls``: at most one member of each oneof set."""
    plain: Dict[str, st.SearchStrategy] = {}
    groups: Dict[str, list] = {}
    for spec in cls.fields():
        if spec.oneof is not None:
            groups.setdefault(spec.oneof, []).append(spec)
        elif spec.repeated:
            plain[spec.name] = st.lists(value_strategy(spec), max_size=3)
        elif spec.is_message:
            plain[spec.name] = st.none() | value_strategy(spec)
        else:
            plain[spec.name] = value_strategy(spec)
    chosen = [st.one_of(st.just({}), *[value_strategy(spec).map(lambda v, n=spec.name: {n: v})
                                       for spec in members])
              for members in groups.values()]

    def build(parts) -> Any:
        fields, picks = parts
        for pick in picks:
            fields.update(pick)
        return cls(**fields)

    return st.tuples(st.fixed_dictionaries(plain), st.tuples(*chosen)).map(build)


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_decode_of_encode_is_the_message(cls, data):
    message = data.draw(message_strategy(cls))
    encoded = message.encode()
    assert cls.decode(encoded) == message
    assert cls.decode(encoded).encode() == encoded


@pytest.mark.parametrize("cls", TOP_LEVEL, ids=lambda cls: cls.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_decode_error(cls, data):
    try:
        cls.decode(data)
    except DecodeError:
        pass


@pytest.mark.parametrize("cls", TOP_LEVEL, ids=lambda cls: cls.__name__)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_damaged_messages_decode_or_raise_decode_error(cls, data):
    encoded = bytearray(data.draw(message_strategy(cls)).encode())
    if encoded:
        for _ in range(data.draw(st.integers(1, 4))):
            encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(encoded)))
    try:
        cls.decode(bytes(encoded[:cut]))
    except DecodeError:
        pass


def test_oneof_members_are_written_even_when_zero():
    assert UnsignedMessage(rke_action=RKEAction.UNLOCK).encode() == b"\x10\x00"
    assert UnsignedMessage.decode(b"\x10\x00") == UnsignedMessage(rke_action=0)
    honk = Action(vehicle_action=VehicleAction(honk_horn=Void()))
    assert honk.encode() == b"\x12\x03\xda\x01\x00"


def test_plain_zero_fields_are_left_out():
    assert SessionInfo(counter=0, epoch=b"", clock_time=0).encode() == b""


def test_two_members_of_a_oneof_cannot_be_encoded():
    with pytest.raises(ValueError, match="oneof sub_destination"):
        Destination(domain=2, routing_address=b"x").encode()


def test_last_oneof_member_read_wins():
    data = Destination(domain=2).encode() + Destination(routing_address=b"ab").encode()
    assert Destination.decode(data) == Destination(routing_address=b"ab")


@pytest.mark.parametrize("message", [
    SessionInfo(counter=2**32), SessionInfo(counter=-1), SessionInfo(epoch="text"),
    carserver.ChargingSetLimitAction(percent=2**31), carserver.LatLong(latitude=1e39),
    carserver.HvacAutoAction(power_on=1)])
def test_values_that_do_not_fit_are_refused(message):
    with pytest.raises(ValueError):
        message.encode()


def test_unknown_fields_are_skipped():
    unknown = b"\x98\x06\x07" + b"\xa2\x06\x02hi" + b"\xad\x06" + struct.pack("<I", 5)
    assert SessionInfo.decode(unknown + b"\x08\x06") == SessionInfo(counter=6)


@pytest.mark.parametrize("data, reason", [
    (b"\x08", "truncated varint"), (b"\x12\x05ab", "past the end"),
    (b"\x0a\x01a", "wire type"), (b"\x00\x01", "field number 0"),
    (b"\x0b", "wire type 3"), (b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10")])
def test_malformed_input_is_a_decode_error(data, reason):
    with pytest.raises(DecodeError, match=reason):
        SessionInfo.decode(data)


def test_invalid_utf8_is_a_decode_error():
    with pytest.raises(DecodeError, match="UTF-8"):
        carserver.SetVehicleNameAction.decode(b"\x0a\x01\xff")


def test_non_bytes_input_is_a_decode_error():
    with pytest.raises(DecodeError):
        SessionInfo.decode("0806")


def test_wide_integers_are_truncated_as_protobuf_does():
    assert SessionInfo.decode(b"\x08\xff\xff\xff\xff\x1f").counter == 0xFFFFFFFF
    assert vcsec.NominalError.decode(b"\x08" + b"\xff" * 9 + b"\x01").generic_error == -1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 254), st.binary(max_size=255)), max_size=12))
def test_metadata_is_ascending_tlv_ending_in_ff(items):
    metadata = Metadata()
    accepted = []
    last = -1
    for tag, value in items:
        if tag <= last:
            with pytest.raises(ValueError, match="ascend"):
                metadata.add(tag, value)
            continue
        metadata.add(tag, value)
        last = tag
        if value:
            accepted.append((tag, value))
    serialized = metadata.serialize()
    assert serialized[-1] == Tag.END
    parsed, position = [], 0
    while position < len(serialized) - 1:
        tag, length = serialized[position], serialized[position + 1]
        parsed.append((tag, serialized[position + 2:position + 2 + length]))
        position += 2 + length
    assert parsed == accepted


def test_metadata_values_longer_than_255_bytes_are_refused():
    with pytest.raises(ValueError, match="limit is 255"):
        Metadata().add(Tag.PERSONALIZATION, bytes(256))


def test_metadata_integers_are_four_bytes_big_endian():
    assert Metadata().add_uint32(Tag.COUNTER, 100).serialize() == bytes.fromhex("050400000064ff")
