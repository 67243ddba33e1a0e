"""Protocol Buffers wire format for the few messages the Vehicle Command Protocol needs.

A message is a dataclass deriving from :class:`Message` whose fields are declared with
:func:`pb`::

    @dataclass
    class Destination(Message):
        domain: Optional[int] = pb(1, ENUM, oneof="sub_destination")
        routing_address: Optional[bytes] = pb(2, BYTES, oneof="sub_destination")

The rules follow proto3:

* A plain scalar field (``pb(1, UINT32)``) has no presence: it is left out when it
  holds its zero value and reads back as that value.
* Members of a ``oneof`` and message-typed fields have presence: ``None`` means unset,
  any other value (zero included) is written. Setting two members of one ``oneof``
  is a :class:`ValueError` when encoding; when decoding, the last one read wins.
* ``repeated=True`` makes a list of messages.
* Fields are written in field-number order. Unknown fields are skipped when decoding,
  as protobuf does; integers wider than their type are truncated as protobuf does.

Decoding anything that is not a well-formed message raises
:class:`~teslapy.vcp.errors.DecodeError` and nothing else.
"""
from __future__ import annotations

import dataclasses
import math
import struct
from typing import Any, Callable, Dict, Optional, Tuple, Type, TypeVar

from teslapy.vcp.errors import DecodeError

# wire types
VARINT, I64, LEN, I32 = 0, 1, 2, 5

# scalar kinds: name -> wire type
UINT32, UINT64, INT32, INT64, SINT32, BOOL, ENUM = (
    "uint32", "uint64", "int32", "int64", "sint32", "bool", "enum")
FIXED32, FLOAT, DOUBLE = "fixed32", "float", "double"
BYTES, STRING = "bytes", "string"

_WIRE_TYPES = {UINT32: VARINT, UINT64: VARINT, INT32: VARINT, INT64: VARINT, SINT32: VARINT,
               BOOL: VARINT, ENUM: VARINT, FIXED32: I32, FLOAT: I32, DOUBLE: I64,
               BYTES: LEN, STRING: LEN}
_ZERO: Dict[str, Any] = {BOOL: False, FLOAT: 0.0, DOUBLE: 0.0, BYTES: b"", STRING: ""}
_RANGES = {UINT32: (0, 2**32 - 1), UINT64: (0, 2**64 - 1), INT32: (-2**31, 2**31 - 1),
           ENUM: (-2**31, 2**31 - 1), INT64: (-2**63, 2**63 - 1),
           SINT32: (-2**31, 2**31 - 1), FIXED32: (0, 2**32 - 1)}
_MAX_VARINT_BYTES = 10

M = TypeVar("M", bound="Message")


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """How one dataclass attribute is written: number, kind and presence rules."""

    number: int
    name: str
    kind: Any                      # a scalar kind name or a Message subclass
    oneof: Optional[str] = None
    repeated: bool = False

    @property
    def is_message(self) -> bool:
        return isinstance(self.kind, type)

    @property
    def wire_type(self) -> int:
        return LEN if self.is_message else _WIRE_TYPES[self.kind]

    @property
    def has_presence(self) -> bool:
        return self.is_message or self.oneof is not None


def pb(number: int, kind: Any, *, oneof: Optional[str] = None, repeated: bool = False) -> Any:
    """Declare a protobuf field on a :class:`Message` dataclass (see the module docstring)."""
    meta = {"pb": (number, kind, oneof, repeated)}
    if repeated:
        return dataclasses.field(default_factory=list, metadata=meta)
    if isinstance(kind, type) or oneof is not None:
        return dataclasses.field(default=None, metadata=meta)
    return dataclasses.field(default=_ZERO.get(kind, 0), metadata=meta)


_SCHEMAS: Dict[type, Tuple[Tuple[FieldSpec, ...], Dict[int, FieldSpec]]] = {}


def _schema(cls: type) -> Tuple[Tuple[FieldSpec, ...], Dict[int, FieldSpec]]:
    schema = _SCHEMAS.get(cls)
    if schema is None:
        specs = []
        for attribute in dataclasses.fields(cls):
            number, kind, oneof, repeated = attribute.metadata["pb"]
            specs.append(FieldSpec(number, attribute.name, kind, oneof, repeated))
        specs.sort(key=lambda spec: spec.number)
        schema = (tuple(specs), {spec.number: spec for spec in specs})
        _SCHEMAS[cls] = schema
    return schema


class Message:
    """Base of the protobuf message dataclasses: :meth:`encode` and :meth:`decode`."""

    @classmethod
    def fields(cls) -> Tuple[FieldSpec, ...]:
        """The field specifications in field-number order."""
        return _schema(cls)[0]

    def which(self, oneof: str) -> Optional[str]:
        """The name of the member of ``oneof`` that is set, or None (protobuf's WhichOneof)."""
        for spec in self.fields():
            if spec.oneof == oneof and getattr(self, spec.name) is not None:
                return spec.name
        return None

    def encode(self) -> bytes:
        """The message in protobuf wire format.

        Raises:
            ValueError: a value does not fit its field, or two members of a oneof are set.
        """
        out = bytearray()
        groups: Dict[str, str] = {}
        for spec in self.fields():
            value = getattr(self, spec.name)
            if spec.repeated:
                for item in value:
                    _write_field(out, spec, item)
                continue
            if value is None:
                continue
            if spec.oneof is not None:
                if spec.oneof in groups:
                    raise ValueError(f"{type(self).__name__}: {groups[spec.oneof]} and "
                                     f"{spec.name} are both set, but oneof {spec.oneof} "
                                     "allows one")
                groups[spec.oneof] = spec.name
            elif not spec.has_presence and _is_zero(spec.kind, value):
                continue
            _write_field(out, spec, value)
        return bytes(out)

    @classmethod
    def decode(cls: Type[M], data: bytes) -> M:
        """Parse ``data`` as this message.

        Raises:
            DecodeError: ``data`` is not a well-formed encoding of this message.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError(f"{cls.__name__}: expected bytes, got {type(data).__name__}")
        return cls._decode(memoryview(bytes(data)))

    @classmethod
    def _decode(cls: Type[M], data: memoryview) -> M:
        by_number = _schema(cls)[1]
        values: Dict[str, Any] = {}
        position = 0
        while position < len(data):
            key, position = _read_varint(data, position)
            number, wire_type = key >> 3, key & 7
            if number == 0 or number > 2**29 - 1:
                raise DecodeError(f"{cls.__name__}: invalid field number {number}")
            raw, position = _read_raw(data, position, wire_type)
            spec = by_number.get(number)
            if spec is None:
                continue
            if wire_type != spec.wire_type:
                raise DecodeError(f"{cls.__name__}.{spec.name}: wire type {wire_type}, "
                                  f"expected {spec.wire_type}")
            value = _convert(spec, raw)
            if spec.repeated:
                values.setdefault(spec.name, []).append(value)
                continue
            if spec.oneof is not None:
                for other in by_number.values():
                    if other.oneof == spec.oneof:
                        values.pop(other.name, None)
            values[spec.name] = value
        return cls(**values)


def _is_zero(kind: str, value: Any) -> bool:
    if kind in (FLOAT, DOUBLE):
        return value == 0 and math.copysign(1.0, value) > 0
    return not value


# -- writing ---------------------------------------------------------------------

def encode_varint(value: int) -> bytes:
    """The base-128 varint of a non-negative integer below 2**64."""
    if value < 0 or value >= 2**64:
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _check_int(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{spec.name} must be an integer, not {type(value).__name__}")
    low, high = _RANGES[spec.kind]
    if not low <= value <= high:
        raise ValueError(f"{spec.name}={value} is out of range for {spec.kind}")
    return value


def _scalar_bytes(spec: FieldSpec, value: Any) -> bytes:
    kind = spec.kind
    if kind == BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{spec.name} must be a bool")
        return b"\x01" if value else b"\x00"
    if kind == BYTES:
        if not isinstance(value, (bytes, bytearray)):
            raise ValueError(f"{spec.name} must be bytes")
        return encode_varint(len(value)) + bytes(value)
    if kind == STRING:
        if not isinstance(value, str):
            raise ValueError(f"{spec.name} must be a str")
        raw = value.encode("utf-8")
        return encode_varint(len(raw)) + raw
    if kind in (FLOAT, DOUBLE):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{spec.name} must be a number")
        try:
            return struct.pack("<f" if kind == FLOAT else "<d", value)
        except OverflowError:
            raise ValueError(f"{spec.name}={value} does not fit a {kind}") from None
    number = _check_int(spec, value)
    if kind == FIXED32:
        return struct.pack("<I", number)
    if kind == SINT32:
        return encode_varint(((number << 1) ^ (number >> 31)) & 0xFFFFFFFF)
    return encode_varint(number & 0xFFFFFFFFFFFFFFFF)


def _write_field(out: bytearray, spec: FieldSpec, value: Any) -> None:
    out += encode_varint(spec.number << 3 | spec.wire_type)
    if spec.is_message:
        if not isinstance(value, spec.kind):
            raise ValueError(f"{spec.name} must be a {spec.kind.__name__}")
        body = value.encode()
        out += encode_varint(len(body)) + body
    else:
        out += _scalar_bytes(spec, value)


# -- reading ---------------------------------------------------------------------

def _read_varint(data: memoryview, position: int) -> Tuple[int, int]:
    result = 0
    for index in range(_MAX_VARINT_BYTES):
        if position >= len(data):
            raise DecodeError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, position
    raise DecodeError("varint longer than 10 bytes")


def _read_raw(data: memoryview, position: int, wire_type: int) -> Tuple[Any, int]:
    if wire_type == VARINT:
        return _read_varint(data, position)
    size = {I64: 8, I32: 4}.get(wire_type)
    if wire_type == LEN:
        size, position = _read_varint(data, position)
    elif size is None:
        raise DecodeError(f"unsupported wire type {wire_type}")
    end = position + size
    if end > len(data):
        raise DecodeError("field runs past the end of the message")
    return data[position:end], end


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


_VARINT_READERS: Dict[str, Callable[[int], Any]] = {
    UINT32: lambda v: v & 0xFFFFFFFF,
    UINT64: lambda v: v,
    INT32: lambda v: _signed(v, 32),
    ENUM: lambda v: _signed(v, 32),
    INT64: lambda v: _signed(v, 64),
    SINT32: lambda v: ((v & 0xFFFFFFFF) >> 1) ^ -((v & 0xFFFFFFFF) & 1),
    BOOL: lambda v: v != 0,
}


def _convert(spec: FieldSpec, raw: Any) -> Any:
    if spec.is_message:
        return spec.kind._decode(raw)
    kind = spec.kind
    if kind in _VARINT_READERS:
        return _VARINT_READERS[kind](raw)
    if kind == FIXED32:
        return struct.unpack("<I", raw)[0]
    if kind == FLOAT:
        return struct.unpack("<f", raw)[0]
    if kind == DOUBLE:
        return struct.unpack("<d", raw)[0]
    if kind == STRING:
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError(f"{spec.name}: not UTF-8") from None
    return bytes(raw)

