"""An SMTP server on 127.0.0.1 as mail providers run them (aiosmtpd): STARTTLS with a certificate for
`localhost` and 127.0.0.1 signed by a CA made here (its PEM file is `ca_file`, for
SEND_EMAIL_CA_FILE), AUTH only after STARTTLS, and the accounts in `accounts`. It keeps every
message it accepts, with the login that sent it. `plain=True` offers neither STARTTLS nor AUTH.
"""

import datetime
import email
import email.policy
import ipaddress
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.processes import free_port, wait_until


@dataclass
class Received:
    login: str | None
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage


def _write_certificates(directory: Path) -> tuple[str, str, str]:
    """(CA file, server certificate file, server key file)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Stand-in SMTP CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(ca_file), str(cert_file), str(key_file)


class TlsSmtpStandIn:
    def __init__(self, accounts: dict[str, str], *, plain: bool = False):
        self.accounts = dict(accounts)
        self.received: list[Received] = []
        self.failed_logins: list[str] = []
        self._lock = threading.Lock()
        self._directory = tempfile.TemporaryDirectory(prefix="smtp-stand-in-")
        self.ca_file, cert_file, key_file = _write_certificates(Path(self._directory.name))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self.port = free_port()
        options = {} if plain else {"tls_context": context, "require_starttls": True}
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=None if plain else self._authenticate,
            auth_require_tls=True,
            **options,
        )
        self.controller.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.accounts.get(login) == password:
                return AuthResult(success=True, auth_data=login)
            with self._lock:
                self.failed_logins.append(login)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self._lock:
            self.received.append(Received(login, envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[Received]:
        with self._lock:
            return [received for received in self.received if address in received.recipients]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> list[Received]:
        wait_until(lambda: len(self.messages_to(address)) >= count, timeout=timeout, message=f"email to {address}")
        return self.messages_to(address)

    def stop(self) -> None:
        self.controller.stop()
        self._directory.cleanup()
