"""An HTTPS receiver on loopback with a certificate for a *name* (from a CA made here, with
``cryptography``), recording the SNI name and the ``Host`` header of every request: to show
that a connection pinned to an IP still verifies and presents the URL's host name."""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class LocalCA:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(_name("shipflow test CA"))
                     .issuer_name(_name("shipflow test CA")).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1))
                     .not_valid_after(now + dt.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .sign(self.key, hashes.SHA256()))

    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def client_context(self) -> ssl.SSLContext:
        """Trusts this CA only, and checks host names (the default)."""
        return ssl.create_default_context(cadata=self.pem())

    def issue(self, dns_name: str, directory: Path) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name(dns_name))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), False)
                .sign(self.key, hashes.SHA256()))
        cert_path, key_path = directory / f"{dns_name}.pem", directory / f"{dns_name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_path, key_path


class TlsReceiver:
    """Answers every POST with 200; ``requests``: (SNI name, Host header, client port)."""

    def __init__(self, ca: LocalCA, dns_name: str) -> None:
        self.requests: list[tuple[str | None, str | None, int]] = []
        self._sni: dict[int, str | None] = {}
        self._dir = tempfile.TemporaryDirectory()
        cert, key = ca.issue(dns_name, Path(self._dir.name))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        context.sni_callback = self._on_sni
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("content-length", 0)))
                port = self.client_address[1]
                outer.requests.append((outer._sni.get(port), self.headers.get("host"), port))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _on_sni(self, sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self._sni[sock.getpeername()[1]] = name

    def __enter__(self) -> TlsReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()
