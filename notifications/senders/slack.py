"""Slack incoming webhooks: a Block Kit message POSTed as JSON; Slack answers 200 "ok".
https://api.slack.com/messaging/webhooks, https://api.slack.com/block-kit
"""

from ..messages import Message
from . import SendResult, check_http_status, excerpt, post_json

HEADER_MAX = 150
SECTION_MAX = 3000
FIELDS_MAX = 10


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Message) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:HEADER_MAX], "emoji": False}}
    ]
    if message.paragraphs:
        text = "\n\n".join(_escape(paragraph) for paragraph in message.paragraphs)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]}})
    if message.facts:
        fields = [
            {"type": "mrkdwn", "text": f"*{_escape(label)}*\n{_escape(value)}"}
            for label, value in message.facts[:FIELDS_MAX]
        ]
        blocks.append({"type": "section", "fields": fields})
    if message.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": message.link_text},
                        "url": message.link,
                        "action_id": "open",
                    }
                ],
            }
        )
    # `text` is the fallback shown in notifications and by clients without Block Kit.
    return {"text": message.summary, "blocks": blocks}


def send_slack(*, url: str, message: Message, idempotency_key: str, timeout: float) -> SendResult:
    response = post_json(url, slack_payload(message), idempotency_key=idempotency_key, timeout=timeout)
    check_http_status(response)
    return SendResult(status=response.status, body=excerpt(response.text()))
