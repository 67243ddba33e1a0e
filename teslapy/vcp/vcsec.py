"""Payloads of the vehicle security domain (VCSEC): locks, closures, keys and their replies.

Requests to VCSEC carry an :class:`UnsignedMessage`; replies a :class:`FromVCSECMessage`.
Field numbers, names and types follow Tesla's ``vcsec.proto``, ``errors.proto`` and
``keys.proto`` (vehicle-command, Apache-2.0); only the messages teslapy sends or reads are
defined. Enum-typed fields hold plain ``int`` values.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import List, Optional

from teslapy.vcp.wire import BOOL, BYTES, ENUM, UINT32, Message, pb


class Role(enum.IntEnum):
    NONE = 0
    SERVICE = 1
    OWNER = 2
    DRIVER = 3
    FM = 4
    VEHICLE_MONITOR = 5
    CHARGING_MANAGER = 6
    GUEST = 8


class GenericError(enum.IntEnum):
    NONE = 0
    UNKNOWN = 1
    CLOSURES_OPEN = 2
    ALREADY_ON = 3
    DISABLED_FOR_USER_COMMAND = 4
    VEHICLE_NOT_IN_PARK = 5
    UNAUTHORIZED = 6
    NOT_ALLOWED_OVER_TRANSPORT = 7


class KeyFormFactor(enum.IntEnum):
    UNKNOWN = 0
    NFC_CARD = 1
    IOS_DEVICE = 6
    ANDROID_DEVICE = 7
    CLOUD_KEY = 9


class InformationRequestType(enum.IntEnum):
    GET_STATUS = 0
    GET_WHITELIST_INFO = 5
    GET_WHITELIST_ENTRY_INFO = 6


class RKEAction(enum.IntEnum):
    UNLOCK = 0
    LOCK = 1
    REMOTE_DRIVE = 20
    AUTO_SECURE_VEHICLE = 29
    WAKE_VEHICLE = 30


class ClosureMoveType(enum.IntEnum):
    NONE = 0
    MOVE = 1
    STOP = 2
    OPEN = 3
    CLOSE = 4


class ClosureState(enum.IntEnum):
    CLOSED = 0
    OPEN = 1
    AJAR = 2
    UNKNOWN = 3
    FAILED_UNLATCH = 4
    OPENING = 5
    CLOSING = 6


class VehicleLockState(enum.IntEnum):
    UNLOCKED = 0
    LOCKED = 1
    INTERNAL_LOCKED = 2
    SELECTIVE_UNLOCKED = 3


class VehicleSleepStatus(enum.IntEnum):
    UNKNOWN = 0
    AWAKE = 1
    ASLEEP = 2


@dataclass
class NominalError(Message):
    generic_error: int = pb(1, ENUM)


@dataclass
class KeyIdentifier(Message):
    public_key_sha1: bytes = pb(1, BYTES)


@dataclass
class KeyMetadata(Message):
    key_form_factor: int = pb(1, ENUM)


@dataclass
class PublicKey(Message):
    public_key_raw: bytes = pb(1, BYTES)


@dataclass
class WhitelistInfo(Message):
    number_of_entries: int = pb(1, UINT32)
    whitelist_entries: List[KeyIdentifier] = pb(2, KeyIdentifier, repeated=True)
    slot_mask: int = pb(3, UINT32)


@dataclass
class WhitelistEntryInfo(Message):
    key_id: Optional[KeyIdentifier] = pb(1, KeyIdentifier)
    public_key: Optional[PublicKey] = pb(2, PublicKey)
    metadata_for_key: Optional[KeyMetadata] = pb(4, KeyMetadata)
    slot: int = pb(6, UINT32)
    key_role: int = pb(7, ENUM)


@dataclass
class InformationRequest(Message):
    information_request_type: int = pb(1, ENUM)
    key_id: Optional[KeyIdentifier] = pb(2, KeyIdentifier, oneof="key")
    public_key: Optional[bytes] = pb(3, BYTES, oneof="key")
    slot: Optional[int] = pb(4, UINT32, oneof="key")


@dataclass
class Closures(Message):
    """The eight closures of a car, each an enum; the shape of the two messages below."""

    front_driver_door: int = pb(1, ENUM)
    front_passenger_door: int = pb(2, ENUM)
    rear_driver_door: int = pb(3, ENUM)
    rear_passenger_door: int = pb(4, ENUM)
    rear_trunk: int = pb(5, ENUM)
    front_trunk: int = pb(6, ENUM)
    charge_port: int = pb(7, ENUM)
    tonneau: int = pb(8, ENUM)


@dataclass
class ClosureMoveRequest(Closures):
    """What to do with each closure (``ClosureMoveType`` values)."""


@dataclass
class ClosureStatuses(Closures):
    """The state of each closure (``ClosureState`` values)."""


@dataclass
class PermissionChange(Message):
    key: Optional[PublicKey] = pb(1, PublicKey)
    seconds_to_be_active: int = pb(3, UINT32)
    key_role: int = pb(4, ENUM)


@dataclass
class WhitelistOperation(Message):
    add_public_key_to_whitelist: Optional[PublicKey] = pb(1, PublicKey, oneof="sub_message")
    remove_public_key_from_whitelist: Optional[PublicKey] = pb(
        2, PublicKey, oneof="sub_message")
    add_key_to_whitelist_and_add_permissions: Optional[PermissionChange] = pb(
        5, PermissionChange, oneof="sub_message")
    remove_all_impermanent_keys: Optional[bool] = pb(16, BOOL, oneof="sub_message")
    metadata_for_key: Optional[KeyMetadata] = pb(6, KeyMetadata)


@dataclass
class UnsignedMessage(Message):
    information_request: Optional[InformationRequest] = pb(
        1, InformationRequest, oneof="sub_message")
    rke_action: Optional[int] = pb(2, ENUM, oneof="sub_message")
    closure_move_request: Optional[ClosureMoveRequest] = pb(
        4, ClosureMoveRequest, oneof="sub_message")
    whitelist_operation: Optional[WhitelistOperation] = pb(
        16, WhitelistOperation, oneof="sub_message")


@dataclass
class WhitelistOperationStatus(Message):
    whitelist_operation_information: int = pb(1, ENUM)
    signer_of_operation: Optional[KeyIdentifier] = pb(2, KeyIdentifier)
    operation_status: int = pb(3, ENUM)


@dataclass
class SignedMessageStatus(Message):
    counter: int = pb(1, UINT32)
    signed_message_information: int = pb(2, ENUM)


@dataclass
class CommandStatus(Message):
    operation_status: int = pb(1, ENUM)
    signed_message_status: Optional[SignedMessageStatus] = pb(
        2, SignedMessageStatus, oneof="sub_message")
    whitelist_operation_status: Optional[WhitelistOperationStatus] = pb(
        3, WhitelistOperationStatus, oneof="sub_message")


@dataclass
class DetailedClosureStatus(Message):
    tonneau_percent_open: int = pb(1, UINT32)


@dataclass
class VehicleStatus(Message):
    closure_statuses: Optional[ClosureStatuses] = pb(1, ClosureStatuses)
    vehicle_lock_state: int = pb(2, ENUM)
    vehicle_sleep_status: int = pb(3, ENUM)
    user_presence: int = pb(4, ENUM)
    detailed_closure_status: Optional[DetailedClosureStatus] = pb(5, DetailedClosureStatus)


@dataclass
class FromVCSECMessage(Message):
    vehicle_status: Optional[VehicleStatus] = pb(1, VehicleStatus, oneof="sub_message")
    command_status: Optional[CommandStatus] = pb(4, CommandStatus, oneof="sub_message")
    whitelist_info: Optional[WhitelistInfo] = pb(16, WhitelistInfo, oneof="sub_message")
    whitelist_entry_info: Optional[WhitelistEntryInfo] = pb(
        17, WhitelistEntryInfo, oneof="sub_message")
    nominal_error: Optional[NominalError] = pb(46, NominalError, oneof="sub_message")
