"""Signing in over HTTP/2 (as teslapy mints tokens) against HTTP/1.1, on the 2026 simulator.

Run: ``python benchmarks/bench_login.py [rounds]``

Two measures, each interleaved round by round in one run so the ratio does not depend
on the machine:

* a whole browser sign-in: the sign-in page, the form post (the page script's proof
  computed as a browser would) and the code minted, through ``Tesla.fetch_token`` (the
  token over HTTP/2 + TLS 1.3), against the same steps with the code minted over
  HTTP/1.1 by ``requests`` (a token Tesla would refuse; the floor it is measured
  against);
* one refresh: ``Tesla.refresh_token()`` (HTTP/2, its connection kept; the tokens
  saved to the cache file twice, under its lock) and the token request alone through
  teslapy's ``TokenClient`` ("mint h2"), against the same form posted over HTTP/1.1 on a
  kept-alive ``requests`` session.

Prints the medians (ms), the spread (interquartile range) and the ratio HTTP/2 / HTTP/1.1.
"""
from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

import teslapy  # noqa: E402
from teslapy import auth, transport  # noqa: E402
from teslasim.server import running  # noqa: E402
from teslasim.sso_pages import PROOF_FIELD, browser_proof  # noqa: E402

EMAIL, PASSWORD = "elon@tesla.com", "starship"
PROOF_CALL = re.compile(r'browserProof\("([^"]+)"\)')


def browser(url: str, ca_file: str) -> str:
    """A browser signing in at ``url``; returns the callback URL it is sent to."""
    with requests.Session() as session:
        session.trust_env = False           # REQUESTS_CA_BUNDLE would replace the CA
        session.verify = ca_file
        page = session.get(url, timeout=10)
        form = auth.parse_form(page.text)
        form.update(identity=EMAIL, credential=PASSWORD)
        form[PROOF_FIELD] = browser_proof(PROOF_CALL.search(page.text).group(1))
        reply = session.post(page.url, data=form, allow_redirects=False, timeout=10)
        return reply.headers["Location"]


def quartiles(samples: List[float]) -> str:
    q1, q2, q3 = statistics.quantiles(samples, n=4)
    return f"{q2 * 1000:7.2f} ms (IQR {q1 * 1000:.2f}-{q3 * 1000:.2f})"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(rounds: int = 30) -> None:
    with running(rules="2026") as sim, tempfile.TemporaryDirectory() as folder:
        urls, ca = sim.urls, sim.ca_file
        token_url = urls["sso_base_url"] + auth.TOKEN_PATH

        def sign_in_http2() -> None:
            with teslapy.Tesla(EMAIL, cache_file=f"{folder}/c.json", verify=ca,
                               sso_base_url=urls["sso_base_url"], api_base_url=urls["api_base_url"],
                               authenticator=lambda url: browser(url, ca)) as tesla:
                tesla.fetch_token()
                tesla.logout()

        def sign_in_http11() -> None:
            pkce, state = auth.new_pkce(), auth.new_state()
            callback = browser(auth.authorize_url(urls["sso_base_url"], pkce, state, EMAIL), ca)
            code = auth.parse_callback(callback, state).code
            with requests.Session() as fresh:       # a new connection, as a new Tesla has
                fresh.trust_env = False
                reply = fresh.post(token_url, data=auth.code_grant_form(code, pkce), verify=ca,
                                   timeout=10)
            auth.parse_token_reply(reply)

        refresher = teslapy.Tesla(EMAIL, cache_file=f"{folder}/r.json", verify=ca,
                                  sso_base_url=urls["sso_base_url"], api_base_url=urls["api_base_url"])
        refresher.refresh_token(refresh_token=sim.refresh_token_for(EMAIL))
        plain = requests.Session()
        plain.trust_env = False
        plain.verify = ca
        held = [sim.refresh_token_for(EMAIL)]

        def refresh_http11() -> None:
            reply = plain.post(token_url, data=auth.refresh_grant_form(held[0]), timeout=10)
            held[0] = auth.parse_token_reply(reply)["refresh_token"]

        minted = [sim.refresh_token_for(EMAIL)]
        client = transport.TokenClient(transport.Session(verify=ca), timeout=10)

        def mint_http2() -> None:       # the transport alone: no cache, no session state
            reply = client.post_form(token_url, auth.refresh_grant_form(minted[0]))
            minted[0] = auth.parse_token_reply(reply)["refresh_token"]

        results: dict = {name: [] for name in ("sign-in h2", "sign-in h1", "refresh h2",
                                               "mint h2", "refresh h1")}
        for _ in range(rounds):
            results["sign-in h2"].append(timed(sign_in_http2))
            results["sign-in h1"].append(timed(sign_in_http11))
            results["refresh h2"].append(timed(refresher.refresh_token))
            results["mint h2"].append(timed(mint_http2))
            results["refresh h1"].append(timed(refresh_http11))
        refresher.close()
        client.close()
        plain.close()
    for name, samples in results.items():
        print(f"{name:11s} {quartiles(samples)}")
    for h2, h1 in (("sign-in h2", "sign-in h1"), ("refresh h2", "refresh h1"),
                   ("mint h2", "refresh h1")):
        ratio = statistics.median(results[h2]) / statistics.median(results[h1])
        print(f"{h2} / {h1} = {ratio:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
