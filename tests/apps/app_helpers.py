"""What the app tests share: running the apps as users do and reading their output."""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / "cli.py")
MENU = str(REPO / "menu.py")
DEMO_EMAIL = "elon@tesla.com"
DEMO_PASSWORD = "starship"
MFA_EMAIL = "mfa@tesla.com"
DEVICE_2_SECRET = "KRSXG5CTMVRXEZLU"      # "Device #2" of mfa@tesla.com in the demo fleet


def app_env(extra: Optional[dict] = None) -> dict:
    """The environment for an app subprocess: this test's, plus ``extra``."""
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_cli(*args: str, env: Optional[dict] = None, timeout: float = 60,
            stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run ``python cli.py ARGS`` in the current directory and wait for it."""
    return subprocess.run([sys.executable, CLI, *args], cwd=os.getcwd(), env=app_env(env),
                          capture_output=True, text=True, timeout=timeout,
                          input=stdin if stdin is not None else "")


@contextlib.contextmanager
def app_process(command: Sequence[str], **options) -> Iterator[subprocess.Popen]:
    """Start an app with piped text output; kill it on the way out if it still runs."""
    process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, **options)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def interrupt(process: subprocess.Popen) -> Tuple[str, str]:
    """Press Ctrl-C in a running app and wait for it: the rest of its stdout and stderr."""
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=30)


def json_documents(text: str) -> List:
    """All JSON documents printed one after another."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return documents
        document, index = decoder.raw_decode(text, index)
        documents.append(document)


def totp(secret: str, at: Optional[float] = None) -> str:
    """The RFC 6238 passcode (SHA-1, 6 digits, 30 s) of a base32 secret."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % code


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return "http://127.0.0.1:%d/" % port
