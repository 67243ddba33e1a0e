"""Command keys: the P-256 key pair that signs commands, its files, and the pairing link.

A Fleet API app signs commands with one private key. Its public key must be served by
the app's domain at :data:`PUBLIC_KEY_PATH` (PEM), and each car's owner approves it by
opening :func:`pairing_link` in the Tesla app.

The private key file is written in PEM (SEC 1, ``EC PRIVATE KEY``, the form Tesla's
tools write), created with mode 0600 whatever the umask, in one step where the file
system has hard links: it appears complete or not at all. An existing file is never
overwritten; replacing a paired key means every car has to pair the new one, so that is
left to the user.
"""
from __future__ import annotations

import logging
import os
import re
import stat
import tempfile

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from teslapy.vcp.crypto import encode_public_key
from teslapy.vcp.errors import CommandKeyError

logger = logging.getLogger(__name__)

#: Where the app's domain serves the public key.
PUBLIC_KEY_PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
#: The page that asks a car's owner to approve the app's key.
PAIRING_URL = "https://tesla.com/_ak/{domain}"
FILE_MODE = 0o600

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """A new random P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """``key`` as an unencrypted SEC 1 PEM (``-----BEGIN EC PRIVATE KEY-----``)."""
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def public_key_pem(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    """The public key as PEM (``-----BEGIN PUBLIC KEY-----``), as the domain serves it."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The 65-byte uncompressed public key, as the protocol sends it."""
    return encode_public_key(key.public_key())


def create_key_file(path: str) -> ec.EllipticCurvePrivateKey:
    """Generate a key pair and write its private key to ``path``; return the key.

    Raises:
        CommandKeyError: ``path`` already exists (it is left untouched), or the file
            cannot be written.
    """
    key = generate_private_key()
    pem = private_key_pem(key)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".teslapy-key-")
    except OSError as exc:
        raise CommandKeyError(f"Cannot create command key {path}: {exc.strerror or exc}") \
            from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        _publish(temporary, path)
    finally:
        os.unlink(temporary)
    logger.info("created command key %s", path)
    return key


def _publish(temporary: str, path: str) -> None:
    """Give the complete ``temporary`` file the name ``path`` unless that name is taken."""
    try:
        os.link(temporary, path)    # atomic, and refuses an existing name
        return
    except FileExistsError:
        raise CommandKeyError(_exists_message(path)) from None
    except OSError:
        pass    # a file system without hard links: exclusive creation never overwrites either
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        raise CommandKeyError(_exists_message(path)) from None
    except OSError as exc:
        raise CommandKeyError(f"Cannot create command key {path}: {exc.strerror or exc}") \
            from exc
    with os.fdopen(descriptor, "wb") as handle, open(temporary, "rb") as source:
        handle.write(source.read())


def _exists_message(path: str) -> str:
    return (f"Command key {path} already exists and was left as it is. Use it, or choose "
            "another file name; a new key must be paired with every car again.")


def load_key_file(path: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key stored in the PEM file ``path``.

    A file readable by others is used but logged as a warning.

    Raises:
        CommandKeyError: the file cannot be read, is not an unencrypted PEM private
            key, or its key is not on P-256.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
            mode = os.fstat(handle.fileno()).st_mode
    except FileNotFoundError:
        raise CommandKeyError(f"No command key at {path}; create one first (a new key "
                              "must then be paired with the car).") from None
    except OSError as exc:
        raise CommandKeyError(f"Cannot read command key {path}: {exc.strerror or exc}") \
            from exc
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        logger.warning("command key %s can be read by other users; chmod 600 it", path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise CommandKeyError(f"Command key {path} is encrypted; store it without a "
                              "passphrase.") from None
    except (ValueError, UnsupportedAlgorithm):
        raise CommandKeyError(f"{path} does not hold a PEM private key.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CommandKeyError(f"Command key {path} is not a P-256 (prime256v1) EC key.")
    return key


def check_domain(domain: str) -> str:
    """``domain`` as a lower-case host name, for the pairing link and the key's URL.

    Raises:
        ValueError: ``domain`` is not a bare host name (a scheme, path, port, user,
            space or non-ASCII character, or a malformed label).
    """
    if not isinstance(domain, str):
        raise ValueError("the domain must be a string such as 'example.com'")
    host = domain.strip().lower()
    if host.endswith("."):
        host = host[:-1]
    if "://" in host or "/" in host:
        raise ValueError(f"give the domain alone ('example.com'), not a URL: {domain!r}")
    if not host.isascii():
        raise ValueError(f"write an internationalised domain in its ASCII (xn--) form: "
                         f"{domain!r}")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"not a valid domain name: {domain!r}")
    return host


def pairing_link(domain: str) -> str:
    """The link a car's owner opens in the Tesla app to approve the app's key.

    Raises:
        ValueError: ``domain`` is not a bare host name (see :func:`check_domain`).
    """
    return PAIRING_URL.format(domain=check_domain(domain))


def public_key_url(domain: str) -> str:
    """Where Tesla fetches the app's public key from ``domain``.

    Raises:
        ValueError: ``domain`` is not a bare host name (see :func:`check_domain`).
    """
    return f"https://{check_domain(domain)}{PUBLIC_KEY_PATH}"
