"""Signed commands between the library's sessions and the simulated car, both sides real."""
from __future__ import annotations

import threading
import time

import pytest

from teslapy.errors import VehicleError
from teslapy.vcp.carserver import Action, ActionResult, ActionStatus, Response
from teslapy.vcp.commands import build_command
from teslapy.vcp.errors import (CommandRefusedError, KeyNotPairedError,
                                MobileAccessDisabledError, ResponseAuthenticationError,
                                SessionOutOfSyncError, VehicleBusyError)
from teslapy.vcp.keys import generate_private_key, public_key_bytes
from teslapy.vcp.messages import Domain, MessageFault, RoutableMessage
from teslapy.vcp.session import DomainSession, VehicleSessions
from teslapy.vcp.vcsec import FromVCSECMessage, RKEAction, UnsignedMessage
from teslasim.signed_commands import rest_command
from teslasim.state import Clock

VIN = "5YJ3E111111111111"      # the simulated car's (conftest)
HONK = build_command("HONK_HORN", {})[1]
LOCK = build_command("LOCK", {})[1]


def session(key, domain=Domain.INFOTAINMENT, **options) -> DomainSession:
    return DomainSession(key, VIN, domain, **options)


def fault_of(reply: bytes) -> int:
    return RoutableMessage.decode(reply).fault


# -- the happy path ------------------------------------------------------------------

def test_signed_command_runs_in_the_car(client_key, link):
    reply = session(client_key).run(HONK, link)
    assert isinstance(reply, Response) and reply.action_status.result == 0
    assert [rest_command(command) for command in link.commands] == [("honk_horn", {})]
    assert len(link.requests) == 2          # one handshake, one command


def test_both_domains_have_their_own_session(client_key, link):
    sessions = VehicleSessions(client_key, VIN)
    assert isinstance(sessions.run(Domain.VEHICLE_SECURITY, LOCK, link), FromVCSECMessage)
    sessions.run(Domain.INFOTAINMENT, HONK, link)
    sessions.run(Domain.INFOTAINMENT, HONK, link)
    assert link.commands == [UnsignedMessage(rke_action=RKEAction.LOCK), Action.decode(HONK),
                             Action.decode(HONK)]
    assert sessions[Domain.VEHICLE_SECURITY].epoch != sessions[Domain.INFOTAINMENT].epoch
    assert (sessions[Domain.VEHICLE_SECURITY].counter, sessions[Domain.INFOTAINMENT].counter) \
        == (1, 2)


def test_counters_strictly_increase_and_the_answer_is_encrypted(client_key, link):
    domain_session = session(client_key)
    domain_session.handshake(link)
    counters = []
    for _ in range(3):
        request = domain_session.sign(HONK)
        counters.append(RoutableMessage.decode(request.data)
                        .signature_data.hmac_personalized_data.counter)
        answer = link(request.data)
        assert RoutableMessage.decode(answer).signature_data.aes_gcm_response_data is not None
        assert Response.decode(domain_session.read_reply(request, answer)) == \
            Response(action_status=ActionStatus(result=ActionResult.OK))
    assert counters == [1, 2, 3]


# -- refusals by the car ---------------------------------------------------------------

def signed(client_key, link, domain=Domain.INFOTAINMENT, payload=HONK):
    domain_session = session(client_key, domain)
    domain_session.handshake(link)
    return domain_session, domain_session.sign(payload)


@pytest.mark.parametrize("domain, payload", [(Domain.INFOTAINMENT, HONK),
                                             (Domain.VEHICLE_SECURITY, LOCK)])
def test_replayed_message_is_refused(client_key, link, domain, payload):
    domain_session, request = signed(client_key, link, domain, payload)
    domain_session.read_reply(request, link(request.data))
    replay = link(request.data)
    assert fault_of(replay) == MessageFault.INVALID_TOKEN_OR_COUNTER
    assert len(link.commands) == 1
    with pytest.raises(SessionOutOfSyncError):
        domain_session.read_reply(request, replay)


def rewrite(data: bytes, change) -> bytes:
    message = RoutableMessage.decode(data)
    change(message)
    return message.encode()


def _hmac(message):
    return message.signature_data.hmac_personalized_data


TAMPERING = {
    "tag": lambda m: setattr(_hmac(m), "tag", bytes([_hmac(m).tag[0] ^ 1]) + _hmac(m).tag[1:]),
    "counter": lambda m: setattr(_hmac(m), "counter", _hmac(m).counter + 1),
    "expiry": lambda m: setattr(_hmac(m), "expires_at", _hmac(m).expires_at + 60),
    "payload": lambda m: setattr(m, "protobuf_message_as_bytes", LOCK),
    "flags": lambda m: setattr(m, "flags", 0),
    "domain": lambda m: setattr(m.to_destination, "domain", Domain.VEHICLE_SECURITY),
}


@pytest.mark.parametrize("field", sorted(TAMPERING))
def test_tampered_message_is_refused(client_key, link, field):
    _, request = signed(client_key, link)
    answer = link(rewrite(request.data, TAMPERING[field]))
    # sent to the other domain, the message meets that domain's epoch first
    assert fault_of(answer) == (MessageFault.INCORRECT_EPOCH if field == "domain"
                                else MessageFault.INVALID_SIGNATURE)
    assert link.commands == []


def test_session_info_for_another_vin_is_not_trusted(client_key, link):
    with pytest.raises(ResponseAuthenticationError, match="wrong tag"):
        DomainSession(client_key, "5YJ3E999999999999", Domain.INFOTAINMENT).handshake(link)


def test_message_signed_for_another_vin_is_refused(client_key, link):
    domain_session = session(client_key)
    domain_session.handshake(link)
    domain_session.vin = "5YJ3E999999999999"
    assert fault_of(link(domain_session.sign(HONK).data)) == MessageFault.INVALID_SIGNATURE
    assert link.commands == []


def test_wrong_epoch_is_refused_with_fresh_session_info(client_key, link):
    _, request = signed(client_key, link)
    answer = RoutableMessage.decode(link(rewrite(request.data,
                                                 lambda m: setattr(_hmac(m), "epoch", bytes(16)))))
    assert answer.fault == MessageFault.INCORRECT_EPOCH
    assert answer.session_info and answer.signature_data.session_info_tag.tag


def test_expired_message_is_refused(client_key, link, car_clock):
    _, request = signed(client_key, link)
    car_clock.advance(11)
    assert fault_of(link(request.data)) == MessageFault.TIME_EXPIRED
    assert link.commands == []


def test_unpaired_key_is_told_how_to_pair(car, link):
    stranger = generate_private_key()
    with pytest.raises(KeyNotPairedError, match="tesla.com/_ak/"):
        session(stranger).run(HONK, link)
    assert link.commands == []


def test_command_from_an_unpaired_key_is_refused(client_key, car, link):
    domain_session, request = signed(client_key, link)
    car.unpair(public_key_bytes(client_key))
    with pytest.raises(KeyNotPairedError) as caught:
        domain_session.read_reply(request, link(request.data))
    assert caught.value.fault == MessageFault.UNKNOWN_KEY_ID
    assert isinstance(caught.value, VehicleError)


def test_mobile_access_off(client_key, car, link):
    car.mobile_access = False
    with pytest.raises(MobileAccessDisabledError, match="Allow Mobile Access"):
        session(client_key).run(HONK, link)


def test_busy_domain(client_key, car, link):
    car.domains[Domain.VEHICLE_SECURITY].busy = True
    with pytest.raises(VehicleBusyError, match="try again"):
        session(client_key, Domain.VEHICLE_SECURITY).run(LOCK, link)
    assert session(client_key).run(HONK, link)


def test_car_declining_the_command_gives_its_reason(client_key, link):
    link.outcome = (False, "not_charging")
    with pytest.raises(CommandRefusedError) as caught:
        session(client_key).run(build_command("STOP_CHARGE", {})[1], link)
    assert caught.value.reason == "not_charging"
    with pytest.raises(CommandRefusedError):
        session(client_key, Domain.VEHICLE_SECURITY).run(LOCK, link)


# -- resynchronisation -----------------------------------------------------------------

def test_car_restart_resyncs_from_the_refusal_and_retries_once(client_key, car, link):
    domain_session = session(client_key)
    domain_session.run(HONK, link)
    old_epoch = domain_session.epoch
    car.domains[Domain.INFOTAINMENT].restart()
    domain_session.run(HONK, link)
    assert link.faults == [MessageFault.INCORRECT_EPOCH]
    assert len(link.commands) == 2
    assert len(link.requests) == 4          # handshake, command, refused command, command
    assert domain_session.epoch == car.domains[Domain.INFOTAINMENT].epoch != old_epoch


def test_stale_counter_resyncs_and_succeeds(client_key, link):
    """Another client with the same key moved the counter on: one retry catches up."""
    behind, ahead = (session(client_key, Domain.VEHICLE_SECURITY) for _ in range(2))
    behind.run(LOCK, link)
    for _ in range(3):
        ahead.run(LOCK, link)
    behind.run(LOCK, link)
    assert link.faults == [MessageFault.INVALID_TOKEN_OR_COUNTER]
    assert len(link.commands) == 5
    assert behind.counter == 5


def test_clock_drift_resyncs_and_succeeds(client_key, link, car_clock):
    domain_session = session(client_key)
    domain_session.run(HONK, link)
    car_clock.advance(3600)                 # the car's clock moved on without the client
    domain_session.run(HONK, link)
    assert link.faults == [MessageFault.TIME_EXPIRED]
    assert len(link.commands) == 2


def test_a_second_refusal_is_raised(client_key, car, link):
    link.tamper = lambda data: rewrite(data, TAMPERING["tag"]) \
        if RoutableMessage.decode(data).signature_data else data
    with pytest.raises(SessionOutOfSyncError, match="signature"):
        session(client_key).run(HONK, link)
    assert link.faults == [MessageFault.INVALID_SIGNATURE] * 2
    assert link.commands == []


# -- the car's answers are checked ---------------------------------------------------------

def test_tampered_encrypted_answer_is_rejected(client_key, link):
    domain_session, request = signed(client_key, link)
    answer = RoutableMessage.decode(link(request.data))
    answer.protobuf_message_as_bytes = bytes([answer.protobuf_message_as_bytes[0] ^ 1]) + \
        answer.protobuf_message_as_bytes[1:]
    with pytest.raises(ResponseAuthenticationError, match="failed authentication"):
        domain_session.read_reply(request, answer.encode())


def test_replayed_answer_is_rejected(client_key, link):
    domain_session, request = signed(client_key, link)
    answer = link(request.data)
    domain_session.read_reply(request, answer)
    with pytest.raises(ResponseAuthenticationError, match="replayed"):
        domain_session.read_reply(request, answer)


def test_answer_to_another_request_is_rejected(client_key, link):
    domain_session, first = signed(client_key, link)
    second = domain_session.sign(HONK)
    with pytest.raises(ResponseAuthenticationError, match="another request"):
        domain_session.read_reply(second, link(first.data))


def test_tampered_session_info_is_rejected(client_key, link):
    domain_session = session(client_key)
    request = domain_session.handshake_request()
    answer = RoutableMessage.decode(link(request.data))
    answer.session_info = answer.session_info[:-1] + bytes([answer.session_info[-1] ^ 1])
    with pytest.raises(ResponseAuthenticationError, match="wrong tag"):
        domain_session.accept_handshake(request, answer.encode())
    assert not domain_session.established


def test_late_session_info_is_not_trusted(client_key, link):
    client_clock = Clock()
    domain_session = session(client_key, clock=client_clock.now)
    request = domain_session.handshake_request()
    answer = link(request.data)
    client_clock.advance(11)
    with pytest.raises(ResponseAuthenticationError, match="more than 10 s"):
        domain_session.accept_handshake(request, answer)


def test_garbage_answer_is_rejected(client_key, link):
    domain_session = session(client_key)
    with pytest.raises(ResponseAuthenticationError):
        domain_session.handshake(lambda data: b"\xff\xff")


def test_signing_without_a_session_is_misuse(client_key):
    with pytest.raises(ValueError, match="handshake"):
        session(client_key).sign(HONK)


@pytest.mark.parametrize("vin", ["5YJ3E11111111111", "5YJ3E11111111111O", "", None])
def test_invalid_vin_is_refused(client_key, vin):
    with pytest.raises(ValueError, match="VIN"):
        DomainSession(client_key, vin, Domain.INFOTAINMENT)


# -- one command per car and domain at a time --------------------------------------------------

def test_concurrent_commands_to_vehicle_security_are_serialised(client_key, link):
    """Vehicle security needs counters in order; the session's lock keeps them in order."""
    domain_session = session(client_key, Domain.VEHICLE_SECURITY)

    def slow_link(data: bytes) -> bytes:
        time.sleep(0.001)                   # invites the threads to interleave
        return link(data)

    errors = []

    def worker():
        try:
            for _ in range(5):
                domain_session.run(LOCK, slow_link)
        except Exception as exc:            # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert link.faults == []
    assert len(link.commands) == 30
    assert domain_session.counter == 30
