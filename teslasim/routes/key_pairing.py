"""The simulated key-pairing page: what ``https://tesla.com/_ak/<domain>`` does in the Tesla app.

``GET /_ak/{domain}`` shows the app that registered the domain, a fingerprint of its
public key and a form: the owner signs in (the Tesla app would be signed in already),
names the car by VIN and presses Approve. ``POST /_ak/{domain}`` with ``email``,
``password`` and ``vin`` pairs the key the partner registered (in any region) with the
car. Errors come back as the page with a message: 404 for a domain no app registered or
a car not on the account, 401 for wrong credentials.
"""
from __future__ import annotations

import hashlib
import html
import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from teslasim.request_params import read_params
from teslasim.state import World

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Add a key - Tesla</title></head>
<body><main>
<h1>{title}</h1>
<p>{text}</p>
{form}
</main></body></html>
"""
_FORM = """<form method="post">
<p>{app} (<code>{domain}</code>) asks to add its key to your car.
Key fingerprint: <code>{fingerprint}</code></p>
<label>Email <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<label>Car (VIN) <input name="vin" pattern="[A-HJ-NPR-Z0-9]{{17}}"></label>
<button type="submit">Approve</button>
</form>"""


def _page(title: str, text: str, form: str = "", status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), text=html.escape(text),
                                     form=form), status_code=status)


def fingerprint(public_key: bytes) -> str:
    """A short fingerprint of a public key: the first 8 bytes of its SHA-256, as hex pairs."""
    return ":".join(f"{byte:02x}" for byte in hashlib.sha256(public_key).digest()[:8])


async def pairing_page(request: Request) -> Response:
    """GET /_ak/{domain}: what would be paired, and the approval form."""
    world: World = request.app.state.world
    domain = request.path_params["domain"]
    found = world.fleet.domain_key(domain)
    if found is None:
        return _page("Unknown app", f"No app has registered the domain {domain}.", status=404)
    app, key = found
    form = _FORM.format(app=html.escape(app.name), domain=html.escape(domain),
                        fingerprint=fingerprint(key))
    return _page("Add a key to your car", "Approve only apps you trust: the key can "
                 "unlock and drive your car.", form)


async def approve(request: Request) -> Response:
    """POST /_ak/{domain}: the owner approves; the registered key is paired with the car."""
    world: World = request.app.state.world
    domain = request.path_params["domain"]
    params = await read_params(request)
    email, password, vin = (str(params.get(name) or "") for name in ("email", "password", "vin"))
    account = world.account(email)
    if account is None or not password or not secrets.compare_digest(
            account.password.encode(), password.encode()):
        return _page("Not signed in", "The email or password is wrong.", status=401)
    vehicle = next((car for car in world.vehicles_of(account.email) if car.vin == vin), None)
    if vehicle is None:
        return _page("Unknown car", f"No car with the VIN {vin} is on this account.",
                     status=404)
    with world.lock:
        found = world.fleet.domain_key(domain)
        if found is None:
            return _page("Unknown app", f"No app has registered the domain {domain}.",
                         status=404)
        app = world.fleet.approve(domain, vin)
    return _page("Key added", f"The key of {app.name} was added to "
                 f"{vehicle.data.get('display_name') or vin}.")


ROUTES = [
    Route("/_ak/{domain}", pairing_page, methods=["GET"]),
    Route("/_ak/{domain}", approve, methods=["POST"]),
]
