"""Every endpoint the library names is either served by the simulated Owner API or listed here.

The simulator defines its routes from the protocol, not from the library's
``endpoints.json``; this test compares the two, matching method and path with
Starlette's own route matching (the catch-all unknown-route answer does not count).
"""
from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from starlette.routing import Match

from teslasim.server import Simulator
from teslasim.state import World

# Endpoints the simulator answers with Tesla's unknown-route envelope: app web pages,
# telemetry and notification plumbing, message center, sharing and invitations, key
# pairing, energy programs and tariffs, orders and other account services.
NOT_MODELLED = frozenset({
    'SEND_LOG', 'SEND_REPORT', 'RETRIEVE_NOTIFICATION_PREFERENCES',
    'SEND_NOTIFICATION_PREFERENCES', 'RETRIEVE_NOTIFICATION_SUBSCRIPTION_PREFERENCES',
    'SEND_NOTIFICATION_SUBSCRIPTION_PREFERENCES', 'DEACTIVATE_DEVICE_TOKEN',
    'POWERWALL_ORDER_SESSION_DATA', 'POWERWALL_ORDER_PAGE', 'ONBOARDING_EXPERIENCE',
    'ONBOARDING_EXPERIENCE_PAGE', 'SERVICE_SELF_SCHEDULING_PAGE', 'REFERRAL_DATA',
    'REFERRAL_PAGE', 'ROADSIDE_ASSISTANCE_DATA', 'ROADSIDE_ASSISTANCE_PAGE',
    'UPGRADE_ELIGIBILITY', 'UPGRADES_PAGE', 'MESSAGE_CENTER_MESSAGE_LIST',
    'MESSAGE_CENTER_MESSAGE', 'MESSAGE_CENTER_COUNTS', 'MESSAGE_CENTER_MESSAGE_ACTION_UPDATE',
    'MESSAGE_CENTER_CTA_PAGE', 'AUTH_COMMAND_TOKEN', 'SEND_DEVICE_KEY',
    'DIAGNOSTICS_ENTITLEMENTS', 'SEND_DIAGNOSTICS', 'ENERGY_SERVICE_SCHEDULING_PAGE',
    'SAVINGS_FORECAST', 'TARIFF_RATES', 'SEND_NOTIFICATION_CONFIRMATION',
    'HVAC_BIOWEAPON_MODE', 'SCHEDULED_DEPARTURE', 'NAVIGATION_ROUTE', 'SET_COP_TEMP',
    'GET_MANAGED_CHARGING_SITES', 'ADD_MANAGED_CHARGING_SITE', 'REMOVE_MANAGED_CHARGING_SITE',
    'UPDATE_CHARGE_ON_SOLAR_FEATURE', 'GET_CHARGE_ON_SOLAR_FEATURE', 'TAKE_DRIVENOTE',
    'SEND_SC_TO_VEHICLE', 'SEND_GPS_TO_VEHICLE', 'SEND_WAYPOINTS_TO_VEHICLE',
    'REMOTE_AUTO_SEAT_CLIMATE_REQUEST', 'REMOTE_SEAT_COOLING_REQUEST',
    'REMOTE_AUTO_STEERING_WHEEL_HEAT_CLIMATE_REQUEST',
    'REMOTE_STEERING_WHEEL_HEAT_LEVEL_REQUEST', 'DASHCAM_SAVE_CLIP', 'ADD_KEY',
    'VEHICLE_CHARGE_HISTORY', 'VEHICLE_ENERGY_SITES', 'RELEASE_NOTES',
    'FETCH_VEHICLE_SHARED_DRIVERS', 'SET_VEHICLE_SHARED_DRIVER_LOCATION_ACCESS',
    'CREATE_VEHICLE_SHARE_INVITE', 'FETCH_VEHICLE_SHARE_INVITES',
    'REVOKE_VEHICLE_SHARE_INVITE', 'REMOVE_VEHICLE_SHARE_DRIVER', 'SYSTEM_STATUS',
    'SITE_ADDRESS', 'SITE_TARIFF', 'SOLAR_SAVINGS_FORECAST',
    'ENERGY_SITE_BACKUP_TIME_REMAINING', 'ENERGY_SITE_PROGRAMS',
    'ENERGY_SITE_TELEMETRY_HISTORY', 'ENERGY_SITE_IMPORT_EXPORT_CONFIG',
    'ENERGY_SITE_USER_SETTINGS', 'ENERGY_SITE_COMMAND', 'ENERGY_SITE_ENROLL_PROGRAM',
    'ENERGY_SITE_OPT_EVENT', 'ENERGY_SITE_PREFERENCE', 'ENERGY_SITE_PROGRAM_DETAILS',
    'ENERGY_SITE_ONBOARDING_TIPS', 'FETCH_ENERGY_SITE_SHARED_USERS',
    'CREATE_ENERGY_SITE_SHARE_INVITE', 'FETCH_ENERGY_SITE_SHARE_INVITES',
    'REVOKE_ENERGY_SITE_SHARE_INVITE', 'REMOVE_ENERGY_SITE_SHARE_USER', 'VEHICLE_ORDER_LIST',
    'SPLUNK_TELEMETRY', 'APP_FEEDBACK_ENTITLEMENTS', 'APP_FEEDBACK_LOGS',
    'APP_FEEDBACK_METADATA', 'RETRIEVE_NOTIFICATION_SUBSCRIPTIONS',
    'SEND_NOTIFICATION_SUBSCRIPTIONS', 'GET_OWNERSHIP_XP_CONFIG',
    'MESSAGE_CENTER_MESSAGE_COUNT', 'RATE_TARIFFS', 'ENERGY_REGISTER_PRODUCT',
    'CHECK_ENERGY_PRODUCT_REGISTRATION', 'ENERGY_EVENT',
    'ENERGY_WALL_CONNECTOR_FIRMWARE_DOWNLOAD_URL', 'HERMES_AUTHORIZATION',
    'HERMES_VEHICLE_AUTHORIZATION', 'PLACE_SUGGESTIONS', 'DRIVING_PLAN', 'FEATURE_CONFIG',
    'REDEEM_VEHICLE_SHARE_INVITE', 'REDEEM_ENERGY_SITE_SHARE_INVITE',
    'VEHICLE_PSEUDONYM_DIRECTIVES', 'VEHICLE_UPLOAD_PSEUDONYM_DIRECTIVE',
    'VEHICLE_COMPLETE_PSEUDONYM_DIRECTIVE', 'VEHICLE_DOWNLOAD_VAULT', 'VEHICLE_UPLOAD_VAULT',
    'USER_RESET_VAULT', 'USER_INFO', 'TEST_DRIVE_START_DRIVE', 'THIRD_PARTY_PUBLIC_KEY',
})


def load_endpoints() -> dict:
    text = resources.files("teslapy").joinpath("endpoints.json").read_text("utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def api_app():
    simulator = Simulator(World.demo())       # built, never started: only its routes are used
    try:
        yield simulator.apps["api"]
    finally:
        simulator.stop()


def routed(app, method: str, uri: str) -> bool:
    path = "/" + re.sub(r"\{[^}]+\}", "12345678901234567", uri.split("?")[0])
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in app.routes:
        if getattr(route, "name", "") == "unknown_route":
            continue
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return True
    return False


def test_every_endpoint_is_routed_or_listed_as_not_modelled(api_app):
    endpoints = load_endpoints()
    missing = sorted(name for name, entry in endpoints.items()
                     if name not in NOT_MODELLED
                     and not routed(api_app, entry["TYPE"], entry["URI"]))
    assert missing == [], f"neither routed nor listed as not modelled: {missing}"


def test_not_modelled_list_is_current(api_app):
    endpoints = load_endpoints()
    unknown = sorted(NOT_MODELLED - set(endpoints))
    assert unknown == [], f"not in endpoints.json: {unknown}"
    served = sorted(name for name in NOT_MODELLED
                    if routed(api_app, endpoints[name]["TYPE"], endpoints[name]["URI"]))
    assert served == [], f"routed now, drop from NOT_MODELLED: {served}"


def test_seed_commands_are_all_routed(api_app):
    endpoints = load_endpoints()
    commands = [name for name, entry in endpoints.items() if "/command/" in entry["URI"]
                and name not in NOT_MODELLED]
    assert len(commands) >= 40
    assert "CALENDAR_SYNC" in commands and "REMOTE_START" in commands
