"""The protocol envelope: ``UniversalMessage`` and ``Signatures`` messages and enums.

Field numbers, names and types follow Tesla's ``universal_message.proto`` and
``signatures.proto`` (vehicle-command, Apache-2.0); the definitions are written here for
the :mod:`teslapy.vcp.wire` codec. Enum-typed fields hold plain ``int`` values (proto3
enums are open); the ``IntEnum`` classes name the known ones.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from teslapy.vcp.wire import BYTES, ENUM, FIXED32, UINT32, Message, pb


class Domain(enum.IntEnum):
    BROADCAST = 0
    VEHICLE_SECURITY = 2
    INFOTAINMENT = 3


class OperationStatus(enum.IntEnum):
    OK = 0
    WAIT = 1
    ERROR = 2


class MessageFault(enum.IntEnum):
    NONE = 0
    BUSY = 1
    TIMEOUT = 2
    UNKNOWN_KEY_ID = 3
    INACTIVE_KEY = 4
    INVALID_SIGNATURE = 5
    INVALID_TOKEN_OR_COUNTER = 6
    INSUFFICIENT_PRIVILEGES = 7
    INVALID_DOMAINS = 8
    INVALID_COMMAND = 9
    DECODING = 10
    INTERNAL = 11
    WRONG_PERSONALIZATION = 12
    BAD_PARAMETER = 13
    KEYCHAIN_IS_FULL = 14
    INCORRECT_EPOCH = 15
    IV_INCORRECT_LENGTH = 16
    TIME_EXPIRED = 17
    NOT_PROVISIONED_WITH_IDENTITY = 18
    COULD_NOT_HASH_METADATA = 19
    TIME_TO_LIVE_TOO_LONG = 20
    REMOTE_ACCESS_DISABLED = 21
    REMOTE_SERVICE_ACCESS_DISABLED = 22
    COMMAND_REQUIRES_ACCOUNT_CREDENTIALS = 23
    REQUEST_MTU_EXCEEDED = 24
    RESPONSE_MTU_EXCEEDED = 25
    REPEATED_COUNTER = 26
    INVALID_KEY_HANDLE = 27
    REQUIRES_RESPONSE_ENCRYPTION = 28


class Flag(enum.IntEnum):
    """Bit positions in ``RoutableMessage.flags`` (the mask is ``1 << flag``)."""

    USER_COMMAND = 0
    ENCRYPT_RESPONSE = 1


class Tag(enum.IntEnum):
    """Metadata TLV tags."""

    SIGNATURE_TYPE = 0
    DOMAIN = 1
    PERSONALIZATION = 2
    EPOCH = 3
    EXPIRES_AT = 4
    COUNTER = 5
    CHALLENGE = 6
    FLAGS = 7
    REQUEST_HASH = 8
    FAULT = 9
    END = 255


class SignatureType(enum.IntEnum):
    AES_GCM = 0
    AES_GCM_PERSONALIZED = 5
    HMAC = 6
    HMAC_PERSONALIZED = 8
    AES_GCM_RESPONSE = 9


class SessionInfoStatus(enum.IntEnum):
    OK = 0
    KEY_NOT_ON_WHITELIST = 1


# -- Signatures ------------------------------------------------------------------

@dataclass
class KeyIdentity(Message):
    public_key: Optional[bytes] = pb(1, BYTES, oneof="identity_type")
    handle: Optional[int] = pb(3, UINT32, oneof="identity_type")


@dataclass
class AesGcmPersonalizedSignatureData(Message):
    epoch: bytes = pb(1, BYTES)
    nonce: bytes = pb(2, BYTES)
    counter: int = pb(3, UINT32)
    expires_at: int = pb(4, FIXED32)
    tag: bytes = pb(5, BYTES)


@dataclass
class AesGcmResponseSignatureData(Message):
    nonce: bytes = pb(1, BYTES)
    counter: int = pb(2, UINT32)
    tag: bytes = pb(3, BYTES)


@dataclass
class HmacSignatureData(Message):
    tag: bytes = pb(1, BYTES)


@dataclass
class HmacPersonalizedSignatureData(Message):
    epoch: bytes = pb(1, BYTES)
    counter: int = pb(2, UINT32)
    expires_at: int = pb(3, FIXED32)
    tag: bytes = pb(4, BYTES)


@dataclass
class SignatureData(Message):
    signer_identity: Optional[KeyIdentity] = pb(1, KeyIdentity)
    aes_gcm_personalized_data: Optional[AesGcmPersonalizedSignatureData] = pb(
        5, AesGcmPersonalizedSignatureData, oneof="sig_type")
    session_info_tag: Optional[HmacSignatureData] = pb(6, HmacSignatureData, oneof="sig_type")
    hmac_personalized_data: Optional[HmacPersonalizedSignatureData] = pb(
        8, HmacPersonalizedSignatureData, oneof="sig_type")
    aes_gcm_response_data: Optional[AesGcmResponseSignatureData] = pb(
        9, AesGcmResponseSignatureData, oneof="sig_type")


@dataclass
class SessionInfo(Message):
    counter: int = pb(1, UINT32)
    public_key: bytes = pb(2, BYTES)
    epoch: bytes = pb(3, BYTES)
    clock_time: int = pb(4, FIXED32)
    status: int = pb(5, ENUM)
    handle: int = pb(6, UINT32)


# -- UniversalMessage --------------------------------------------------------------

@dataclass
class Destination(Message):
    domain: Optional[int] = pb(1, ENUM, oneof="sub_destination")
    routing_address: Optional[bytes] = pb(2, BYTES, oneof="sub_destination")


@dataclass
class MessageStatus(Message):
    operation_status: int = pb(1, ENUM)
    signed_message_fault: int = pb(2, ENUM)


@dataclass
class SessionInfoRequest(Message):
    public_key: bytes = pb(1, BYTES)
    challenge: bytes = pb(2, BYTES)


@dataclass
class RoutableMessage(Message):
    to_destination: Optional[Destination] = pb(6, Destination)
    from_destination: Optional[Destination] = pb(7, Destination)
    protobuf_message_as_bytes: Optional[bytes] = pb(10, BYTES, oneof="payload")
    session_info_request: Optional[SessionInfoRequest] = pb(
        14, SessionInfoRequest, oneof="payload")
    session_info: Optional[bytes] = pb(15, BYTES, oneof="payload")
    signed_message_status: Optional[MessageStatus] = pb(12, MessageStatus)
    signature_data: Optional[SignatureData] = pb(13, SignatureData, oneof="sub_sig_data")
    request_uuid: bytes = pb(50, BYTES)
    uuid: bytes = pb(51, BYTES)
    flags: int = pb(52, UINT32)

    @property
    def fault(self) -> int:
        """The ``signed_message_fault`` number (0 when the status is absent)."""
        status = self.signed_message_status
        return status.signed_message_fault if status is not None else 0

    @property
    def destination_domain(self) -> Optional[int]:
        """``to_destination.domain``, or None when the message is not sent to a domain."""
        return self.to_destination.domain if self.to_destination is not None else None

    @property
    def source_domain(self) -> Optional[int]:
        """``from_destination.domain``, or None when it did not come from a domain."""
        return self.from_destination.domain if self.from_destination is not None else None


__all__ = [
    "Domain", "OperationStatus", "MessageFault", "Flag", "Tag", "SignatureType",
    "SessionInfoStatus", "KeyIdentity", "AesGcmPersonalizedSignatureData",
    "AesGcmResponseSignatureData", "HmacSignatureData", "HmacPersonalizedSignatureData",
    "SignatureData", "SessionInfo", "Destination", "MessageStatus", "SessionInfoRequest",
    "RoutableMessage",
]
