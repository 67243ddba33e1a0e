"""Command key files, the public key the domain serves, and the pairing link."""
from __future__ import annotations

import logging
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st

from teslapy.vcp.errors import CommandKeyError
from teslapy.vcp.keys import (PUBLIC_KEY_PATH, check_domain, create_key_file, load_key_file,
                              pairing_link, public_key_bytes, public_key_pem, public_key_url)


def test_created_key_file_is_owner_only_and_loads_back(tmp_path):
    path = tmp_path / "command.key"
    old_umask = os.umask(0)                 # a permissive umask must not widen the mode
    try:
        key = create_key_file(str(path))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN EC PRIVATE KEY-----")
    assert public_key_bytes(load_key_file(str(path))) == public_key_bytes(key)
    assert [entry.name for entry in tmp_path.iterdir()] == ["command.key"]


def test_existing_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "command.key"
    create_key_file(str(path))
    before = path.read_bytes()
    with pytest.raises(CommandKeyError, match="already exists"):
        create_key_file(str(path))
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_key_file_in_a_missing_directory(tmp_path):
    with pytest.raises(CommandKeyError, match="Cannot create"):
        create_key_file(str(tmp_path / "missing" / "command.key"))


def write(tmp_path, data: bytes) -> str:
    path = tmp_path / "key.pem"
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)


def pem(key, password=None) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password \
        else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def test_pkcs8_key_file_loads(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    assert public_key_bytes(load_key_file(write(tmp_path, pem(key)))) == public_key_bytes(key)


@pytest.mark.parametrize("make, message", [
    (lambda: b"not a key", "does not hold a PEM private key"),
    (lambda: pem(ec.generate_private_key(ec.SECP256R1()), b"secret"), "encrypted"),
    (lambda: pem(ec.generate_private_key(ec.SECP384R1())), "not a P-256"),
    (lambda: pem(rsa.generate_private_key(65537, 2048)), "not a P-256"),
])
def test_unusable_key_files_are_refused_without_their_content(tmp_path, make, message):
    data = make()
    with pytest.raises(CommandKeyError, match=message) as caught:
        load_key_file(write(tmp_path, data))
    for line in data.splitlines()[1:-1]:    # the key material between the PEM markers
        assert line.decode("ascii") not in str(caught.value)


def test_missing_key_file(tmp_path):
    with pytest.raises(CommandKeyError, match="No command key"):
        load_key_file(str(tmp_path / "absent.key"))


def test_key_file_readable_by_others_is_warned_about(tmp_path, caplog):
    path = tmp_path / "command.key"
    create_key_file(str(path))
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="teslapy.vcp.keys"):
        load_key_file(str(path))
    assert "chmod 600" in caplog.text


def test_public_key_pem_is_what_the_domain_serves():
    key = ec.generate_private_key(ec.SECP256R1())
    text = public_key_pem(key)
    assert text.startswith("-----BEGIN PUBLIC KEY-----\n")
    loaded = serialization.load_pem_public_key(text.encode())
    assert loaded.public_numbers() == key.public_key().public_numbers()
    assert public_key_pem(key.public_key()) == text


def test_pairing_link_and_public_key_url():
    assert pairing_link("Example.COM.") == "https://tesla.com/_ak/example.com"
    assert public_key_url("app.example.com") == \
        "https://app.example.com/.well-known/appspecific/com.tesla.3p.public-key.pem"
    assert PUBLIC_KEY_PATH == "/.well-known/appspecific/com.tesla.3p.public-key.pem"


@pytest.mark.parametrize("domain, message", [
    ("https://example.com", "not a URL"), ("example.com/path", "not a URL"),
    ("bücher.de", "xn--"), ("localhost", "not a valid"), ("exa mple.com", "not a valid"),
    ("-a.com", "not a valid"), ("example.com:443", "not a valid"), ("", "not a valid"),
    (None, "must be a string")])
def test_bad_domains_are_refused(domain, message):
    with pytest.raises(ValueError, match=message):
        pairing_link(domain)


@given(st.text(max_size=80))
def test_any_text_gives_a_valid_domain_or_value_error(text):
    try:
        host = check_domain(text)
    except ValueError:
        return
    assert host == host.lower() and host.isascii() and "/" not in host and " " not in host
    assert check_domain(host) == host
    assert pairing_link(text) == "https://tesla.com/_ak/" + host
