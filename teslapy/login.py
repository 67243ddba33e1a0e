"""The password sign-in at Tesla's SSO: sign-in page, region redirects, captcha and MFA.

:class:`PasswordSignIn` runs the conversation a browser would have with the SSO, on a
requests session of its own (its own cookie jar) that the caller set up through
:mod:`teslapy.transport`, and returns the callback URL the SSO redirects to. The steps
themselves (what to send, what a reply means) are the pure functions of
:mod:`teslapy.auth`. Turning the callback's code into tokens is the session's job.

Since 2021 Tesla's own SSO answers the credentials with a reCAPTCHA that only a
browser can pass; that ends here in :class:`~teslapy.errors.RecaptchaRequiredError`.
The flow stays for servers that allow it (self-hosted proxies, the simulator's 2021
rules).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Union
from urllib.parse import urljoin

import requests

from teslapy import auth, errors, transport
from teslapy.errors import ResponseError

logger = logging.getLogger(__name__)

#: Region redirects followed on the way to the sign-in page.
MAX_REGION_REDIRECTS = 3
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class SignInResult(NamedTuple):
    """Where a sign-in ended: the callback URL, the SSO base it ended at, and its PKCE and state."""

    callback: str
    sso_base: str
    pkce: auth.Pkce
    state: str


class PasswordSignIn:
    """One password sign-in of ``email`` on ``http`` (a fresh requests session).

    Parameters:
        http: the session for the SSO's pages (cookies stay in it).
        email, password: the credentials.
        passcode_getter, factor_selector, captcha_solver: the sign-in's questions.
        timeout: seconds to wait for each reply.
    """

    def __init__(self, http: requests.Session, email: str, password: str, *,
                 passcode_getter: Callable[[], str],
                 factor_selector: Callable[[List[Dict[str, Any]]], Union[Dict[str, Any], str]],
                 captcha_solver: Callable[[bytes], str],
                 timeout: Optional[float]) -> None:
        self.http = http
        self.email = email
        self.password = password
        self.passcode_getter = passcode_getter
        self.factor_selector = factor_selector
        self.captcha_solver = captcha_solver
        self.timeout = timeout

    def run(self, sso_base: str) -> SignInResult:
        """Sign in starting at ``sso_base``; returns where the SSO sent the browser.

        Raises:
            ValueError: credentials rejected (with the server's messages), ``Missing
                captcha response``, unknown factor name, invalid passcode.
            RecaptchaRequiredError: the SSO wants a reCAPTCHA (sign in in a browser).
            NotImplementedError: the chosen MFA factor is not TOTP.
            requests.HTTPError: the SSO answered with an error.
            ResponseError: the SSO answered with something that is not a sign-in step.
            oauthlib.oauth2.InsecureTransportError: a redirect leads to plain http.
        """
        transport.require_secure(sso_base)
        pkce, state = auth.new_pkce(), auth.new_state()
        url = auth.authorize_url(sso_base, pkce, state, self.email)
        page, sso_base = self._open_sign_in(url, sso_base)
        if self._is_redirect(page):          # the SSO answered with the callback at once
            callback = page.headers["Location"]
        else:
            callback = self._sign_in(sso_base, page.text)
        return SignInResult(callback, sso_base, pkce, state)

    def _open_sign_in(self, url: str, sso_base: str) -> Tuple[requests.Response, str]:
        """GET the sign-in page, following region redirects; returns (page, SSO base).

        Each redirect is checked before it is followed; one to the callback URI is
        returned as it is (it carries the SSO's error, or a code).

        Raises:
            requests.HTTPError: the SSO answered 4xx/5xx.
            oauthlib.oauth2.InsecureTransportError: a redirect leads to plain http.
            ResponseError: the SSO redirects in circles.
        """
        for _ in range(MAX_REGION_REDIRECTS + 1):
            page = self.http.get(url, allow_redirects=False, timeout=self.timeout)
            if not self._is_redirect(page):
                errors.raise_for_status(page)
                return page, sso_base
            location = urljoin(url, page.headers["Location"])
            if auth.is_callback(location):
                page.headers["Location"] = location
                return page, sso_base
            transport.require_secure(location)
            url, sso_base = location, auth.sso_base_from_url(location)
            logger.info("%s signs in at the regional SSO %s", self.email, sso_base)
        raise ResponseError("The SSO sign-in page redirects too often", page)

    def _sign_in(self, sso_base: str, html: str) -> str:
        """Post the credentials (solving captchas when asked); returns the callback URL."""
        authorize_url = auth.join(sso_base, auth.AUTHORIZE_PATH)
        form = auth.parse_form(html)
        transaction = auth.transaction_id(form)
        captcha = self._solve_captcha(sso_base) if auth.needs_captcha(form) else None
        reply = self._post_form(authorize_url,
                                auth.credentials_form(form, self.email, self.password, captcha))
        if not self._is_redirect(reply) and auth.needs_captcha(auth.parse_form(reply.text)):
            logger.info("The sign-in form asks for a captcha")
            form = auth.parse_form(reply.text)
            transaction = form.get("transaction_id") or transaction
            captcha = self._solve_captcha(sso_base)
            reply = self._post_form(authorize_url,
                                    auth.credentials_form(form, self.email, self.password, captcha))
        if self._is_redirect(reply):
            return reply.headers["Location"]
        if auth.has_inputs(reply.text):
            raise auth.rejection(reply.text)
        errors.raise_for_status(reply)
        self._check_passcode_page(reply)
        logger.info("The account asks for a second factor")
        return self._multi_factor(sso_base, transaction)

    @staticmethod
    def _check_passcode_page(reply: requests.Response) -> None:
        """Accept what the SSO sent after the credentials as its passcode page.

        Raises:
            ResponseError: the reply is a redirect without a target, empty, or not HTML.
        """
        kind = reply.headers.get("Content-Type") or "no type"
        if (300 <= reply.status_code < 400 or not reply.text.strip()
                or "html" not in kind.lower()):
            raise ResponseError(
                f"The SSO answered the sign-in ({reply.status_code}, {kind}) with neither "
                "the callback, the form nor the passcode page", reply)

    def _solve_captcha(self, sso_base: str) -> str:
        image = self.http.get(auth.join(sso_base, auth.CAPTCHA_PATH), timeout=self.timeout)
        errors.raise_for_status(image)
        return auth.check_captcha_answer(self.captcha_solver(image.content))

    def _post_form(self, url: str, data: Dict[str, str]) -> requests.Response:
        return self.http.post(url, data=data, allow_redirects=False, timeout=self.timeout)

    @staticmethod
    def _is_redirect(reply: requests.Response) -> bool:
        return reply.status_code in _REDIRECT_STATUSES and bool(reply.headers.get("Location"))

    def _multi_factor(self, sso_base: str, transaction: str) -> str:
        """Choose a factor, verify the passcode, finish; returns the callback URL."""
        reply = self.http.get(auth.join(sso_base, auth.MFA_FACTORS_PATH),
                              params={"transaction_id": transaction}, timeout=self.timeout)
        errors.raise_for_status(reply)
        factors = auth.factors_from_reply(errors.json_body(reply, "MFA factors"))
        if len(factors) == 1:
            factor: Optional[Dict[str, Any]] = auth.check_factor(factors[0])
        else:
            factor = auth.choose_factor(factors, self.factor_selector(factors))
        if factor is None:
            return self._cancel(sso_base, transaction)
        passcode = str(self.passcode_getter() or "").strip()
        if not passcode:
            return self._cancel(sso_base, transaction)
        verify = self.http.post(auth.join(sso_base, auth.MFA_VERIFY_PATH),
                                json=auth.verify_body(transaction, factor, passcode),
                                timeout=self.timeout)
        try:
            body = verify.json()
        except (ValueError, RecursionError):
            errors.raise_for_status(verify)
            raise ResponseError("The passcode verification reply is not JSON", verify) from None
        auth.check_verify_reply(body)
        reply = self._post_form(auth.join(sso_base, auth.AUTHORIZE_PATH),
                                auth.continue_form(transaction))
        if self._is_redirect(reply):
            return reply.headers["Location"]
        errors.raise_for_status(reply)
        raise ResponseError("The SSO did not finish the sign-in after the passcode was accepted",
                            reply)

    def _cancel(self, sso_base: str, transaction: str) -> str:
        """Cancel the sign-in; the callback it returns carries ``login_cancelled``."""
        logger.info("Cancelling the sign-in of %s", self.email)
        reply = self._post_form(auth.join(sso_base, auth.AUTHORIZE_PATH),
                                auth.cancel_form(transaction))
        if self._is_redirect(reply):
            return reply.headers["Location"]
        from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

        raise CustomOAuth2Error("login_cancelled", description="User cancelled login")

