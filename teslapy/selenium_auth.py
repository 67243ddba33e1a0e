"""Sign in to Tesla in a real Chrome or Chromium window driven by Selenium.

Tesla's sign-in page needs a real browser (reCAPTCHA), and at the end it redirects to
``tesla://auth/callback?code=...&state=...&issuer=...``, a URL a browser cannot open.
:class:`SeleniumAuthenticator` opens the authorize URL in a fresh browser profile,
lets the person sign in (and pass MFA), catches that redirect from the browser's
network log, quits the browser and returns the URL::

    from teslapy.selenium_auth import SeleniumAuthenticator

    tesla = teslapy.Tesla('elon@tesla.com', authenticator=SeleniumAuthenticator())
    tesla.fetch_token()

Needs the ``selenium`` extra (``pip install teslapy[selenium]``) and Chrome or
Chromium; Selenium finds or fetches a matching chromedriver when none is on PATH.
Selenium is imported only when a browser is opened, never by ``import teslapy``.

The errors, all :class:`BrowserSignInError`::

    BrowserSignInError            the browser sign-in did not produce a callback URL
    ├── SeleniumMissingError      selenium is not installed (also an ImportError)
    ├── BrowserNotFoundError      no Chrome/Chromium (or its driver) could be started
    ├── SignInTimeoutError        no callback within ``timeout`` (also a TimeoutError)
    └── BrowserClosedError        the window was closed before the sign-in ended
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from typing import Any, Callable, Dict, Iterable, Optional

from teslapy.errors import TeslaError

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "tesla://auth/callback"
CA_BUNDLE_ENV = "TESLAPY_CA_BUNDLE"
POLL_INTERVAL = 0.25
#: Command-line switches for a quiet, throwaway browser profile.
BROWSER_ARGUMENTS = (
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--no-default-browser-check",
)
BROWSER_NAMES = ("google-chrome", "google-chrome-stable", "chromium", "chromium-browser",
                 "chrome")
BROWSER_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)


class BrowserSignInError(TeslaError):
    """The browser sign-in ended without a callback URL."""


class SeleniumMissingError(BrowserSignInError, ImportError):
    """Selenium is not installed."""


class BrowserNotFoundError(BrowserSignInError):
    """No Chrome or Chromium browser (or no driver for it) could be started."""


class SignInTimeoutError(BrowserSignInError, TimeoutError):
    """The sign-in did not reach the callback in time."""


class BrowserClosedError(BrowserSignInError):
    """The browser window was closed before the sign-in reached the callback."""


def find_browser() -> Optional[str]:
    """The path of an installed Chrome or Chromium, or None."""
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    local = os.environ.get("LOCALAPPDATA")
    paths = list(BROWSER_PATHS)
    if local:
        paths.append(os.path.join(local, "Google", "Chrome", "Application", "chrome.exe"))
    return next((path for path in paths if os.path.isfile(path)), None)


def spki_hashes(pem: bytes) -> list[str]:
    """Base64 SHA-256 of the public key (SubjectPublicKeyInfo) of each PEM certificate.

    This is the form Chrome's ``--ignore-certificate-errors-spki-list`` takes. Raises
    ``ValueError`` when ``pem`` holds no certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificates = x509.load_pem_x509_certificates(pem)
    return [base64.b64encode(hashlib.sha256(certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).digest()).decode("ascii") for certificate in certificates]


def callback_in_log(entries: Iterable[Dict[str, Any]], prefix: str = CALLBACK_PREFIX) -> Optional[str]:
    """The first navigation to a URL starting with ``prefix`` in Chrome performance-log entries.

    Each entry's ``message`` is the JSON text of a DevTools event; a redirect to the
    callback shows as ``Network.requestWillBeSent`` with that URL. Entries that are
    not such JSON are skipped.
    """
    for entry in entries:
        try:
            event = json.loads(entry["message"])["message"]
            if event["method"] != "Network.requestWillBeSent":
                continue
            url = event["params"]["request"]["url"]
        except (KeyError, TypeError, ValueError):
            continue
        if isinstance(url, str) and url.startswith(prefix):
            return url
    return None


class SeleniumAuthenticator:
    """An ``authenticator(url) -> url`` that signs in in a Chrome/Chromium window.

    driver_factory: (optional) called with the prepared ``ChromeOptions``; returns the
        WebDriver to use (e.g. ``webdriver.Remote``). Default: a local Chrome/Chromium.
    timeout: (optional) seconds the person has to sign in, default 300
    headless: (optional) run without a window (for scripted sign-ins)
    binary: (optional) path of the browser; default the first Chrome/Chromium found
    ca_file: (optional) PEM file of an extra CA to trust (a simulator's or a proxy's);
        default ``TESLAPY_CA_BUNDLE`` when set
    on_open: (optional) called with the WebDriver once the sign-in page is open, to
        fill in the page from a script
    Calling it raises the :class:`BrowserSignInError` subclasses above.
    """

    def __init__(self, driver_factory: Optional[Callable[[Any], Any]] = None,
                 timeout: float = 300, headless: bool = False, binary: Optional[str] = None,
                 *, ca_file: Optional[str] = None,
                 on_open: Optional[Callable[[Any], None]] = None) -> None:
        self.driver_factory = driver_factory
        self.timeout = timeout
        self.headless = headless
        self.binary = binary
        self.ca_file = ca_file
        self.on_open = on_open

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(timeout={self.timeout!r}, headless={self.headless!r}, "
                f"binary={self.binary!r})")

    def __call__(self, url: str) -> str:
        """Open ``url``, wait for the redirect to ``tesla://auth/callback`` and return it."""
        profile = tempfile.mkdtemp(prefix="teslapy-browser-")
        try:
            driver = self._start(profile)
            try:
                driver.get(url)
                if self.on_open is not None:
                    self.on_open(driver)
                return self._wait_for_callback(driver)
            finally:
                try:
                    driver.quit()
                except Exception as error:      # the browser may be gone already
                    logger.debug("quitting the browser failed: %s", error)
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    # -- starting the browser ---------------------------------------------------

    def options(self, profile: str) -> Any:
        """The ``ChromeOptions`` for a fresh profile in the directory ``profile``."""
        webdriver = _selenium_webdriver()
        options = webdriver.ChromeOptions()
        binary = self.binary or find_browser()
        if binary:
            options.binary_location = binary
        for argument in BROWSER_ARGUMENTS:
            options.add_argument(argument)
        options.add_argument(f"--user-data-dir={profile}")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            options.add_argument("--no-sandbox")    # Chromium refuses to run as root otherwise
        if self.headless:
            options.add_argument("--headless=new")
        ca_file = self.ca_file or os.environ.get(CA_BUNDLE_ENV)
        if ca_file:
            options.add_argument("--ignore-certificate-errors-spki-list="
                                 + ",".join(self._trusted_keys(ca_file)))
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        return options

    @staticmethod
    def _trusted_keys(ca_file: str) -> list[str]:
        try:
            with open(ca_file, "rb") as handle:
                return spki_hashes(handle.read())
        except ImportError:
            raise BrowserSignInError(
                f"trusting {ca_file} needs the cryptography package: "
                "pip install teslapy[selenium]") from None
        except (OSError, ValueError) as error:
            raise BrowserSignInError(f"cannot read the CA file {ca_file}: {error}") from None

    def _start(self, profile: str) -> Any:
        options = self.options(profile)
        if self.driver_factory is not None:
            return self.driver_factory(options)
        if not options.binary_location:
            raise BrowserNotFoundError(
                "no Chrome or Chromium found: install one (e.g. apt install chromium "
                "chromium-driver) or pass binary='/path/to/chrome'")
        webdriver = _selenium_webdriver()
        from selenium.common.exceptions import WebDriverException

        driver_path = shutil.which("chromedriver")
        service = webdriver.ChromeService(executable_path=driver_path) if driver_path \
            else webdriver.ChromeService()
        try:
            return webdriver.Chrome(options=options, service=service)
        except WebDriverException as error:
            message = (getattr(error, "msg", None) or str(error)).strip().splitlines()
            raise BrowserNotFoundError(
                f"cannot start {options.binary_location} through chromedriver: "
                f"{message[0] if message else type(error).__name__}; check that chromedriver "
                "matches the browser's version") from None

    # -- waiting for the callback -------------------------------------------------

    def _wait_for_callback(self, driver: Any) -> str:
        from selenium.common.exceptions import WebDriverException

        deadline = time.monotonic() + self.timeout
        use_log = True
        while True:
            try:
                found = _callback_url(driver, use_log)
            except WebDriverException:
                if use_log and _window_open(driver):
                    use_log = False         # a driver without Chrome's performance log
                    continue
                raise BrowserClosedError("the browser window was closed before the "
                                         "sign-in finished") from None
            if found:
                return found
            if time.monotonic() >= deadline:
                raise SignInTimeoutError(f"no sign-in within {self.timeout:g} s; try again "
                                         "and finish the sign-in in the browser window")
            time.sleep(POLL_INTERVAL)


def _callback_url(driver: Any, use_log: bool) -> Optional[str]:
    """The callback URL the browser was sent to so far, or None."""
    if use_log:
        found = callback_in_log(driver.get_log("performance"))
        if found:
            return found
    current = driver.current_url
    return current if current.startswith(CALLBACK_PREFIX) else None


def _window_open(driver: Any) -> bool:
    try:
        return bool(driver.window_handles)
    except Exception:
        return False


def _selenium_webdriver() -> Any:
    try:
        from selenium import webdriver
    except ImportError:
        raise SeleniumMissingError("signing in in a browser window needs Selenium: "
                                   "pip install teslapy[selenium]") from None
    return webdriver


__all__ = ["SeleniumAuthenticator", "BrowserSignInError", "SeleniumMissingError",
           "BrowserNotFoundError", "SignInTimeoutError", "BrowserClosedError",
           "find_browser", "spki_hashes", "callback_in_log"]
