"""The parties the integration blocks talk to, started once per test session before any worker:
the providers' stand-ins (tests/stand_ins/providers.py), an SMTP server with STARTTLS and AUTH
(tests/stand_ins/smtp.py), and two plain web servers (/echo, /redirect) for Send Authenticated
Web Request: `web` is the credential's host, `other` another origin.

`env()` is what a worker needs: the providers' base URLs and system keys, the SMTP stand-in's CA,
and the local servers let through SAFE_HTTP_ALLOWED_HOSTS.
"""

from tests.platform.test_safe_http import LocalServer
from tests.stand_ins.providers import ProviderStandIns
from tests.stand_ins.smtp import TlsSmtpStandIn

SMTP_USERNAME = "agent@example.com"
SMTP_PASSWORD = "smtp-password-0123456789"


class IntegrationStandIns:
    def __init__(self):
        self.providers = ProviderStandIns()
        self.smtp = TlsSmtpStandIn({SMTP_USERNAME: SMTP_PASSWORD})
        self.plain_smtp = TlsSmtpStandIn({}, plain=True)
        self.web = LocalServer()
        self.other = LocalServer()

    @property
    def allowed_hosts(self) -> list[str]:
        return [
            f"127.0.0.1:{self.smtp.port}",
            f"localhost:{self.smtp.port}",
            f"127.0.0.1:{self.plain_smtp.port}",
            f"127.0.0.1:{self.web.port}",
            f"localhost:{self.web.port}",
            f"127.0.0.1:{self.other.port}",
        ]

    def env(self) -> dict[str, str]:
        return {
            **self.providers.env(),
            "SEND_EMAIL_CA_FILE": self.smtp.ca_file,
            "SEND_EMAIL_TIMEOUT_SECONDS": "5",
            "SAFE_HTTP_ALLOWED_HOSTS": ",".join(self.allowed_hosts),
        }

    def stop(self) -> None:
        self.providers.stop()
        self.smtp.stop()
        self.plain_smtp.stop()
        self.web.close()
        self.other.close()
