"""Which webhook URLs a user may register: https on Slack's or DingTalk's own hosts, or any
http(s) URL on a host the operator listed for self-hosted endpoints."""

from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from .models import ChannelKind

URL_MAX_LENGTH = 2000


def _host_entries(entries: list[str]) -> set[tuple[str, int | None]]:
    """ "host" or "host:port" entries as (host, port or None)."""
    parsed = set()
    for entry in entries:
        host, _, port = entry.strip().lower().rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        parsed.add((host.strip().lower(), int(port) if port.isdigit() else None))
    return parsed


def _matches(entries: list[str], host: str, port: int) -> bool:
    return any(h == host and p in (None, port) for h, p in _host_entries(entries))


def webhook_url_problem(kind: str, url: str) -> str | None:
    """What is wrong with url as a webhook of this kind, or None when it is acceptable."""
    if len(url) > URL_MAX_LENGTH:
        return f"At most {URL_MAX_LENGTH} characters."
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return "Not a valid URL."
    if scheme not in ("http", "https") or not host:
        return "Must be an https URL."
    if parts.username is not None or parts.password is not None:
        return "Must not contain credentials."
    self_hosted = _matches(settings.NOTIFICATION_WEBHOOK_ALLOWED_HOSTS, host, port)
    if not self_hosted:
        if scheme != "https":
            return "Must be an https URL."
        hosts = settings.NOTIFICATION_SLACK_HOSTS if kind == ChannelKind.SLACK else settings.NOTIFICATION_DINGTALK_HOSTS
        if not _matches(hosts, host, port):
            label = "a Slack incoming webhook" if kind == ChannelKind.SLACK else "a DingTalk robot webhook"
            return f"Must be {label} on {', '.join(hosts)}."
    if kind == ChannelKind.DINGTALK and not parse_qs(parts.query).get("access_token"):
        return (
            "A DingTalk robot webhook carries its access_token (https://oapi.dingtalk.com/robot/send?access_token=...)."
        )
    return None


def mask_webhook_url(url: str) -> str:
    """Scheme and host, and the last four characters: enough to recognise, too little to use."""
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}/…{rest[-4:]}"
