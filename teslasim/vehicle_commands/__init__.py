"""The simulated cars' answers to Owner API commands (``POST .../command/<name>``).

:data:`COMMANDS` maps each command name to a handler that reads its parameters from a
:class:`Command`, changes the car's data and returns an outcome ``(result, reason)``,
which the Owner API sends as ``{"response": {"result": bool, "reason": str}}``;
:func:`execute` runs one by name. The handlers live by concern in :mod:`.security`,
:mod:`.climate`, :mod:`.charging`, :mod:`.body` and :mod:`.infotainment`.

Reasons given by the simulated cars: ``already_set`` (charge limit unchanged),
``out_of_range`` (charge limit, temperature or speed limit outside the car's range),
``already_max_range``, ``already_standard``, ``is_charging``, ``not_charging``,
``disconnected``, ``complete``, ``no_sunroof``, ``too_far_from_car`` (window close /
homelink lat-lon more than 1 km from the car), ``incorrect_password`` (remote start),
``remote_start_disabled``, ``user_not_present`` (media), ``invalid_pin`` (not four
digits), ``incorrect_pin``, ``pin_not_set``, ``valet_mode_active``,
``no_update_scheduled``, ``update_in_progress``, ``sentry_mode_unavailable``,
``invalid_heater`` / ``invalid_level`` (seat heater), ``invalid_state`` /
``invalid_command`` / ``invalid_trunk`` / ``invalid_mode`` / ``invalid_name`` (unknown
option values).

Raises :class:`CommandError`: 400 ``invalid_request: ...`` for a parameter of the
wrong type or a missing required one, 405 ``vehicle is currently in service`` for a
car in service. :func:`needs_command_protocol` tells from a VIN whether a car refuses
unsigned commands under today's rules.
"""
from __future__ import annotations

import logging

from teslasim.state import VehicleState, World
from teslasim.vehicle_commands import body, charging, climate, infotainment, security
from teslasim.vehicle_commands.command import Action, Command, CommandError, Outcome
from teslasim.vehicle_commands.protocol import REST_ONLY_COMMANDS, needs_command_protocol

__all__ = ["COMMANDS", "REST_ONLY_COMMANDS", "Action", "Command", "CommandError", "Outcome",
           "execute", "needs_command_protocol"]

logger = logging.getLogger(__name__)

IN_SERVICE = "vehicle is currently in service"

COMMANDS: dict[str, Action] = {
    **security.COMMANDS, **climate.COMMANDS, **charging.COMMANDS, **body.COMMANDS,
    **infotainment.COMMANDS,
}


def execute(name: str, world: World, email: str, vehicle: VehicleState,
            params: dict) -> Outcome:
    """Run command ``name`` on ``vehicle`` for ``email``; the caller holds ``world.lock``.

    Raises ``KeyError`` for a name not in :data:`COMMANDS` and :class:`CommandError`
    (400 for bad parameters, 405 while the car is in service).
    """
    action = COMMANDS[name]
    if vehicle.data.get("in_service"):
        raise CommandError(405, IN_SERVICE)
    result, reason = action(Command(world, email, vehicle, params))
    logger.info("command %s on %s: %s %s", name, vehicle.id_s, result, reason)
    return result, reason
