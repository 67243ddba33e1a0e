"""Errors of the Vehicle Command Protocol, each with a message that says what to do.

The tree (``TeslaError`` and ``VehicleError`` are :mod:`teslapy.errors`)::

    TeslaError
    ├── DecodeError                   bytes that are not a well-formed protobuf message
    ├── CommandKeyError               a command key file cannot be created or read
    └── VehicleError
        └── SignedCommandError        a car did not run a signed command; ``.fault``
            ├── KeyNotPairedError         the car does not know the key (fault 3 or a
            │                             session info saying KEY_NOT_ON_WHITELIST)
            ├── MobileAccessDisabledError the owner switched off Mobile Access (fault 21)
            ├── VehicleBusyError          busy, timed out or asked to wait (faults 1, 2,
            │                             11; operation status WAIT): try again later
            ├── SessionOutOfSyncError     epoch, counter or clock still refused after one
            │                             resynchronisation
            ├── ResponseAuthenticationError  a reply failed authentication (wrong tag,
            │                             replayed, not for this request)
            └── CommandRefusedError       the car checked the command and declined it
                                          (``.reason`` is the car's text)

``fault`` is the ``MessageFault_E`` number the car sent, or ``None`` when the error did
not come from a fault code.
"""
from __future__ import annotations

from typing import Optional

from teslapy.errors import TeslaError, VehicleError


class DecodeError(TeslaError):
    """Bytes that are not a well-formed encoding of the expected protobuf message."""


class CommandKeyError(TeslaError):
    """A command key file could not be created or read; the message names the file."""


class SignedCommandError(VehicleError):
    """A car did not run a signed command. ``fault`` is the car's fault number or None."""

    def __init__(self, message: str, fault: Optional[int] = None) -> None:
        super().__init__(message)
        self.fault = fault


class KeyNotPairedError(SignedCommandError):
    """The car does not know the command key: the owner must pair it first."""


class MobileAccessDisabledError(SignedCommandError):
    """The owner has switched off Mobile Access in the car."""


class VehicleBusyError(SignedCommandError):
    """The car was busy or did not answer in time; the command did not run. Retry later."""


class SessionOutOfSyncError(SignedCommandError):
    """The car refused the session's epoch, counter, clock or signature; it did not run
    the command. ``resynced`` tells whether the reply carried session info that was applied.
    """

    resynced = False


class ResponseAuthenticationError(SignedCommandError):
    """A reply could not be authenticated, so nothing in it can be trusted."""


class CommandRefusedError(SignedCommandError):
    """The car accepted the signature but declined the command; ``reason`` says why."""

    def __init__(self, message: str, reason: str = "", fault: Optional[int] = None) -> None:
        super().__init__(message, fault)
        self.reason = reason
