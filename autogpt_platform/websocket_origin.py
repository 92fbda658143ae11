"""The WebSocket origin check: a foreign Origin is refused, a missing one is not.

Channels' AllowedHostsOriginValidator refuses a handshake without an Origin header. Browsers always
send one, and the check exists for them: it stops another site's page from opening a socket with
the user's session cookie (cross-site WebSocket hijacking). Python's websockets, command-line
clients and SDKs send none; they are not a browser acting for someone else, and the token (or
their own session) authenticates them. So: no Origin is let through to authentication, an Origin
must be one of ALLOWED_HOSTS (`null` included: it is a browser's too).
"""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin) -> bool:
        # OriginValidator decodes the header as latin-1, which never fails: None means no header.
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def allowed_hosts_origin_validator(application) -> BrowserOriginValidator:
    """Channels' AllowedHostsOriginValidator, but letting a handshake without Origin through."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)
