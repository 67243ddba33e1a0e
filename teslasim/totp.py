"""Time-based one-time passcodes (RFC 6238 over RFC 4226 HOTP): SHA-1, 6 digits, 30 s."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import struct
from typing import Optional

logger = logging.getLogger(__name__)

DIGITS = 6
STEP = 30
WINDOW = 1          # steps accepted either side of the current one (clock drift)


def decode_secret(secret: str) -> bytes:
    """Decode a base32 secret as authenticator apps show it (spaces, any case, no padding).

    Raises ``ValueError`` for a secret that is not base32.
    """
    text = secret.replace(" ", "").upper()
    text += "=" * (-len(text) % 8)
    try:
        return base64.b32decode(text)
    except (ValueError, TypeError) as error:
        raise ValueError("TOTP secret is not base32") from error


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """The RFC 4226 one-time password for ``counter`` (dynamic truncation of HMAC-SHA-1)."""
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def counter_at(now: float, step: int = STEP) -> int:
    """The RFC 6238 time step number of the Unix time ``now``."""
    return int(now // step)


def passcode(secret: str, now: float) -> str:
    """The passcode an authenticator app shows at Unix time ``now`` for a base32 secret."""
    return hotp(decode_secret(secret), counter_at(now))


def matching_counter(secret: str, code: str, now: float, window: int = WINDOW) -> Optional[int]:
    """The time step (within ``window`` steps of now) whose passcode is ``code``, else None."""
    key = decode_secret(secret)
    current = counter_at(now)
    for counter in range(current - window, current + window + 1):
        if hmac.compare_digest(hotp(key, counter), code):
            return counter
    return None


def is_well_formed(code: object) -> bool:
    """True for a string of exactly six ASCII digits."""
    return isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()
