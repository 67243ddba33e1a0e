"""Metadata serialization: the TLV string that binds a message to its VIN, domain and time.

Each item is ``tag ‖ length ‖ value`` (one byte each for tag and length, at most 255
value bytes); integers are 4-byte big-endian; items go in ascending tag order; an
empty value is left out; the string ends with ``0xFF``. A signature or checksum covers
``metadata ‖ message``.

The three metadata sets of the protocol are built here: :func:`session_info_metadata`
(handshake tags), :func:`request_metadata` (command signatures) and
:func:`response_metadata` (encrypted replies).
"""
from __future__ import annotations

import hashlib
import struct
from typing import List, Optional

from teslapy.vcp.messages import Domain, SignatureType, Tag

MAX_VALUE_LENGTH = 255


class Metadata:
    """An ordered TLV metadata string under construction.

    Raises (from :meth:`add`):
        ValueError: a tag is not above the previous one, or a value is longer than 255.
    """

    def __init__(self) -> None:
        self._parts: List[bytes] = []
        self._last_tag = -1

    def add(self, tag: int, value: bytes) -> "Metadata":
        """Append ``tag`` with ``value`` (skipped when ``value`` is empty)."""
        if not 0 <= tag < Tag.END:
            raise ValueError(f"metadata tag {tag} is out of range")
        if tag <= self._last_tag:
            raise ValueError(f"metadata tag {tag} added after tag {self._last_tag}; "
                             "tags must ascend")
        if len(value) > MAX_VALUE_LENGTH:
            raise ValueError(f"metadata value for tag {tag} is {len(value)} bytes; "
                             f"the limit is {MAX_VALUE_LENGTH}")
        self._last_tag = tag
        if value:
            self._parts.append(bytes((tag, len(value))) + bytes(value))
        return self

    def add_uint32(self, tag: int, value: int) -> "Metadata":
        """Append ``tag`` with ``value`` as a 4-byte big-endian integer."""
        return self.add(tag, struct.pack(">I", value))

    def serialize(self) -> bytes:
        """The items followed by the ``0xFF`` end marker."""
        return b"".join(self._parts) + bytes((Tag.END,))

    def checksum(self, message: bytes = b"") -> bytes:
        """SHA-256 of the serialized metadata followed by ``message``."""
        return hashlib.sha256(self.serialize() + message).digest()


def session_info_metadata(vin: str, challenge: bytes) -> Metadata:
    """The metadata a session info tag covers: HMAC signature type, VIN, request UUID."""
    return (Metadata()
            .add(Tag.SIGNATURE_TYPE, bytes((SignatureType.HMAC,)))
            .add(Tag.PERSONALIZATION, vin.encode("ascii"))
            .add(Tag.CHALLENGE, challenge))


def request_metadata(signature_type: int, domain: int, vin: str, epoch: bytes,
                     expires_at: int, counter: int, flags: int = 0) -> Metadata:
    """The metadata a command signature covers (flags only when not zero)."""
    metadata = (Metadata()
                .add(Tag.SIGNATURE_TYPE, bytes((signature_type,)))
                .add(Tag.DOMAIN, bytes((domain,)))
                .add(Tag.PERSONALIZATION, vin.encode("ascii"))
                .add(Tag.EPOCH, epoch)
                .add_uint32(Tag.EXPIRES_AT, expires_at)
                .add_uint32(Tag.COUNTER, counter))
    if flags:
        metadata.add_uint32(Tag.FLAGS, flags)
    return metadata


def response_metadata(domain: int, vin: str, counter: int, flags: int,
                      request_hash: bytes, fault: int) -> Metadata:
    """The metadata an encrypted reply's AES-GCM tag covers (flags always included)."""
    return (Metadata()
            .add(Tag.SIGNATURE_TYPE, bytes((SignatureType.AES_GCM_RESPONSE,)))
            .add(Tag.DOMAIN, bytes((domain,)))
            .add(Tag.PERSONALIZATION, vin.encode("ascii"))
            .add_uint32(Tag.COUNTER, counter)
            .add_uint32(Tag.FLAGS, flags)
            .add(Tag.REQUEST_HASH, request_hash)
            .add_uint32(Tag.FAULT, fault))


def request_hash(signature_type: int, tag: bytes, domain: Optional[int]) -> bytes:
    """The request hash a reply is bound to: signature type byte and the request's tag.

    For the vehicle security domain it is cut to 17 bytes (only HMAC tags are longer).
    """
    digest = bytes((signature_type,)) + tag
    return digest[:17] if domain == Domain.VEHICLE_SECURITY else digest
