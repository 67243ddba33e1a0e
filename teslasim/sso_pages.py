"""HTML of the simulated SSO: the sign-in form, the MFA page and the redirect_uri error.

The sign-in form follows what clients parse: every ``<input>`` outside a script has a
``name``; hidden ``_csrf``, ``_phase``, ``_process``, ``transaction_id`` and ``cancel``;
``identity`` and ``credential`` (no value attribute); a ``captcha`` field only when a
captcha is required; and an inline script with exactly one line
``var messages = {...};`` holding the form's messages as one-line JSON.

Under the 2026 rules the form also has a hidden ``recaptcha`` field (``PROOF_FIELD``),
empty in the HTML, which the page's script fills with :func:`browser_proof` of the
transaction's challenge: a stand-in for reCAPTCHA that a browser passes and a client
that does not run JavaScript does not.

The MFA page keeps its inputs inside ``<script type="text/html">`` templates (an HTML
parser sees none) and has no messages literal; its script names the factors and
verify endpoints with the transaction id, and in a browser it lists the factors, asks
for the passcode, verifies it and then posts the continue form.
"""
from __future__ import annotations

import hmac
import json
import logging
from html import escape
from typing import Optional

from teslasim.state import SsoTransaction

logger = logging.getLogger(__name__)

TITLE = "Tesla SSO - Sign In"
#: The hidden sign-in field the page script fills in (2026).
PROOF_FIELD = "recaptcha"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193

#: The same function as :func:`browser_proof`, in the page's JavaScript.
_PROOF_SCRIPT = """function browserProof(text) {
  var hash = 0x811c9dc5;
  for (var i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return ("0000000" + hash.toString(16)).slice(-8);
}
"""

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


def browser_proof(challenge: str) -> str:
    """The value the sign-in page script computes from ``challenge``: FNV-1a, 8 hex digits."""
    value = _FNV_OFFSET
    for char in challenge:
        value = ((value ^ ord(char)) * _FNV_PRIME) & 0xFFFFFFFF
    return f"{value:08x}"


def proof_matches(challenge: str, answer: str) -> bool:
    """Whether ``answer`` is the page script's proof for ``challenge``."""
    return hmac.compare_digest(browser_proof(challenge).encode(), answer.encode("utf-8"))


def sign_in_page(transaction: SsoTransaction, messages: Optional[dict] = None,
                 captcha: bool = False, identity: str = "") -> str:
    """The sign-in form for ``transaction``; ``messages`` maps field names ("_" = form) to text.

    With a ``transaction.browser_challenge`` the form carries the hidden proof field
    and the script that fills it.
    """
    messages = messages or {}
    challenge = transaction.browser_challenge
    proof_input = proof_script = ""
    if challenge:
        proof_input = (f'<input type="hidden" id="form-{PROOF_FIELD}" name="{PROOF_FIELD}" '
                       'value="">\n')
        proof_script = (_PROOF_SCRIPT
                        + f'document.getElementById("form-{PROOF_FIELD}").value = '
                          f'browserProof("{escape(challenge)}");\n')
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
        + proof_input
        + '<label for="form-input-identity">Email Address</label>\n'
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
        + proof_script
        + 'window.addEventListener("load", function () {\n'
        '  if (Object.keys(messages).length) { document.getElementById("form").scrollIntoView(); }\n'
        '});\n'
        '</script>\n'
        '</main>\n</body>\n</html>\n'
    )


_MFA_SCRIPT = """(function () {
  var root = document.getElementById("mfa-root");
  var problem = document.getElementById("mfa-error");
  function template(id) { return document.getElementById(id).innerHTML; }
  function text(value) {
    var node = document.createElement("span");
    node.textContent = String(value);
    return node.innerHTML.replace(/"/g, "&quot;");
  }
  function show(message) { problem.textContent = message; }
  function proceed() {
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/oauth2/v3/authorize";
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "transaction_id";
    field.value = transactionId;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }
  function verify(event) {
    event.preventDefault();
    var chosen = root.querySelector("input[name=factor_id]:checked");
    var passcode = root.querySelector("input[name=passcode]").value.trim();
    fetch(verifyUrl, {method: "POST", credentials: "same-origin",
                      headers: {"Content-Type": "application/json"},
                      body: JSON.stringify({transaction_id: transactionId,
                                            factor_id: chosen ? chosen.value : "",
                                            passcode: passcode})})
      .then(function (reply) { return reply.json(); })
      .then(function (body) {
        if (body.data && body.data.valid) { proceed(); }
        else { show(body.error ? body.error.message : "Invalid passcode"); }
      })
      .catch(function () { show("Could not verify the passcode; try again"); });
  }
  fetch(factorsUrl, {credentials: "same-origin"})
    .then(function (reply) { return reply.json(); })
    .then(function (body) {
      var html = (body.data || []).map(function (factor) {
        return template("factor-template").replace("{{id}}", text(factor.id))
                                          .replace("{{name}}", text(factor.name));
      }).join("");
      root.innerHTML = html + template("passcode-template");
      var first = root.querySelector("input[name=factor_id]");
      if (first) { first.checked = true; }
      root.querySelector("form").addEventListener("submit", verify);
    })
    .catch(function () { show("Could not load your devices; reload the page"); });
})();
"""


def mfa_page(transaction: SsoTransaction) -> str:
    """The passcode page shown after the credentials of an account with MFA factors."""
    tid = escape(transaction.transaction_id)
    return (
        _HEAD.format(title=TITLE)
        + '<p>Enter the passcode from your authenticator app.</p>\n'
        '<p class="error" id="mfa-error"></p>\n'
        '<div id="mfa-root"></div>\n'
        '<script type="text/html" id="factor-template">\n'
        '<label><input type="radio" name="factor_id" value="{{id}}"> {{name}}</label>\n'
        '</script>\n'
        '<script type="text/html" id="passcode-template">\n'
        '<form id="mfa-form">\n'
        '<input type="text" name="passcode" inputmode="numeric" maxlength="6" '
        'autocomplete="one-time-code">\n'
        f'<input type="hidden" name="transaction_id" value="{tid}">\n'
        '<button type="submit" id="mfa-submit">Submit</button>\n'
        '</form>\n'
        '</script>\n'
        '<script>\n'
        f'var transactionId = "{tid}";\n'
        f'var factorsUrl = "/oauth2/v3/authorize/mfa/factors?transaction_id={tid}";\n'
        'var verifyUrl = "/oauth2/v3/authorize/mfa/verify";\n'
        'var errorCodes = ["UNAUTHORIZED", "ERR_INVALID_FACTOR", "ERR_MAX_VERIFICATION_ATTEMPTS",\n'
        '  "ERR_OBJECT_VALIDATION", "ERR_PASS_CODE_REPLAY", "ERR_EXPIRED"];\n'
        + _MFA_SCRIPT
        + '</script>\n'
        '</main>\n</body>\n</html>\n'
    )


def redirect_uri_error_page(reference: str) -> str:
    """Tesla's page for an authorize request whose redirect_uri the client did not register."""
    return (
        _HEAD.format(title="Tesla SSO - Error").replace("<h1>Sign In</h1>",
                                                        "<h1>Something went wrong</h1>")
        + "<p>The 'redirect_uri' supplied is not registered for this 'client_id'.</p>\n"
        f"<p>Reference ID: {escape(reference)}</p>\n"
        "</main>\n</body>\n</html>\n"
    )
