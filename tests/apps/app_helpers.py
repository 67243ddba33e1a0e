"""What the app tests share: running the apps in-process with their own streams, or
as users do in subprocesses, and reading their output."""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import requests

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / "cli.py")
MENU = str(REPO / "menu.py")
DEMO_EMAIL = "elon@tesla.com"
DEMO_PASSWORD = "starship"
MFA_EMAIL = "mfa@tesla.com"
DEVICE_2_SECRET = "KRSXG5CTMVRXEZLU"      # "Device #2" of mfa@tesla.com in the demo fleet


def app_env(extra: Optional[dict] = None) -> dict:
    """The environment for an app subprocess: this test's, plus ``extra``; the apps
    and the library are imported from this checkout."""
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class Answers:
    """An app's stdin: one line per answer, read as the app asks. An answer may be a
    callable (called when read, e.g. to look at what the app printed) or an exception
    (raised when read, e.g. KeyboardInterrupt for Ctrl-C). Then the input ends."""

    def __init__(self, answers: Sequence[Any] = (), tty: bool = False) -> None:
        self.answers = list(answers)
        self.tty = tty
        self.reads = 0

    def readline(self) -> str:
        self.reads += 1
        if not self.answers:
            return ""
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return (answer() if callable(answer) else answer) + "\n"

    def isatty(self) -> bool:
        return self.tty


class TerminalOutput(io.StringIO):
    """Output that says it is a terminal, as a user's stderr usually is."""

    def isatty(self) -> bool:
        return True


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def no_browser(url: str) -> bool:
    """A machine without a browser: nothing is opened."""
    return False


def cli(*args: str, stdin: Optional[Answers] = None, stderr: Optional[io.StringIO] = None,
        open_url: Callable[[str], Any] = no_browser) -> Result:
    """Run the cli's ``main`` in this process with its own streams; what it printed."""
    from teslapy_apps import cli as cli_app

    stdout, stderr = io.StringIO(), stderr if stderr is not None else io.StringIO()
    code = cli_app.main(list(args), stdin or Answers(), stdout, stderr, open_url)
    return Result(code, stdout.getvalue(), stderr.getvalue())


SCRIPT_CHALLENGE = re.compile(r'browserProof\("([^"]+)"\)')


class ScriptedBrowser:
    """A browser for the 2026 sign-in page: opening an address signs in there as a person
    would (running the page script's part in Python) and keeps the address Tesla sends
    the browser to at the end (``landed``), for the test to paste."""

    def __init__(self, ca_file: str, password: str = DEMO_PASSWORD) -> None:
        self.ca_file = ca_file
        self.password = password
        self.opened: List[str] = []
        self.landed: List[str] = []

    def __call__(self, url: str) -> bool:
        from teslapy import auth
        from teslasim.sso_pages import PROOF_FIELD, browser_proof

        self.opened.append(url)
        with requests.Session() as session:     # (verify per request: the environment's
            page = session.get(url, verify=self.ca_file, timeout=10)    # CA would win)
            page.raise_for_status()
            form = auth.parse_form(page.text)
            form["credential"] = self.password
            form[PROOF_FIELD] = browser_proof(SCRIPT_CHALLENGE.search(page.text).group(1))
            reply = session.post(page.url, data=form, allow_redirects=False,
                                 verify=self.ca_file, timeout=10)
        assert reply.status_code == 302, reply.text[:300]
        self.landed.append(reply.headers["Location"])
        return True


@contextlib.contextmanager
def sso_without_http2() -> Iterator[Tuple[str, str]]:
    """An SSO that speaks TLS 1.3 but offers only HTTP/1.1: yields its base URL and the CA
    file that signed its certificate."""
    from teslasim.tls import Certificates

    certificates = Certificates()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.chain_file, certificates.key_file)
    context.set_alpn_protocols(["http/1.1"])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                continue
            with contextlib.suppress(OSError), connection:
                connection.settimeout(10)
                with context.wrap_socket(connection, server_side=True):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield "https://127.0.0.1:%d/" % listener.getsockname()[1], certificates.ca_file
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
        certificates.remove()


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


def on_terminal(script: str, *args: str, cwd: str, env: dict, **options: Any) -> Any:
    """Start ``python SCRIPT ARGS`` on a pseudo-terminal (a ``pexpect.spawn``). The tests
    type each answer once its prompt shows, so the pause pexpect makes before every send
    (for programs that turn echo off after prompting) is left out."""
    import pexpect

    with ctrl_c_as_on_a_terminal():
        child = pexpect.spawn(sys.executable, [script, *args], cwd=cwd, env=env,
                              encoding="utf-8", timeout=30, **options)
    child.delaybeforesend = None
    return child


@contextlib.contextmanager
def ctrl_c_as_on_a_terminal() -> Iterator[None]:
    """Processes started meanwhile take Ctrl-C as on a terminal, even when this test run
    ignores it (as a run started in the background by a shell does: its children would
    inherit that, and Python then raises no KeyboardInterrupt)."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:             # a handler here is the default action after exec
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def press_ctrl_c(child: Any) -> None:
    """Press Ctrl-C in a terminal app once it waits for input. (A signal that comes while
    Python is on its way into its read is handled only when the read returns: with nothing
    typed, never.) On Linux the wait shows in /proc; elsewhere, or if it does not show,
    a pause stands in for it."""
    deadline = time.monotonic() + 2
    try:
        with open("/proc/%d/wchan" % child.pid) as wchan:
            while wchan.read() not in ("wait_woken", "n_tty_read") and \
                    time.monotonic() < deadline:
                time.sleep(0.005)
                wchan.seek(0)
    except OSError:
        time.sleep(0.05)
    child.sendintr()


def exit_status(child: Any) -> int:
    """Read a terminal's output to its end and close it: the app's exit status."""
    import pexpect

    child.expect(pexpect.EOF)
    child.ptyproc.delayafterclose = 0       # the app has ended: no pause before reaping it
    child.close()
    return child.exitstatus


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


@contextlib.contextmanager
def closed_port_url() -> Iterator[str]:
    """An http URL on loopback where nothing listens: its port stays bound (not listening)
    meanwhile, so no other process can take it and every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield "http://127.0.0.1:%d/" % sock.getsockname()[1]
