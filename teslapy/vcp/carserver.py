"""Payloads of the infotainment domain: ``CarServer.Action`` requests and ``Response`` replies.

Field numbers, names and types follow Tesla's ``car_server.proto`` and ``common.proto``
(vehicle-command, Apache-2.0). Only the actions teslapy can send are defined; the
``VehicleAction`` oneof has many more members, which this codec skips when reading.
Members that carry no data are empty messages (:class:`Void` or an empty action type),
set by assigning an instance, e.g. ``VehicleAction(honk_horn=Void())``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import List, Optional

from teslapy.vcp.messages import SessionInfo
from teslapy.vcp.wire import (BOOL, DOUBLE, ENUM, FLOAT, INT32, INT64, SINT32, STRING,
                              Message, pb)


class ActionResult(enum.IntEnum):
    """``CarServer.OperationStatus_E``: the result of an action."""

    OK = 0
    ERROR = 1


class ClimateKeeperMode(enum.IntEnum):
    OFF = 0
    ON = 1
    DOG = 2
    CAMP = 3


class CopActivationTemp(enum.IntEnum):
    UNSPECIFIED = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass
class Void(Message):
    """An empty message: a flag whose presence is the information."""


@dataclass
class LatLong(Message):
    latitude: float = pb(1, FLOAT)
    longitude: float = pb(2, FLOAT)


@dataclass
class Timestamp(Message):
    """``google.protobuf.Timestamp``."""

    seconds: int = pb(1, INT64)
    nanos: int = pb(2, INT32)


@dataclass
class HvacAutoAction(Message):
    power_on: bool = pb(1, BOOL)
    manual_override: bool = pb(2, BOOL)


@dataclass
class OnOffAction(Message):
    """The shape shared by several actions: ``on`` (1) and ``manual_override`` (2)."""

    on: bool = pb(1, BOOL)
    manual_override: bool = pb(2, BOOL)


@dataclass
class HvacSteeringWheelHeaterAction(Message):
    power_on: bool = pb(1, BOOL)


@dataclass
class HvacTemperatureAdjustmentAction(Message):
    driver_temp_celsius: float = pb(6, FLOAT)
    passenger_temp_celsius: float = pb(7, FLOAT)


@dataclass
class ChargingSetLimitAction(Message):
    percent: int = pb(1, INT32)


@dataclass
class ChargingStartStopAction(Message):
    unknown: Optional[Void] = pb(1, Void, oneof="charging_action")
    start: Optional[Void] = pb(2, Void, oneof="charging_action")
    start_standard: Optional[Void] = pb(3, Void, oneof="charging_action")
    start_max_range: Optional[Void] = pb(4, Void, oneof="charging_action")
    stop: Optional[Void] = pb(5, Void, oneof="charging_action")


@dataclass
class PinAction(Message):
    """``DrivingClearSpeedLimitPinAction``: ``pin`` (1)."""

    pin: str = pb(1, STRING)


@dataclass
class DrivingSetSpeedLimitAction(Message):
    limit_mph: float = pb(1, DOUBLE)


@dataclass
class DrivingSpeedLimitAction(Message):
    activate: bool = pb(1, BOOL)
    pin: str = pb(2, STRING)


@dataclass
class MediaUpdateVolume(Message):
    volume_delta: Optional[int] = pb(1, SINT32, oneof="media_volume")
    volume_absolute_float: Optional[float] = pb(3, FLOAT, oneof="media_volume")


@dataclass
class ScheduleSoftwareUpdateAction(Message):
    offset_sec: int = pb(1, INT32)


@dataclass
class SetSentryModeAction(Message):
    on: bool = pb(1, BOOL)


@dataclass
class SetValetModeAction(Message):
    on: bool = pb(1, BOOL)
    password: str = pb(2, STRING)


@dataclass
class SunroofOpenCloseAction(Message):
    absolute_level: Optional[int] = pb(1, INT32, oneof="sunroof_level")
    delta_level: Optional[int] = pb(2, SINT32, oneof="sunroof_level")
    vent: Optional[Void] = pb(3, Void, oneof="action")
    close: Optional[Void] = pb(4, Void, oneof="action")
    open: Optional[Void] = pb(5, Void, oneof="action")


@dataclass
class TriggerHomelinkAction(Message):
    location: Optional[LatLong] = pb(1, LatLong)
    token: str = pb(2, STRING)


@dataclass
class WindowAction(Message):
    unknown: Optional[Void] = pb(2, Void, oneof="action")
    vent: Optional[Void] = pb(3, Void, oneof="action")
    close: Optional[Void] = pb(4, Void, oneof="action")


#: Seat positions of ``HvacSeatHeaterAction``, in the order of teslapy's REST ``heater``
#: parameter (0 front left ... 5 rear right), as field names.
SEAT_HEATER_POSITIONS = (
    "car_seat_front_left", "car_seat_front_right", "car_seat_rear_left",
    "car_seat_rear_left_back", "car_seat_rear_center", "car_seat_rear_right",
    "car_seat_rear_right_back", "car_seat_third_row_left", "car_seat_third_row_right")
#: Heater levels of ``HvacSeatHeaterAction`` (REST ``level`` 0-3), as field names.
SEAT_HEATER_LEVELS = ("seat_heater_off", "seat_heater_low", "seat_heater_med",
                      "seat_heater_high")


@dataclass
class HvacSeatHeaterAction(Message):
    seat_heater_unknown: Optional[Void] = pb(1, Void, oneof="seat_heater_level")
    seat_heater_off: Optional[Void] = pb(2, Void, oneof="seat_heater_level")
    seat_heater_low: Optional[Void] = pb(3, Void, oneof="seat_heater_level")
    seat_heater_med: Optional[Void] = pb(4, Void, oneof="seat_heater_level")
    seat_heater_high: Optional[Void] = pb(5, Void, oneof="seat_heater_level")
    car_seat_unknown: Optional[Void] = pb(6, Void, oneof="seat_position")
    car_seat_front_left: Optional[Void] = pb(7, Void, oneof="seat_position")
    car_seat_front_right: Optional[Void] = pb(8, Void, oneof="seat_position")
    car_seat_rear_left: Optional[Void] = pb(9, Void, oneof="seat_position")
    car_seat_rear_left_back: Optional[Void] = pb(10, Void, oneof="seat_position")
    car_seat_rear_center: Optional[Void] = pb(11, Void, oneof="seat_position")
    car_seat_rear_right: Optional[Void] = pb(12, Void, oneof="seat_position")
    car_seat_rear_right_back: Optional[Void] = pb(13, Void, oneof="seat_position")
    car_seat_third_row_left: Optional[Void] = pb(14, Void, oneof="seat_position")
    car_seat_third_row_right: Optional[Void] = pb(15, Void, oneof="seat_position")


@dataclass
class HvacSeatHeaterActions(Message):
    hvac_seat_heater_action: List[HvacSeatHeaterAction] = pb(
        1, HvacSeatHeaterAction, repeated=True)


@dataclass
class ScheduledChargingAction(Message):
    enabled: bool = pb(1, BOOL)
    charging_time: int = pb(2, INT32)


@dataclass
class SetChargingAmpsAction(Message):
    charging_amps: int = pb(1, INT32)


@dataclass
class HvacClimateKeeperAction(Message):
    climate_keeper_action: int = pb(1, ENUM)
    manual_override: bool = pb(2, BOOL)


@dataclass
class Ping(Message):
    ping_id: int = pb(1, INT32)
    local_timestamp: Optional[Timestamp] = pb(2, Timestamp)
    last_remote_timestamp: Optional[Timestamp] = pb(3, Timestamp)


@dataclass
class SetCabinOverheatProtectionAction(Message):
    on: bool = pb(1, BOOL)
    fan_only: bool = pb(2, BOOL)


@dataclass
class SetVehicleNameAction(Message):
    vehicle_name: str = pb(1, STRING)


@dataclass
class SetCopTempAction(Message):
    cop_activation_temp: int = pb(1, ENUM)


_ACTION = "vehicle_action_msg"


@dataclass
class VehicleAction(Message):
    charging_set_limit: Optional[ChargingSetLimitAction] = pb(
        5, ChargingSetLimitAction, oneof=_ACTION)
    charging_start_stop: Optional[ChargingStartStopAction] = pb(
        6, ChargingStartStopAction, oneof=_ACTION)
    driving_clear_speed_limit_pin: Optional[PinAction] = pb(7, PinAction, oneof=_ACTION)
    driving_set_speed_limit: Optional[DrivingSetSpeedLimitAction] = pb(
        8, DrivingSetSpeedLimitAction, oneof=_ACTION)
    driving_speed_limit: Optional[DrivingSpeedLimitAction] = pb(
        9, DrivingSpeedLimitAction, oneof=_ACTION)
    hvac_auto: Optional[HvacAutoAction] = pb(10, HvacAutoAction, oneof=_ACTION)
    hvac_set_preconditioning_max: Optional[OnOffAction] = pb(12, OnOffAction, oneof=_ACTION)
    hvac_steering_wheel_heater: Optional[HvacSteeringWheelHeaterAction] = pb(
        13, HvacSteeringWheelHeaterAction, oneof=_ACTION)
    hvac_temperature_adjustment: Optional[HvacTemperatureAdjustmentAction] = pb(
        14, HvacTemperatureAdjustmentAction, oneof=_ACTION)
    media_play: Optional[Void] = pb(15, Void, oneof=_ACTION)
    media_update_volume: Optional[MediaUpdateVolume] = pb(16, MediaUpdateVolume, oneof=_ACTION)
    media_next_favorite: Optional[Void] = pb(17, Void, oneof=_ACTION)
    media_previous_favorite: Optional[Void] = pb(18, Void, oneof=_ACTION)
    media_next_track: Optional[Void] = pb(19, Void, oneof=_ACTION)
    media_previous_track: Optional[Void] = pb(20, Void, oneof=_ACTION)
    cancel_software_update: Optional[Void] = pb(25, Void, oneof=_ACTION)
    flash_lights: Optional[Void] = pb(26, Void, oneof=_ACTION)
    honk_horn: Optional[Void] = pb(27, Void, oneof=_ACTION)
    reset_valet_pin: Optional[Void] = pb(28, Void, oneof=_ACTION)
    schedule_software_update: Optional[ScheduleSoftwareUpdateAction] = pb(
        29, ScheduleSoftwareUpdateAction, oneof=_ACTION)
    set_sentry_mode: Optional[SetSentryModeAction] = pb(30, SetSentryModeAction, oneof=_ACTION)
    set_valet_mode: Optional[SetValetModeAction] = pb(31, SetValetModeAction, oneof=_ACTION)
    sunroof_open_close: Optional[SunroofOpenCloseAction] = pb(
        32, SunroofOpenCloseAction, oneof=_ACTION)
    trigger_homelink: Optional[TriggerHomelinkAction] = pb(
        33, TriggerHomelinkAction, oneof=_ACTION)
    window: Optional[WindowAction] = pb(34, WindowAction, oneof=_ACTION)
    hvac_bioweapon_mode: Optional[OnOffAction] = pb(35, OnOffAction, oneof=_ACTION)
    hvac_seat_heater: Optional[HvacSeatHeaterActions] = pb(
        36, HvacSeatHeaterActions, oneof=_ACTION)
    scheduled_charging: Optional[ScheduledChargingAction] = pb(
        41, ScheduledChargingAction, oneof=_ACTION)
    set_charging_amps: Optional[SetChargingAmpsAction] = pb(
        43, SetChargingAmpsAction, oneof=_ACTION)
    hvac_climate_keeper: Optional[HvacClimateKeeperAction] = pb(
        44, HvacClimateKeeperAction, oneof=_ACTION)
    ping: Optional[Ping] = pb(46, Ping, oneof=_ACTION)
    set_cabin_overheat_protection: Optional[SetCabinOverheatProtectionAction] = pb(
        50, SetCabinOverheatProtectionAction, oneof=_ACTION)
    set_vehicle_name: Optional[SetVehicleNameAction] = pb(
        54, SetVehicleNameAction, oneof=_ACTION)
    charge_port_door_close: Optional[Void] = pb(61, Void, oneof=_ACTION)
    charge_port_door_open: Optional[Void] = pb(62, Void, oneof=_ACTION)
    set_cop_temp: Optional[SetCopTempAction] = pb(66, SetCopTempAction, oneof=_ACTION)


@dataclass
class Action(Message):
    vehicle_action: Optional[VehicleAction] = pb(2, VehicleAction, oneof="action_msg")


@dataclass
class ResultReason(Message):
    plain_text: Optional[str] = pb(1, STRING, oneof="reason")


@dataclass
class ActionStatus(Message):
    result: int = pb(1, ENUM)
    result_reason: Optional[ResultReason] = pb(2, ResultReason)


@dataclass
class Response(Message):
    action_status: Optional[ActionStatus] = pb(1, ActionStatus)
    get_session_info_response: Optional[SessionInfo] = pb(3, SessionInfo, oneof="response_msg")
    ping: Optional[Ping] = pb(9, Ping, oneof="response_msg")
