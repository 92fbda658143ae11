"""The tools the assistant may call (OpenAI function calling): find and run the user's agents and
the platform's blocks, through the same services as the REST API.

Each tool takes what it acts for (ToolContext) and its arguments, checked by a pydantic model,
and returns a JSON object. Whatever goes wrong (arguments that do not fit, an agent that is not
the user's, a run that fails) comes back as {"error": ...} for the model to read: the turn goes on.
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from pydantic import BaseModel, Field, ValidationError

from accounts.models import User
from agents.block_runner import block_execute
from agents.blocks import all_blocks
from agents.library_selectors import library_agent_get, library_agent_list
from agents.library_services import library_agent_add_from_store
from agents.models import GraphVersion
from agents.selectors import graph_get_for_user, graph_input_schema, graph_output_schema
from autogpt_platform.errors import ApplicationError, NotFoundError
from executions.models import TERMINAL_STATUSES, GraphExecution, TriggerKind
from executions.selectors import execution_get
from executions.services import execution_create
from store.models import StoreListingVersion
from store.selectors import store_agent_list, store_version_get_approved

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 10
BLOCK_SEARCH_LIMIT = 5
RUN_POLL_SECONDS = 0.25


@dataclass
class ToolContext:
    user: User
    session_id: uuid.UUID
    cancel_event: threading.Event = field(default_factory=threading.Event)
    # Executions run_agent started in this turn: a cancelled turn stops them.
    started_runs: list[uuid.UUID] = field(default_factory=list)


# --- arguments -------------------------------------------------------------------------------------
class FindAgentArguments(BaseModel):
    query: str = Field("", description="Words describing the agent sought; empty: any agent.")


class AgentArguments(BaseModel):
    agent_id: str = Field(description="An agent's id, as find_agent returned it.")


class RunAgentArguments(BaseModel):
    agent_id: str = Field(description="An agent's id, as find_agent returned it.")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Input values by input name, fitting the agent's input_schema."
    )


class ExecutionArguments(BaseModel):
    execution_id: str = Field(description="An execution id, as run_agent returned it.")


class FindBlockArguments(BaseModel):
    query: str = Field(description="Words describing what the block should do.")


class RunBlockArguments(BaseModel):
    block_id: str = Field(description="A block's id, as find_block returned it.")
    input_data: dict[str, Any] = Field(
        default_factory=dict, description="Input values by pin name, fitting the block's input_schema."
    )


# --- agents ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Agent:
    id: str
    source: str  # "library" or "store"
    graph_version: GraphVersion
    store_version: StoreListingVersion | None = None


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise ApplicationError(f"{name}: '{value}' is not an id.", code="validation_error") from None


def _agent_resolve(*, user: User, agent_id: str) -> _Agent:
    """One of the user's agents (by graph or library id) or an approved store agent (by store
    version id). Another user's agent is not found, like one that does not exist."""
    parsed = _uuid(agent_id, "agent_id")
    try:
        return _Agent(str(parsed), "library", graph_get_for_user(user=user, graph_id=parsed))
    except NotFoundError:
        pass
    try:
        library_agent = library_agent_get(user=user, library_agent_id=parsed)
        graph_version = graph_get_for_user(user=user, graph_id=library_agent.graph_id)
        return _Agent(str(graph_version.graph_id), "library", graph_version)
    except NotFoundError:
        pass
    store_version = store_version_get_approved(version_id=parsed)
    if store_version is None:
        raise NotFoundError(
            f"No agent with id {agent_id} is in your library or the store; use find_agent to look one up."
        )
    return _Agent(str(store_version.id), "store", store_version.graph_version, store_version)


def _agent_summary(agent: _Agent) -> dict[str, Any]:
    version = agent.store_version
    return {
        "id": agent.id,
        "name": version.name if version else agent.graph_version.name,
        "description": (version.sub_heading or version.description) if version else agent.graph_version.description,
        "source": agent.source,
        "input_schema": graph_input_schema(agent.graph_version),
    }


def find_agent(context: ToolContext, arguments: FindAgentArguments) -> dict[str, Any]:
    words = [word for word in arguments.query.split() if len(word) > 1]
    library = library_agent_list(user=context.user).filter(is_archived=False).order_by("-updated_at")
    if words:
        matches = Q()
        for word in words:
            matches |= Q(display_name__icontains=word) | Q(graph_description__icontains=word)
        library = library.filter(matches)
    agents = []
    for library_agent in library[:SEARCH_LIMIT]:
        graph_version = graph_get_for_user(user=context.user, graph_id=library_agent.graph_id)
        agents.append(_agent_summary(_Agent(str(library_agent.graph_id), "library", graph_version)))
    listings = store_agent_list(search=arguments.query.strip()).exclude(owner=context.user)
    for listing in listings[:SEARCH_LIMIT]:
        store_version = listing.active_version
        if store_version is not None:
            agents.append(
                _agent_summary(_Agent(str(store_version.id), "store", store_version.graph_version, store_version))
            )
    return {"agents": agents, "count": len(agents)}


def get_agent_details(context: ToolContext, arguments: AgentArguments) -> dict[str, Any]:
    agent = _agent_resolve(user=context.user, agent_id=arguments.agent_id)
    details = _agent_summary(agent)
    details["output_schema"] = graph_output_schema(agent.graph_version)
    if agent.store_version is not None:
        details["description"] = agent.store_version.description
        details["instructions"] = agent.store_version.instructions
        details["note"] = "Running a store agent adds it to the user's library."
    else:
        details["version"] = agent.graph_version.version
        details["instructions"] = agent.graph_version.instructions
    return details


def _execution_result(graph_exec: GraphExecution) -> dict[str, Any]:
    result: dict[str, Any] = {
        "execution_id": str(graph_exec.id),
        "agent_id": str(graph_exec.graph_id),
        "status": graph_exec.status,
        "outputs": graph_exec.outputs,
    }
    if graph_exec.error:
        result["error"] = graph_exec.error.get("message", graph_exec.error)
    return result


def run_agent(context: ToolContext, arguments: RunAgentArguments) -> dict[str, Any]:
    """Start a real execution (trigger `chat`) and wait up to CHAT_RUN_WAIT_SECONDS for it to end.
    The wait polls: the run needs an executor slot of its own, and a turn that blocked on it
    while every slot is busy would wait for nothing, so the bound gives the model the id to ask
    about later instead."""
    agent = _agent_resolve(user=context.user, agent_id=arguments.agent_id)
    graph_version = agent.graph_version
    if agent.store_version is not None:
        library_agent, _ = library_agent_add_from_store(
            user=context.user, store_listing_version_id=agent.store_version.id
        )
        graph_version = graph_get_for_user(user=context.user, graph_id=library_agent.graph_id)
    graph_exec = execution_create(
        user=context.user,
        graph_id=graph_version.graph_id,
        graph_version=graph_version.version,
        inputs=arguments.inputs,
        trigger_kind=TriggerKind.CHAT,
        trigger_id=str(context.session_id),
    )
    context.started_runs.append(graph_exec.id)
    deadline = time.monotonic() + float(settings.CHAT_RUN_WAIT_SECONDS)
    while True:
        graph_exec = execution_get(user=context.user, graph_exec_id=graph_exec.id)
        if graph_exec.status in TERMINAL_STATUSES or time.monotonic() >= deadline:
            break
        if context.cancel_event.wait(RUN_POLL_SECONDS):
            break
    result = _execution_result(graph_exec)
    if graph_exec.status not in TERMINAL_STATUSES:
        result["message"] = "The agent is still running: ask get_execution_results for its outputs later."
    return result


def get_execution_results(context: ToolContext, arguments: ExecutionArguments) -> dict[str, Any]:
    graph_exec = execution_get(user=context.user, graph_exec_id=_uuid(arguments.execution_id, "execution_id"))
    result = _execution_result(graph_exec)
    result["inputs"] = graph_exec.inputs
    result["started_at"] = graph_exec.started_at
    result["ended_at"] = graph_exec.ended_at
    return result


# --- blocks ------------------------------------------------------------------------------------------
SCHEMA_KEYS = ("type", "description", "default", "enum", "items", "anyOf")


def _compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pin schema as the model needs it: each property's type, description, default and
    choices ($refs to enums inlined), without pydantic's titles and definitions."""
    definitions = schema.get("$defs", {})
    properties = {}
    for name, spec in schema.get("properties", {}).items():
        if "$ref" in spec:
            spec = {**definitions.get(spec["$ref"].rsplit("/", 1)[-1], {}), **spec}
        if "allOf" in spec and len(spec["allOf"]) == 1 and "$ref" in spec["allOf"][0]:
            spec = {**definitions.get(spec["allOf"][0]["$ref"].rsplit("/", 1)[-1], {}), **spec}
        properties[name] = {key: value for key, value in spec.items() if key in SCHEMA_KEYS}
    return {"properties": properties, "required": schema.get("required", [])}


def find_block(context: ToolContext, arguments: FindBlockArguments) -> dict[str, Any]:
    words = [word.lower() for word in arguments.query.split() if len(word) > 1]
    scored = []
    for block in all_blocks():
        if not block.runs:
            continue
        text = " ".join([block.name, block.description(), *block.categories]).lower()
        score = sum(word in text for word in words) + sum(word in block.name.lower() for word in words)
        if score or not words:
            scored.append((-score, block.name, block))
    blocks = [block for _, _, block in sorted(scored)[:BLOCK_SEARCH_LIMIT]]
    found = [
        {
            "id": block.id,
            "name": block.name,
            "description": block.description(),
            "input_schema": _compact_schema(block.Input.model_json_schema()),
            "output_schema": _compact_schema(block.Output.model_json_schema()),
        }
        for block in blocks
    ]
    return {"blocks": found, "count": len(found)}


def run_block(context: ToolContext, arguments: RunBlockArguments) -> dict[str, Any]:
    """One block run, with the limits of POST /blocks/{id}/execute (it calls what that view calls)."""
    outputs = block_execute(user=context.user, block_id=arguments.block_id, inputs=arguments.input_data)
    return {"block_id": arguments.block_id, "outputs": outputs}


# --- the registry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    arguments: type[BaseModel]
    run: Callable[[ToolContext, Any], dict[str, Any]]

    def definition(self) -> dict[str, Any]:
        """The tool in OpenAI's function-calling shape."""
        schema = self.arguments.model_json_schema()
        properties = {
            name: {key: value for key, value in spec.items() if key != "title"}
            for name, spec in schema.get("properties", {}).items()
        }
        parameters = {"type": "object", "properties": properties, "required": schema.get("required", [])}
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }


TOOLS = {
    tool.name: tool
    for tool in (
        Tool(
            "find_agent",
            "Search the user's library and the store for agents: their ids, names, descriptions and input schemas.",
            FindAgentArguments,
            find_agent,
        ),
        Tool(
            "get_agent_details",
            "One agent's details: description, instructions, input and output schemas.",
            AgentArguments,
            get_agent_details,
        ),
        Tool(
            "run_agent",
            "Run an agent with inputs and wait for it to end: its execution id, status and outputs.",
            RunAgentArguments,
            run_agent,
        ),
        Tool(
            "get_execution_results",
            "The status and outputs of an execution the user started (for a run still going when run_agent answered).",
            ExecutionArguments,
            get_execution_results,
        ),
        Tool(
            "find_block",
            "Search the platform's blocks (single steps: text, maths, HTTP, AI...): ids, descriptions, schemas.",
            FindBlockArguments,
            find_block,
        ),
        Tool(
            "run_block",
            "Run one block with input data and return its outputs by pin.",
            RunBlockArguments,
            run_block,
        ),
    )
}


def tool_definitions() -> list[dict[str, Any]]:
    return [tool.definition() for tool in TOOLS.values()]


def _bounded(output: dict[str, Any]) -> dict[str, Any]:
    """The output, or a preview of it when its JSON is longer than CHAT_TOOL_OUTPUT_MAX_CHARS."""
    text = json.dumps(output, default=str)
    limit = int(settings.CHAT_TOOL_OUTPUT_MAX_CHARS)
    if len(text) <= limit:
        return json.loads(text)
    return {"truncated": True, "note": f"The result was {len(text)} characters long.", "preview": text[:limit]}


def tool_call(context: ToolContext, *, name: str, arguments: dict[str, Any], raw_arguments: str = "") -> dict[str, Any]:
    """Run one tool call; every failure is an {"error": ...} answer for the model."""
    tool = TOOLS.get(name)
    if tool is None:
        return {"error": f"There is no tool '{name}'. The tools are: {', '.join(TOOLS)}."}
    if not arguments and raw_arguments.strip() not in ("", "{}"):
        return {"error": f"The arguments of {name} were not a JSON object: {raw_arguments[:200]}"}
    try:
        parsed = tool.arguments.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}" for error in exc.errors()
        )
        return {"error": f"Bad arguments for {name}: {problems}"}
    try:
        return _bounded(tool.run(context, parsed))
    except ApplicationError as exc:
        answer: dict[str, Any] = {"error": exc.message}
        if exc.details:
            answer["details"] = exc.details
        return answer
    except Exception as exc:
        logger.exception("Chat tool %s failed", name)
        return {"error": f"{name} failed unexpectedly ({type(exc).__name__})."}
