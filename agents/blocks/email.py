"""Send Email: AutoGPT's block (backend/blocks/email_block.py), with its id and pins, over SMTP with
an `smtp` user_password credential.

The server (`config.smtp_server`, `config.smtp_port`) is a user's choice, so it is resolved once and
checked by the SSRF policy (autogpt_platform/safe_http.py: private and internal addresses refused
unless in SAFE_HTTP_ALLOWED_HOSTS), and the connection is made to the checked address. The
password is only ever sent over TLS: STARTTLS (required, as AutoGPT calls starttls()), or TLS from
the start on port 465; the certificate is verified against the server's name (with the CAs of
SEND_EMAIL_CA_FILE besides the system's).
"""

import smtplib
import socket
import ssl
from email.message import EmailMessage

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field

from autogpt_platform import safe_http
from integrations.llm.client import redact
from integrations.selectors import ResolvedCredential

from .base import BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .credentials import (
    TEST_CREDENTIAL_ID,
    CredentialsField,
    CredentialsMeta,
    IntegrationBlock,
    mock_credential,
    secret_text,
)
from .registry import register

PROVIDER = "smtp"
SENT = "Email sent successfully"
IMPLICIT_TLS_PORT = 465


class SMTPConfig(BaseModel):
    model_config = ConfigDict(title="SMTP Config")

    smtp_server: str = Field("smtp.example.com", description="SMTP server address")
    smtp_port: int = Field(25, description="SMTP port number")


def _connect_pinned(addresses: list[tuple[int, tuple]], timeout: float) -> socket.socket:
    error: OSError = OSError("no address")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


class _PinnedSMTP(smtplib.SMTP):
    """SMTP to the checked addresses only; the server's name stays the host for TLS (SNI and the
    certificate check)."""

    def __init__(self, host: str, addresses: list[tuple[int, tuple]], timeout: float):
        self._addresses = addresses
        super().__init__(local_hostname="localhost", timeout=timeout)
        self._host = host  # the name STARTTLS checks the certificate against

    def _get_socket(self, host, port, timeout):
        return _connect_pinned(self._addresses, timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, host: str, addresses: list[tuple[int, tuple]], timeout: float, context: ssl.SSLContext):
        self._addresses = addresses
        super().__init__(local_hostname="localhost", timeout=timeout, context=context)
        self._host = host

    def _get_socket(self, host, port, timeout):
        return self.context.wrap_socket(_connect_pinned(self._addresses, timeout), server_hostname=self._host)


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.SEND_EMAIL_CA_FILE:
        context.load_verify_locations(cafile=settings.SEND_EMAIL_CA_FILE)
    return context


def build_message(*, sender: str, to_email: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = to_email
        message["Subject"] = subject
    except ValueError as exc:  # a line break in a header: someone trying to add headers
        raise BlockError(f"The email cannot be sent: {exc}.") from None
    message.set_content(body)
    return message


@register
class SendEmailBlock(IntegrationBlock):
    """Sends a plain-text email through an SMTP server (STARTTLS, or TLS on port 465) with your SMTP
    username and password; the username is the sender."""

    id = "4335878a-394e-4e67-adf2-919877ff49ae"
    name = "Send Email"
    provider = PROVIDER
    credential_types = ("user_password",)
    categories = {BlockCategory.OUTPUT}

    class Input(BlockSchema):
        to_email: str = SchemaField(description="Recipient email address, e.g. recipient@example.com.")
        subject: str = SchemaField(description="Subject of the email.")
        body: str = SchemaField(description="Body of the email.")
        config: SMTPConfig = SchemaField(default_factory=SMTPConfig, description="SMTP Config")
        credentials: CredentialsMeta | None = CredentialsField(
            PROVIDER, ("user_password",), description="Your SMTP username and password."
        )

    class Output(BlockOutput):
        status: str = SchemaField(description="Status of the email sending operation.")
        error: str = SchemaField(description="Error message if the email sending failed.")

    test_cases = [
        BlockTestCase(
            {
                "to_email": "recipient@example.com",
                "subject": "Test Email",
                "body": "This is a test email.",
                "config": {"smtp_server": "smtp.gmail.com", "smtp_port": 25},
                "credentials": {"id": TEST_CREDENTIAL_ID, "provider": PROVIDER, "type": "user_password"},
            },
            [("status", SENT)],
            mocks={"send_email": lambda *args, **kwargs: SENT, "credential": mock_credential(PROVIDER)},
        ),
        BlockTestCase(
            {"to_email": "a@example.com", "subject": "hi", "body": "b", "config": {"smtp_server": "127.0.0.1"}},
            [("error", lambda message: "loopback" in message and "refused" in message)],
            description="the server goes through the SSRF policy",
            mocks={
                "credential": mock_credential(
                    PROVIDER, type="user_password", api_key=None, username="me@example.com", password=None
                )
            },
        ),
        BlockTestCase(
            {"to_email": "a@example.com\r\nBcc: all@example.com", "subject": "hi", "body": "b"},
            [("error", lambda message: "cannot be sent" in message)],
            description="no header injection",
            mocks={"credential": mock_credential(PROVIDER, type="user_password", api_key=None, username="me@x.org")},
        ),
    ]

    def run(self, input_data, context):
        credential = self.credential(context, input_data.credentials)
        yield (
            "status",
            self.send_email(
                config=input_data.config,
                to_email=input_data.to_email,
                subject=input_data.subject,
                body=input_data.body,
                credentials=credential,
            ),
        )

    def send_email(
        self, *, config: SMTPConfig, to_email: str, subject: str, body: str, credentials: ResolvedCredential
    ) -> str:
        username, password = credentials.username or "", secret_text(credentials.password)
        message = build_message(sender=username, to_email=to_email, subject=subject, body=body)
        host, port = config.smtp_server.strip(), config.smtp_port
        try:
            addresses = safe_http.checked_host_addresses(host, port)
        except safe_http.SafeHttpError as exc:
            raise BlockError(f"The SMTP server was refused: {exc}") from None
        timeout = settings.SEND_EMAIL_TIMEOUT_SECONDS
        where = f"{host}:{port}"
        try:
            if port == IMPLICIT_TLS_PORT:
                server: smtplib.SMTP = _PinnedSMTPSSL(host, addresses, timeout, tls_context())
            else:
                server = _PinnedSMTP(host, addresses, timeout)
            with server:
                server.connect(host, port)
                if port != IMPLICIT_TLS_PORT:
                    server.ehlo()
                    if not server.has_extn("starttls"):
                        raise BlockError(
                            f"The SMTP server {where} does not offer STARTTLS: the password is never sent "
                            "unencrypted (use a server with STARTTLS, or port 465)."
                        )
                    server.starttls(context=tls_context())
                server.ehlo()
                server.login(username, password)
                server.send_message(message, from_addr=username, to_addrs=[to_email])
        except smtplib.SMTPAuthenticationError as exc:
            raise BlockError(
                f"The SMTP server {where} refused the username and password of '{credentials.title}' ({exc.smtp_code})."
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(f"{to} ({code})" for to, (code, _text) in exc.recipients.items())
            raise BlockError(f"The SMTP server {where} refused the recipient: {refused}.") from None
        except smtplib.SMTPResponseException as exc:
            text = redact(
                exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else "", [password]
            )
            raise BlockError(f"The SMTP server {where} refused the email ({exc.smtp_code} {text}).") from None
        except ssl.SSLCertVerificationError as exc:
            raise BlockError(
                f"The TLS certificate of the SMTP server {where} could not be verified ({exc.verify_message})."
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            detail = redact(str(exc) or type(exc).__name__, [password])
            raise BlockError(f"Sending through the SMTP server {where} failed: {detail}") from None
        return SENT
