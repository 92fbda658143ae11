"""AutoGPT's storage scopes for Persist Information / Retrieve Information."""

from enum import StrEnum

from autogpt_platform.errors import ApplicationError


class StorageScope(StrEnum):
    WITHIN_AGENT = "within_agent"  # every run of one agent
    ACROSS_AGENTS = "across_agents"  # every agent of the user


class ScopeNeedsAgentError(ApplicationError):
    code = "scope_needs_agent"


def scope_key(*, scope: StorageScope | str, graph_id: str | None) -> str:
    """The stored scope: "global" across agents, "agent#<graph id>" within one (AutoGPT's storage
    key prefixes, "global#<key>" and "agent#<graph id>#<key>")."""
    if StorageScope(scope) == StorageScope.ACROSS_AGENTS:
        return "global"
    if not graph_id:
        raise ScopeNeedsAgentError(
            "The scope 'within_agent' needs the block to run inside an agent; use 'across_agents' here."
        )
    return f"agent#{graph_id}"
