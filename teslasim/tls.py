"""TLS for the simulated SSO: a throwaway CA, a loopback certificate and a TLS front.

Under the 2026 rules the SSO listeners speak TLS (1.2 and 1.3) with ALPN ``h2`` and
``http/1.1``, as ``auth.tesla.com`` does, and the token endpoint must know how each
token was asked for. Hypercorn does not tell an app the TLS version of a request, so a
:class:`TlsFront` terminates TLS on the public port, notes the TLS version and ALPN
protocol of each connection, and relays the plain bytes to Hypercorn on an internal
loopback socket (Hypercorn takes HTTP/2 by prior knowledge there). Each relayed
connection is known by the port the relay connects from, which Hypercorn reports as
the client port; :class:`ConnectionInfoMiddleware` uses it to put
``{"tls_version": "TLSv1.3", "alpn": "h2"}`` into the ASGI scope at ``SCOPE_KEY``.

:class:`Certificates` makes a CA and a server certificate for ``127.0.0.1``,
``localhost`` and ``::1`` in a private temporary directory (mode 0700); clients trust
the CA file (``ca_file``). ``remove()`` deletes the directory.
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
import shutil
import socket
import ssl
import tempfile
import weakref
from pathlib import Path
from typing import Iterable, Optional

logger = logging.getLogger(__name__)

#: Where :class:`ConnectionInfoMiddleware` puts the connection's TLS facts in the scope.
SCOPE_KEY = "teslasim.tls"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
CERTIFICATE_DAYS = 30
RELAY_CHUNK = 1 << 16


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "teslasim"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alternative_names(hosts: Iterable[str]) -> list:
    from cryptography import x509

    names: list = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host.strip("[]"))))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def make_certificates(hosts: Iterable[str] = LOOPBACK_NAMES) -> tuple[bytes, bytes, bytes]:
    """A new CA and a server certificate it signed for ``hosts``: PEM (ca, chain, key).

    ``chain`` is the server certificate followed by the CA's. The keys are ECDSA P-256.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=CERTIFICATE_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("teslasim throwaway CA")
    ca_key_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start)
          .not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=False, content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
              encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_key_id, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(_name("teslasim SSO")).issuer_name(ca_name)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(start).not_valid_after(end)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.SubjectAlternativeName(_alternative_names(hosts)),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                  ca_key_id), critical=False)
              .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    chain = server.public_bytes(serialization.Encoding.PEM) + ca_pem
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return ca_pem, chain, key_pem


class Certificates:
    """A throwaway CA and server certificate, written to a private temporary directory.

    Raises ``ImportError`` when ``cryptography`` is not installed.
    """

    def __init__(self, hosts: Iterable[str] = LOOPBACK_NAMES) -> None:
        ca_pem, chain, key_pem = make_certificates(hosts)
        self.directory = Path(tempfile.mkdtemp(prefix="teslasim-tls-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.directory), True)
        self.ca_file = str(self.directory / "ca.pem")
        self.chain_file = str(self.directory / "server.pem")
        self.key_file = str(self.directory / "server.key")
        for path, data in ((self.ca_file, ca_pem), (self.chain_file, chain),
                           (self.key_file, key_pem)):
            Path(path).write_bytes(data)

    def server_context(self) -> ssl.SSLContext:
        """A server context: TLS 1.2 or 1.3, ALPN ``h2`` then ``http/1.1``."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.chain_file, self.key_file)
        context.set_alpn_protocols(["h2", "http/1.1"])
        return context

    def remove(self) -> None:
        """Delete the directory and the files in it."""
        self._finalizer()


class TlsFront:
    """Terminate TLS on a public socket and relay each connection to a plain one.

    ``connections`` maps the local port of each open relay connection (the client port
    the target server sees) to ``{"tls_version": ..., "alpn": ...}``.
    """

    def __init__(self, context: ssl.SSLContext, target: tuple[str, int]) -> None:
        self.context = context
        self.target = target
        self.connections: dict[int, dict] = {}
        self._server: Optional[asyncio.AbstractServer] = None
        self._relays: set = set()

    async def start(self, sock: socket.socket) -> None:
        """Serve on the listening ``sock`` (which the front then owns)."""
        self._server = await asyncio.start_server(
            self._accepted, sock=sock, ssl=self.context, ssl_handshake_timeout=10.0,
            limit=RELAY_CHUNK)

    async def stop(self) -> None:
        """Stop listening and end every relay."""
        if self._server is not None:
            self._server.close()
        for task in list(self._relays):
            task.cancel()
        if self._relays:
            await asyncio.gather(*self._relays, return_exceptions=True)

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._relay(reader, writer))
        self._relays.add(task)                  # so that stop() can end it
        task.add_done_callback(self._relays.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        info = {"tls_version": ssl_object.version(), "alpn": ssl_object.selected_alpn_protocol()}
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError:
            logger.warning("TLS front cannot reach %s:%d", *self.target)
            writer.close()
            return
        port = target_writer.get_extra_info("sockname")[1]
        self.connections[port] = info
        try:
            await _pipe(reader, target_writer, target_reader, writer)
            writer.close()
            await writer.wait_closed()          # the TLS close_notify exchange
        except asyncio.CancelledError:          # the simulator stops: no time to wait
            writer.transport.abort()
            raise
        except OSError:
            pass
        finally:
            self.connections.pop(port, None)


async def _pipe(client_reader: asyncio.StreamReader, target_writer: asyncio.StreamWriter,
                target_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
                ) -> None:
    """Copy both ways until one side ends, then drop the connection to the target."""
    pumps = [asyncio.ensure_future(_pump(client_reader, target_writer)),
             asyncio.ensure_future(_pump(target_reader, client_writer))]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        target_writer.transport.abort()     # first: a cancellation at stop cannot skip it
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from ``reader`` to ``writer`` until end of stream or a broken connection."""
    try:
        while True:
            data = await reader.read(RELAY_CHUNK)
            if not data:
                return
            writer.write(data)
            await writer.drain()
    except OSError:                 # ConnectionError, ssl.SSLError
        return


class ConnectionInfoMiddleware:
    """Put the TLS facts of the request's connection into the scope at ``SCOPE_KEY``.

    Also marks the scope ``https`` (``wss``) since the client spoke TLS.
    """

    def __init__(self, app, front: TlsFront) -> None:
        self.app = app
        self.front = front

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client") or ("", 0)
            info = self.front.connections.get(int(client[1]))
            if info is not None:
                scheme = "https" if scope["type"] == "http" else "wss"
                scope = {**scope, SCOPE_KEY: dict(info), "scheme": scheme}
        await self.app(scope, receive, send)
