"""What a car's answers mean: protocol faults and application results as typed errors.

:func:`fault_error` turns a ``MessageFault_E`` number into the matching
:class:`~teslapy.vcp.errors.SignedCommandError`; :func:`read_result` reads the
application-layer reply of a domain (``CarServer.Response`` from infotainment,
``FromVCSECMessage`` from vehicle security) and raises when the car declined.
"""
from __future__ import annotations

from typing import Dict, Tuple, Type, Union

from teslapy.vcp.carserver import ActionResult, Response
from teslapy.vcp.errors import (CommandRefusedError, DecodeError, KeyNotPairedError,
                                MobileAccessDisabledError, SessionOutOfSyncError,
                                SignedCommandError, VehicleBusyError)
from teslapy.vcp.messages import Domain, MessageFault, OperationStatus
from teslapy.vcp.vcsec import FromVCSECMessage, GenericError

PAIR_HINT = ("Pair it: the car's owner opens https://tesla.com/_ak/<your app's domain> "
             "on the phone with the Tesla app and approves the key, with the phone key "
             "near the car.")
_RETRY = "The command did not run; try again in a few seconds."

_FAULTS: Dict[int, Tuple[Type[SignedCommandError], str]] = {
    MessageFault.BUSY: (VehicleBusyError, "The car is busy. " + _RETRY),
    MessageFault.TIMEOUT: (VehicleBusyError, "A system in the car did not answer. " + _RETRY),
    MessageFault.UNKNOWN_KEY_ID: (KeyNotPairedError,
                                  "The car does not know this command key. " + PAIR_HINT),
    MessageFault.INACTIVE_KEY: (KeyNotPairedError,
                                "This command key has been disabled in the car. " + PAIR_HINT),
    MessageFault.INVALID_SIGNATURE: (SessionOutOfSyncError,
                                     "The car rejected the command's signature."),
    MessageFault.INVALID_TOKEN_OR_COUNTER: (SessionOutOfSyncError,
                                            "The car has seen this command's counter before."),
    MessageFault.INSUFFICIENT_PRIVILEGES: (
        CommandRefusedError, "The key's role does not allow this command in the car's "
        "current state."),
    MessageFault.INVALID_DOMAINS: (
        SignedCommandError, "The car has no system for this command; its firmware may be "
        "too old."),
    MessageFault.INVALID_COMMAND: (
        SignedCommandError, "The car does not know this command; its firmware may be too "
        "old for it."),
    MessageFault.DECODING: (SignedCommandError, "The car could not parse the command."),
    MessageFault.INTERNAL: (VehicleBusyError, "The car reported an internal error (it may "
                            "still be booting). " + _RETRY),
    MessageFault.WRONG_PERSONALIZATION: (SignedCommandError,
                                         "The command was signed for another VIN."),
    MessageFault.BAD_PARAMETER: (SignedCommandError, "The car found the command malformed."),
    MessageFault.KEYCHAIN_IS_FULL: (
        SignedCommandError, "The car's key list is full; remove a key in the car first."),
    MessageFault.INCORRECT_EPOCH: (SessionOutOfSyncError,
                                   "The car restarted its session (new epoch)."),
    MessageFault.IV_INCORRECT_LENGTH: (SignedCommandError,
                                       "The car rejected the command's nonce length."),
    MessageFault.TIME_EXPIRED: (SessionOutOfSyncError,
                                "The command expired before the car received it."),
    MessageFault.NOT_PROVISIONED_WITH_IDENTITY: (
        SignedCommandError, "The car has no VIN set and may need service."),
    MessageFault.COULD_NOT_HASH_METADATA: (SignedCommandError,
                                           "The car reported an internal error."),
    MessageFault.TIME_TO_LIVE_TOO_LONG: (
        SessionOutOfSyncError, "The command's expiry time was too far in the future."),
    MessageFault.REMOTE_ACCESS_DISABLED: (
        MobileAccessDisabledError, "Mobile Access is off in the car. Turn on Controls > "
        "Safety > Allow Mobile Access in the car, then try again."),
    MessageFault.REMOTE_SERVICE_ACCESS_DISABLED: (
        SignedCommandError, "The car does not allow remote commands from a service key."),
    MessageFault.COMMAND_REQUIRES_ACCOUNT_CREDENTIALS: (
        SignedCommandError, "This command must be sent through the Fleet API."),
    MessageFault.REQUEST_MTU_EXCEEDED: (SignedCommandError, "The command is too large."),
    MessageFault.RESPONSE_MTU_EXCEEDED: (
        SignedCommandError, "The car's answer was too large; the command may have run."),
    MessageFault.REPEATED_COUNTER: (SessionOutOfSyncError,
                                    "The car has seen this command's counter before."),
    MessageFault.INVALID_KEY_HANDLE: (SignedCommandError, "The car did not know the key "
                                      "handle."),
    MessageFault.REQUIRES_RESPONSE_ENCRYPTION: (
        SignedCommandError, "The car requires encrypted responses for this command."),
}


def fault_name(fault: int) -> str:
    """The fault's name (``MESSAGEFAULT_ERROR_BUSY`` style), or its number if unknown."""
    try:
        return f"MESSAGEFAULT_ERROR_{MessageFault(fault).name}"
    except ValueError:
        return f"fault {fault}"


def fault_error(fault: int) -> SignedCommandError:
    """The typed error for the car's fault number ``fault`` (not 0)."""
    cls, text = _FAULTS.get(fault, (SignedCommandError, "The car refused the command."))
    message = f"{text} ({fault_name(fault)})"
    if cls is CommandRefusedError:
        return CommandRefusedError(message, reason=text, fault=fault)
    return cls(message, fault=fault)


def read_result(domain: int, plaintext: bytes) -> Union[Response, FromVCSECMessage]:
    """The application-layer reply of ``domain``, checked.

    Raises:
        CommandRefusedError: the car declined the command (``.reason`` says why).
        VehicleBusyError: VCSEC asked to wait.
        SignedCommandError: the reply does not decode (the command may have run).
    """
    try:
        if domain == Domain.INFOTAINMENT:
            return _infotainment_result(Response.decode(plaintext))
        return _vcsec_result(FromVCSECMessage.decode(plaintext))
    except DecodeError as exc:
        raise SignedCommandError(f"The car's answer could not be read, so the command may "
                                 f"or may not have run: {exc}") from exc


def _infotainment_result(response: Response) -> Response:
    status = response.action_status
    if status is not None and status.result == ActionResult.ERROR:
        reason = (status.result_reason.plain_text if status.result_reason else None) \
            or "no reason given"
        raise CommandRefusedError(f"The car could not run the command: {reason}",
                                  reason=reason)
    return response


def _vcsec_result(reply: FromVCSECMessage) -> FromVCSECMessage:
    if reply.nominal_error is not None and reply.nominal_error.generic_error:
        code = reply.nominal_error.generic_error
        try:
            reason = GenericError(code).name.lower().replace("_", " ")
        except ValueError:
            reason = f"error {code}"
        raise CommandRefusedError(f"The car could not run the command: {reason}",
                                  reason=reason)
    if reply.command_status is not None \
            and reply.command_status.operation_status == OperationStatus.WAIT:
        raise VehicleBusyError("The car's security system is busy. " + _RETRY)
    return reply
