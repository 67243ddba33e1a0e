"""HTML of the simulated SSO: the sign-in form and the MFA page.

The sign-in form follows what clients parse: every ``<input>`` outside a script has a
``name``; hidden ``_csrf``, ``_phase``, ``_process``, ``transaction_id`` and ``cancel``;
``identity`` and ``credential`` (no value attribute); a ``captcha`` field only when a
captcha is required; and an inline script with exactly one line
``var messages = {...};`` holding the form's messages as one-line JSON.

The MFA page keeps its inputs inside ``<script type="text/html">`` templates (an HTML
parser sees none) and has no messages literal; its script names the factors and
verify endpoints with the transaction id.
"""
from __future__ import annotations

import json
import logging
from html import escape
from typing import Optional

from teslasim.state import SsoTransaction

logger = logging.getLogger(__name__)

TITLE = "Tesla SSO - Sign In"

_HEAD = """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 0; color: #171a20; }}
main {{ max-width: 330px; margin: 60px auto; }}
label {{ display: block; margin-top: 16px; font-size: 14px; }}
input[type=text], input[type=password] {{ width: 100%; padding: 8px; }}
.error {{ color: #b74134; font-size: 14px; }}
button {{ margin-top: 24px; width: 100%; padding: 10px; }}
</style>
</head>
<body>
<main>
<h1>Sign In</h1>
"""


def _messages_json(messages: dict) -> str:
    """One-line JSON, safe inside a script element."""
    return json.dumps(messages, separators=(",", ":")).replace("</", "<\\/")


def sign_in_page(transaction: SsoTransaction, messages: Optional[dict] = None,
                 captcha: bool = False, identity: str = "") -> str:
    """The sign-in form for ``transaction``; ``messages`` maps field names ("_" = form) to text."""
    messages = messages or {}
    errors = []
    for value in messages.values():
        for text in (value if isinstance(value, list) else [value]):
            errors.append(f'<p class="error">{escape(str(text))}</p>')
    captcha_block = ""
    if captcha:
        captcha_block = (
            '<label for="captcha">Enter the characters in the picture</label>\n'
            '<img src="/captcha" alt="captcha" width="150" height="50">\n'
            '<input type="text" id="captcha" name="captcha" value="" autocomplete="off">\n')
    return (
        _HEAD.format(title=TITLE)
        + "\n".join(errors)
        + '\n<form method="post" id="form" class="sso-form sign-in-form">\n'
        f'<input type="hidden" name="_csrf" value="{escape(transaction.csrf)}">\n'
        '<input type="hidden" name="_phase" value="authenticate">\n'
        '<input type="hidden" name="_process" value="1">\n'
        f'<input type="hidden" name="transaction_id" value="{escape(transaction.transaction_id)}">\n'
        '<input type="hidden" name="cancel" value="">\n'
        '<label for="form-input-identity">Email Address</label>\n'
        f'<input type="text" id="form-input-identity" name="identity" value="{escape(identity)}" '
        'autocomplete="email">\n'
        '<label for="form-input-credential">Password</label>\n'
        '<input type="password" id="form-input-credential" name="credential" '
        'autocomplete="current-password">\n'
        + captcha_block
        + '<button type="submit" id="form-submit-continue">Sign In</button>\n'
        '</form>\n'
        '<script>\n'
        f'var messages = {_messages_json(messages)};\n'
        'window.addEventListener("load", function () {\n'
        '  if (Object.keys(messages).length) { document.getElementById("form").scrollIntoView(); }\n'
        '});\n'
        '</script>\n'
        '</main>\n</body>\n</html>\n'
    )


def mfa_page(transaction: SsoTransaction) -> str:
    """The passcode page shown after the credentials of an account with MFA factors."""
    tid = escape(transaction.transaction_id)
    return (
        _HEAD.format(title=TITLE)
        + '<p>Enter the passcode from your authenticator app.</p>\n'
        '<div id="mfa-root"></div>\n'
        '<script type="text/html" id="factor-template">\n'
        '<label><input type="radio" name="factor_id" value="{{id}}"> {{name}}</label>\n'
        '</script>\n'
        '<script type="text/html" id="passcode-template">\n'
        '<form id="mfa-form">\n'
        '<input type="text" name="passcode" inputmode="numeric" maxlength="6" autocomplete="one-time-code">\n'
        f'<input type="hidden" name="transaction_id" value="{tid}">\n'
        '<button type="submit">Submit</button>\n'
        '</form>\n'
        '</script>\n'
        '<script>\n'
        f'var transactionId = "{tid}";\n'
        f'var factorsUrl = "/oauth2/v3/authorize/mfa/factors?transaction_id={tid}";\n'
        'var verifyUrl = "/oauth2/v3/authorize/mfa/verify";\n'
        'var errorCodes = ["UNAUTHORIZED", "ERR_INVALID_FACTOR", "ERR_MAX_VERIFICATION_ATTEMPTS",\n'
        '  "ERR_OBJECT_VALIDATION", "ERR_PASS_CODE_REPLAY", "ERR_EXPIRED"];\n'
        'fetch(factorsUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); });\n'
        '</script>\n'
        '</main>\n</body>\n</html>\n'
    )
