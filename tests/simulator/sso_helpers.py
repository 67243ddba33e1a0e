"""What the SSO tests read from the simulated sign-in pages and tokens."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from html.parser import HTMLParser


class FormInputs(HTMLParser):
    """Collects the inputs an HTML parser sees (scripts are opaque to it)."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def inputs_of(html: str) -> list[dict]:
    parser = FormInputs()
    parser.feed(html)
    return parser.inputs


def form_of(html: str) -> dict:
    return {i["name"]: i.get("value") or "" for i in inputs_of(html)}


def messages_of(html: str) -> dict:
    lines = [line for line in html.splitlines() if line.strip().startswith("var messages = ")]
    assert len(lines) == 1
    return json.loads(lines[0].strip()[len("var messages = "):-1])


def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def jwt_claims(token: str) -> dict:
    header, payload, signature = token.split(".")
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
