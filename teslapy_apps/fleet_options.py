"""The CLI's Fleet API options: an app's own sign-in, signed commands and command keys.

``--client-id`` (with ``--redirect-uri``, ``--region``, ``--scopes``, and the secret from
``TESLAPY_CLIENT_SECRET``) makes the CLI talk to the Fleet API through that app;
``--command-key FILE`` signs the commands of cars that need the Vehicle Command
Protocol. ``--create-key FILE`` makes a key and prints its public key, where the app's
domain must serve it and the pairing link; ``--register`` registers the domain in the
region. With ``--demo`` and the simulator's 2026 rules (or ``--fleet``), the simulated
cloud's demo app is used, with a key made in the demo's temporary folder, registered
and paired with the demo account's cars, so signed commands work from the start.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable, Dict, Optional, TextIO
from urllib.parse import urlsplit

import teslapy
from teslapy.fleet import REGIONS, regions
from teslapy_apps.common import AppError, ExitCode

SECRET_ENV = "TESLAPY_CLIENT_SECRET"
DEMO_KEY_FILE = "command-key.pem"


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the Fleet API options to the CLI's parser."""
    group = parser.add_argument_group(
        "Fleet API", "use an app of your own (developer.tesla.com) and sign commands; the "
        f"app's secret, if it has one, is read from {SECRET_ENV}")
    group.add_argument("--fleet", action="store_true",
                       help="use the Fleet API (implied by --client-id; with --demo the "
                            "simulated cloud's demo app and a command key paired for you)")
    group.add_argument("--client-id", metavar="ID", help="the app's client id")
    group.add_argument("--redirect-uri", metavar="URI",
                       help="the app's redirect URI, as registered (to sign in in a browser)")
    group.add_argument("--region", choices=REGIONS,
                       help="the account's Fleet API region (default: ask Tesla)")
    group.add_argument("--scopes", metavar="SCOPES",
                       help="the scopes to ask for, separated by spaces (default: all)")
    group.add_argument("--domain", metavar="DOMAIN",
                       help="the app's domain (pairing link, registration)")
    group.add_argument("--command-key", metavar="FILE",
                       help="sign commands with this P-256 private key (PEM)")
    group.add_argument("--create-key", metavar="FILE",
                       help="create a command key in FILE, print its public key, where to "
                            "serve it and the pairing link (needs --domain), and stop")
    group.add_argument("--register", action="store_true",
                       help="register --domain in the region with a partner token (needs "
                            "the secret), print Tesla's answer and stop")
    group.add_argument("--send-public-key", action="store_true",
                       help="with --register: send the public key of --command-key along, "
                            "for a server that cannot download it (the simulator)")


def wanted(args: argparse.Namespace) -> bool:
    """Whether the command line asks for the Fleet API."""
    return bool(args.fleet or args.client_id)


def early_command(args: argparse.Namespace, stdout: TextIO) -> Optional[Callable[[], int]]:
    """The body of ``--create-key`` or ``--register`` (which need no sign-in), else None."""
    if args.create_key:
        return lambda: create_key(args, stdout)
    if args.register:
        return lambda: register(args, stdout)
    return None


def create_key(args: argparse.Namespace, stdout: TextIO) -> int:
    """``--create-key``: make a key; print its public key, where to serve it, the pairing link.

    Raises AppError for a missing or malformed domain, or a key file that exists.
    """
    from teslapy.vcp import CommandKeyError, create_key_file, public_key_pem
    from teslapy.vcp.keys import check_domain, public_key_url

    if not args.domain:
        raise AppError("--create-key needs --domain (your app's domain)", ExitCode.USAGE)
    try:
        url = public_key_url(args.domain)
        link = regions.setting(None, regions.PAIRING_URL_ENV, regions.PAIRING_URL) \
            + check_domain(args.domain)
        key = create_key_file(args.create_key)
    except (ValueError, CommandKeyError) as error:
        raise AppError(str(error), ExitCode.USAGE) from error
    stdout.write(public_key_pem(key))
    stdout.write(f"\nServe the public key above at {url}\n"
                 "Register the domain in each region your users are in: --register "
                 "--region na, then eu\n"
                 f"Then each car's owner opens {link} in the Tesla app and approves the key.\n")
    return ExitCode.OK


def register(args: argparse.Namespace, stdout: TextIO) -> int:
    """``--register``: register the domain in the region with a partner token; print the answer.

    Raises AppError for a missing domain, secret or key (with ``--send-public-key``).
    """
    found = settings(args)
    if not args.domain or not found["client_secret"]:
        raise AppError(f"--register needs --domain and the app's secret in {SECRET_ENV}",
                       ExitCode.USAGE)
    with teslapy.TeslaFleet(args.email or "partner", verify=args.verify, proxy=args.proxy,
                            **found) as tesla:
        public_key = None
        if args.send_public_key:
            if tesla.command_key is None:
                raise AppError("--send-public-key sends the key of --command-key: give it",
                               ExitCode.USAGE)
            from teslapy.vcp import public_key_pem

            public_key = public_key_pem(tesla.command_key)
        answer = tesla.register_partner(public_key=public_key)
    stdout.write(json.dumps(answer, indent=2) + "\n")
    return ExitCode.OK


def settings(args: argparse.Namespace) -> Dict[str, Any]:
    """The :class:`teslapy.TeslaFleet` arguments the command line gives.

    Raises AppError when the Fleet API is asked for without a client id.
    """
    if not args.client_id:
        raise AppError("the Fleet API needs your app's --client-id (or use --demo)",
                       ExitCode.USAGE)
    found: Dict[str, Any] = {"client_id": args.client_id,
                             "client_secret": os.environ.get(SECRET_ENV) or None}
    for name in ("redirect_uri", "region", "scopes", "domain", "command_key"):
        if getattr(args, name) is not None:
            found[name] = getattr(args, name)
    return found


class Sessions:
    """Makes the CLI's session: ``Tesla``, or ``TeslaFleet`` when asked or in a 2026 demo.

    Call it as ``open_session``'s session factory; :meth:`use_simulator` is its
    ``on_simulator`` hook.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.simulator: Any = None

    def use_simulator(self, simulator: Any) -> None:
        self.simulator = simulator

    def makes_demo_fleet(self) -> bool:
        """Whether the session will be the demo's signed-in TeslaFleet: asked for with the
        Fleet options, or under the 2026 rules unless a sign-in way was chosen (-p, -R,
        --browser: those show the Owner API's sign-in)."""
        if self.simulator is None:
            return False
        chosen = (getattr(self.args, "password", None) is not None
                  or getattr(self.args, "refresh_token", None) is not None
                  or bool(getattr(self.args, "browser", None)))
        return wanted(self.args) or (bool(self.simulator.rules.today) and not chosen)

    def __call__(self, email: str, password: Optional[str] = None,
                 **options: Any) -> teslapy.Tesla:
        if self.makes_demo_fleet():
            tesla = demo_session(self.simulator, email, options)
            tesla.password = password           # remote start of a car without signing
            return tesla
        if not wanted(self.args):
            return teslapy.Tesla(email, password, **options)
        options.pop("api_base_url", None)
        with_settings = {**settings(self.args), **options}
        return teslapy.TeslaFleet(email, **with_settings)


def demo_session(simulator: Any, email: str, options: Dict[str, Any]) -> teslapy.TeslaFleet:
    """A TeslaFleet of the simulated cloud's demo app, signed in, with a paired command key.

    The key is made beside the demo's token cache, registered in every region, and
    paired with every car of ``email`` (what its owner would approve on the pairing
    page).
    """
    from teslapy.vcp import create_key_file, public_key_pem
    from teslasim.fleet_model import DEMO_CLIENT_ID

    app = simulator.world.fleet.app(DEMO_CLIENT_ID)
    domain = urlsplit(app.allowed_origins[0]).hostname
    key_path = os.path.join(os.path.dirname(os.path.abspath(options["cache_file"])),
                            DEMO_KEY_FILE)
    key = create_key_file(key_path)
    options.pop("api_base_url", None)
    if options.get("verify", True) is True and simulator.ca_file:
        options["verify"] = simulator.ca_file
    account = simulator.world.account(email)
    tesla = teslapy.TeslaFleet(
        email, app.client_id, app.client_secret, redirect_uri=app.redirect_uris[0],
        command_key=key_path, domain=domain,
        region="cn" if account is not None and account.region == "cn" else None,
        fleet_base_urls={region: simulator.urls[f"fleet_{region}_base_url"]
                         for region in REGIONS},
        fleet_auth_base_url=simulator.urls["fleet_auth_base_url"],
        pairing_url=simulator.urls["fleet_pairing_url"], **options)
    for region in REGIONS:
        tesla.register_partner(region=region, public_key=public_key_pem(key))
    for vehicle in simulator.world.vehicles_of(email):
        simulator.world.fleet.approve(domain, vehicle.vin)
    tesla.refresh_token(refresh_token=simulator.fleet_refresh_token_for(email))
    return tesla
