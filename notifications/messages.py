"""What each notification says: a title, a one-line summary, paragraphs, facts and a link, built
from its type and data. Every channel renders the same Message its own way (email templates,
Slack Block Kit, DingTalk markdown, the in-app payload).

The data each type expects (other keys are kept and ignored here):
- agent_run_completed / agent_run_failed: execution_id, graph_id, graph_name, graph_version,
  status, started_at, ended_at, duration_seconds, trigger_kind, error_message (failed),
  failed_node_id (failed)
- block_execution_failed: execution_id, graph_id, graph_name, failed_nodes [{node_id, block_id,
  block_name, message}]
- schedule_disabled: schedule_id, schedule_name, graph_id, failures, reason
- store_submission_approved / _rejected: listing_name, slug, version, public_comments,
  reviewed_at, url (optional: a link to the listing or the submission)
- daily_summary / weekly_summary: period_start, period_end, runs_total, runs_completed,
  runs_failed, runs_terminated, agents [{graph_id, graph_name, runs, failed}]
- agent_run_digest: period_start, period_end, runs [{execution_id, graph_name, type, status,
  ended_at, error_message}]
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .models import Notification, NotificationType

T = NotificationType


@dataclass
class Message:
    title: str
    summary: str
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: str | None = None
    link_text: str = "Open"


def execution_url(execution_id: Any, graph_id: Any = "") -> str:
    path = settings.NOTIFICATION_EXECUTION_PATH.format(execution_id=execution_id, graph_id=graph_id)
    return settings.PLATFORM_BASE_URL + path


def _agent(data: dict) -> str:
    name = data.get("graph_name") or "Your agent"
    version = data.get("graph_version")
    return f"{name} (v{version})" if version else name


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _run_link(data: dict) -> str | None:
    return execution_url(data["execution_id"], data.get("graph_id", "")) if data.get("execution_id") else None


def _run_facts(data: dict) -> list[tuple[str, str]]:
    facts = [("Agent", _agent(data)), ("Status", str(data.get("status", "")))]
    if data.get("duration_seconds") is not None:
        facts.append(("Duration", _duration(data["duration_seconds"])))
    if data.get("trigger_kind"):
        facts.append(("Started by", str(data["trigger_kind"])))
    if data.get("execution_id"):
        facts.append(("Execution", str(data["execution_id"])))
    return facts


def _run_completed(data: dict) -> Message:
    agent = _agent(data)
    return Message(
        title=f"{agent} finished",
        summary=f"{agent} completed successfully.",
        paragraphs=[f"Your agent {agent} completed its run."],
        facts=_run_facts(data),
        link=_run_link(data),
        link_text="View the run",
    )


def _run_failed(data: dict) -> Message:
    agent = _agent(data)
    error = data.get("error_message") or "The run failed."
    paragraphs = [f"Your agent {agent} failed.", f"Error: {error}"]
    if data.get("failed_node_id"):
        paragraphs.append(f"It stopped at node {data['failed_node_id']}.")
    return Message(
        title=f"{agent} failed",
        summary=f"{agent} failed: {error}",
        paragraphs=paragraphs,
        facts=_run_facts(data),
        link=_run_link(data),
        link_text="View the run",
    )


def _block_failed(data: dict) -> Message:
    agent = _agent(data)
    nodes = data.get("failed_nodes") or []
    first = nodes[0] if nodes else {}
    what = first.get("block_name") or "A block"
    paragraphs = [f"The run of {agent} completed, but {len(nodes)} block execution(s) failed along the way:"]
    paragraphs += [
        f"{node.get('block_name') or node.get('block_id')} (node {node.get('node_id')}): {node.get('message')}"
        for node in nodes[:10]
    ]
    return Message(
        title=f"A block failed in {agent}",
        summary=f"{what} failed in {agent}: {first.get('message', '')}".rstrip(": "),
        paragraphs=paragraphs,
        facts=_run_facts(data),
        link=_run_link(data),
        link_text="View the run",
    )


def _schedule_disabled(data: dict) -> Message:
    name = data.get("schedule_name") or "A schedule"
    failures = data.get("failures")
    reason = data.get("reason") or "its runs could not start"
    link = f"{settings.PLATFORM_BASE_URL}/api/v1/schedules/{data['schedule_id']}" if data.get("schedule_id") else None
    return Message(
        title=f"Schedule '{name}' was disabled",
        summary=f"Schedule '{name}' was disabled after {failures} failed starts: {reason}",
        paragraphs=[
            f"Your schedule '{name}' could not start its agent {failures} times in a row and was disabled.",
            f"Last reason: {reason}",
            "Fix the agent or the schedule's inputs, then resume the schedule.",
        ],
        facts=[("Schedule", name), ("Failed starts", str(failures))],
        link=link,
        link_text="View the schedule",
    )


def _store_facts(data: dict) -> list[tuple[str, str]]:
    facts = [("Listing", str(data.get("listing_name") or data.get("name") or data.get("slug") or ""))]
    if data.get("version") is not None:
        facts.append(("Version", str(data["version"])))
    if data.get("reviewed_at"):
        facts.append(("Reviewed", str(data["reviewed_at"])))
    return facts


def _store_decision(data: dict, approved: bool) -> Message:
    name = data.get("listing_name") or data.get("name") or data.get("slug") or "Your submission"
    version = f" version {data['version']}" if data.get("version") is not None else ""
    comments = data.get("public_comments") or data.get("comments") or ""
    verdict = "approved and is live in the store" if approved else "not approved"
    paragraphs = [f"Your store submission {name}{version} was {verdict}."]
    if comments:
        paragraphs.append(f"Reviewer's comments: {comments}")
    if not approved:
        paragraphs.append("You can change the agent and submit it again.")
    return Message(
        title=f"{name} was {'approved' if approved else 'rejected'}",
        summary=f"Your store submission {name}{version} was {'approved' if approved else 'rejected'}.",
        paragraphs=paragraphs,
        facts=_store_facts(data),
        link=data.get("url") or None,
        link_text="View the listing" if approved else "View the submission",
    )


def _summary(data: dict, period: str) -> Message:
    total, failed = data.get("runs_total", 0), data.get("runs_failed", 0)
    agents = data.get("agents") or []
    paragraphs = [
        f"Your agents ran {total} time(s) in the last {period}: {data.get('runs_completed', 0)} completed, "
        f"{failed} failed, {data.get('runs_terminated', 0)} stopped."
    ]
    paragraphs += [
        f"{agent.get('graph_name')}: {agent.get('runs')} run(s), {agent.get('failed')} failed" for agent in agents[:10]
    ]
    return Message(
        title=f"Your {'daily' if period == 'day' else 'weekly'} agent summary",
        summary=f"{total} run(s), {failed} failed in the last {period}.",
        paragraphs=paragraphs,
        facts=[("Runs", str(total)), ("Failed", str(failed))],
        link=settings.PLATFORM_BASE_URL + "/api/v1/executions",
        link_text="View your runs",
    )


def _digest(data: dict) -> Message:
    runs = data.get("runs") or []
    failed = sum(1 for run in runs if run.get("type") != T.AGENT_RUN_COMPLETED)
    lines = []
    for run in runs[:50]:
        status = {T.AGENT_RUN_COMPLETED: "completed", T.AGENT_RUN_FAILED: "failed"}.get(
            run.get("type"), "had a failing block"
        )
        line = f"{run.get('graph_name') or 'An agent'} {status}"
        if run.get("error_message"):
            line += f": {run['error_message']}"
        lines.append(line)
    if len(runs) > 50:
        lines.append(f"... and {len(runs) - 50} more.")
    return Message(
        title=f"Your agent runs: {len(runs)} update(s), {failed} with failures",
        summary=f"{len(runs)} agent run update(s), {failed} with failures.",
        paragraphs=lines,
        facts=[("Updates", str(len(runs))), ("With failures", str(failed))],
        link=settings.PLATFORM_BASE_URL + "/api/v1/executions",
        link_text="View your runs",
    )


_BUILDERS = {
    T.AGENT_RUN_COMPLETED: _run_completed,
    T.AGENT_RUN_FAILED: _run_failed,
    T.BLOCK_EXECUTION_FAILED: _block_failed,
    T.SCHEDULE_DISABLED: _schedule_disabled,
    T.STORE_SUBMISSION_APPROVED: lambda data: _store_decision(data, approved=True),
    T.STORE_SUBMISSION_REJECTED: lambda data: _store_decision(data, approved=False),
    T.DAILY_SUMMARY: lambda data: _summary(data, "day"),
    T.WEEKLY_SUMMARY: lambda data: _summary(data, "week"),
    T.AGENT_RUN_DIGEST: _digest,
}


def message_for(notification: Notification) -> Message:
    return _BUILDERS[NotificationType(notification.type)](notification.data or {})


def channel_test_message() -> Message:
    return Message(
        title="Test notification from AutoGPT Platform",
        summary="This channel is set up: notifications will arrive here.",
        paragraphs=["This channel is set up: notifications you chose will arrive here."],
        link=settings.PLATFORM_BASE_URL + "/api/v1/notifications/channels",
        link_text="Manage channels",
    )


def notification_payload(notification: Notification) -> dict[str, Any]:
    """The in-app notification as the API lists it and the WebSocket pushes it."""
    message = message_for(notification)
    return {
        "id": str(notification.id),
        "type": notification.type,
        "title": message.title,
        "message": message.summary,
        "link": message.link,
        "data": notification.data,
        "created_at": notification.created_at.isoformat() if notification.created_at else None,
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }
