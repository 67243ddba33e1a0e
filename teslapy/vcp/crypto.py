"""The protocol's cryptography: P-256 key agreement, HMAC-SHA256 tags and AES-GCM.

* ``K = SHA1(Sx)[:16]`` where ``Sx`` is the 32-byte x coordinate of the ECDH point of
  our private key and the peer's public key (leading zero bytes kept).
* Sub-keys are ``HMAC-SHA256(K, label)``: ``"session info"`` for handshake tags and
  ``"authenticated command"`` for command tags.
* A handshake tag is ``HMAC(session-info key, session_info_metadata ‖ SessionInfo bytes)``;
  an HMAC command tag is ``HMAC(command key, request_metadata ‖ payload)``.
* AES-GCM uses ``K`` itself, a 12-byte nonce and ``SHA256(metadata)`` as associated data.

Public keys travel as 65-byte uncompressed points (``0x04 ‖ X ‖ Y``).
"""
from __future__ import annotations

import hashlib
import hmac
import os
from typing import Optional, Tuple

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teslapy.vcp.metadata import Metadata, session_info_metadata

PUBLIC_KEY_LENGTH = 65
NONCE_LENGTH = 12
GCM_TAG_LENGTH = 16
SESSION_INFO_LABEL = b"session info"
COMMAND_LABEL = b"authenticated command"


def encode_public_key(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed encoding of a P-256 public key."""
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def decode_public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    """The P-256 public key encoded in ``data`` (65 bytes, uncompressed).

    Raises:
        ValueError: ``data`` is not an uncompressed point on P-256 (the point at
            infinity and points off the curve included).
    """
    if not isinstance(data, (bytes, bytearray)) or len(data) != PUBLIC_KEY_LENGTH \
            or data[0] != 0x04:
        raise ValueError("a public key must be a 65-byte uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(data))
    except ValueError:
        raise ValueError("the public key is not a point on P-256") from None


def shared_key(private_key: ec.EllipticCurvePrivateKey, peer_public_key: bytes) -> bytes:
    """The 16-byte session key ``K`` shared with the holder of ``peer_public_key``.

    Raises:
        ValueError: ``peer_public_key`` is not a valid P-256 public key.
    """
    peer = decode_public_key(peer_public_key)
    secret = private_key.exchange(ec.ECDH(), peer)
    return hashlib.sha1(secret).digest()[:16]


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def session_info_key(key: bytes) -> bytes:
    """``HMAC-SHA256(K, "session info")``: the key of handshake tags."""
    return hmac_sha256(key, SESSION_INFO_LABEL)


def command_key(key: bytes) -> bytes:
    """``HMAC-SHA256(K, "authenticated command")``: the key of HMAC command tags."""
    return hmac_sha256(key, COMMAND_LABEL)


def session_info_tag(key: bytes, vin: str, challenge: bytes, encoded_info: bytes) -> bytes:
    """The tag that authenticates an encoded ``SessionInfo`` answering ``challenge``."""
    metadata = session_info_metadata(vin, challenge)
    return hmac_sha256(session_info_key(key), metadata.serialize() + encoded_info)


def hmac_command_tag(key: bytes, metadata: Metadata, payload: bytes) -> bytes:
    """The HMAC-SHA256 personalized tag of a command ``payload`` under ``metadata``."""
    return hmac_sha256(command_key(key), metadata.serialize() + payload)


def tags_equal(first: bytes, second: bytes) -> bool:
    """Constant-time comparison of two tags."""
    return hmac.compare_digest(first, second)


def gcm_encrypt(key: bytes, metadata: Metadata, plaintext: bytes,
                nonce: Optional[bytes] = None) -> Tuple[bytes, bytes, bytes]:
    """AES-GCM encrypt ``plaintext`` bound to ``metadata``: ``(nonce, ciphertext, tag)``.

    A random 12-byte nonce is drawn unless one is given (tests use fixed nonces).
    """
    nonce = os.urandom(NONCE_LENGTH) if nonce is None else nonce
    sealed = AESGCM(key).encrypt(nonce, plaintext, metadata.checksum())
    return nonce, sealed[:-GCM_TAG_LENGTH], sealed[-GCM_TAG_LENGTH:]


def gcm_decrypt(key: bytes, metadata: Metadata, nonce: bytes, ciphertext: bytes,
                tag: bytes) -> bytes:
    """The plaintext of an AES-GCM ``ciphertext`` bound to ``metadata``.

    Raises:
        ValueError: the nonce is not 12 bytes or the tag is not 16 bytes.
        cryptography.exceptions.InvalidTag: the ciphertext, tag or metadata do not match.
    """
    if len(nonce) != NONCE_LENGTH or len(tag) != GCM_TAG_LENGTH:
        raise ValueError("AES-GCM needs a 12-byte nonce and a 16-byte tag")
    return AESGCM(key).decrypt(nonce, ciphertext + tag, metadata.checksum())
