"""The default, terminal-based answers to the sign-in's questions.

Each is a plain callable a :class:`~teslapy.session.Tesla` uses unless it is given
another: the MFA passcode, the MFA factor, the captcha and, for the browser sign-in,
the URL the browser ends on.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Union

from teslapy import auth


def ask_passcode() -> str:
    """Ask for the MFA passcode on stdin."""
    return input("Passcode: ").strip()


def ask_factor(factors: List[Dict[str, Any]]) -> Union[Dict[str, Any], str]:
    """Ask on stdin which MFA factor to use; returns the factor, or "" to cancel."""
    for number, factor in enumerate(factors, start=1):
        print(f"{number}: {factor.get('name')}")
    choice = input("Select factor: ").strip()
    if choice.isdigit() and 1 <= int(choice) <= len(factors):
        return factors[int(choice) - 1]
    return choice


def ask_captcha(svg: bytes) -> str:
    """Show the captcha in the system browser and ask for its characters on stdin.

    The image goes to a private temporary file, whose path is also printed for machines
    without a browser; the file is removed once the characters are typed.
    """
    import webbrowser

    handle, path = tempfile.mkstemp(prefix="teslapy-captcha-", suffix=".svg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(svg)
        print(f"Captcha image: {path}")
        webbrowser.open(Path(path).as_uri())
        return input("Captcha: ").strip()
    finally:
        os.unlink(path)


BROWSER_STEPS = f"""\
Sign in to Tesla in your browser:
  {{url}}

After signing in, the browser is sent to an address starting with
{auth.REDIRECT_URI}?code= that it cannot open (it shows an error or nothing).
Copy that whole address and paste it here. To see it: open the developer tools
(F12) before signing in, and look in the Network tab for the last request (its
"Location"), or in the address bar if your browser shows it.
"""


def ask_for_callback(url: str) -> str:
    """The default authenticator: open ``url`` in the browser, read the pasted final URL.

    Raises:
        ValueError: stdin is not a terminal (nobody can paste the URL).
    """
    import webbrowser

    if not sys.stdin or not sys.stdin.isatty():
        raise ValueError("No usable token is cached and there is no terminal to sign in on: "
                         "give Tesla an authenticator, a password (where the SSO still allows "
                         "it), or import a refresh token with refresh_token(refresh_token=...)")
    print(BROWSER_STEPS.format(url=url))
    webbrowser.open(url)
    return input("URL after signing in: ").strip()
