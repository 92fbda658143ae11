"""Library writes: organise, add from the store, fork, update to a newer store version.

Graphs the user builds enter the library in graph_create. An agent added from the store is a copy
of the approved graph version in a graph of the user's own, which remembers the store version it
came from, so that the user runs it like any other graph and can update it when a newer version is
approved.
"""

import uuid

from django.db import transaction

from accounts.models import User
from autogpt_platform.errors import ConflictError, FieldError
from store.selectors import latest_approved_versions, store_version_get_approved

from .library_selectors import library_agent_get
from .models import LibraryAgent
from .selectors import graph_get_for_user, graph_version_content
from .services import graph_create, graph_version_create


@transaction.atomic
def library_agent_update(
    *,
    user: User,
    library_agent_id: uuid.UUID,
    name: str | None = None,
    is_favorite: bool | None = None,
    is_archived: bool | None = None,
) -> LibraryAgent:
    """Rename (a blank name shows the graph's own), favorite or archive a library agent."""
    library_agent = library_agent_get(user=user, library_agent_id=library_agent_id)
    if name is not None:
        library_agent.name = name.strip()
    if is_favorite is not None:
        library_agent.is_favorite = is_favorite
    if is_archived is not None:
        library_agent.is_archived = is_archived
    library_agent.save()
    return library_agent_get(user=user, library_agent_id=library_agent_id)


@transaction.atomic
def library_agent_delete(*, user: User, library_agent_id: uuid.UUID) -> None:
    """Remove an agent from the library. Soft: its graph, runs and schedules stay."""
    library_agent = library_agent_get(user=user, library_agent_id=library_agent_id)
    library_agent.is_deleted = True
    library_agent.save(update_fields=["is_deleted", "updated_at"])


@transaction.atomic
def library_agent_add_from_store(*, user: User, store_listing_version_id: uuid.UUID) -> tuple[LibraryAgent, bool]:
    """Add an approved store agent to the user's library; returns (agent, created).

    Adding one the user already has returns that one (restored if they had deleted it); adding
    their own agent returns its library entry.
    """
    store_version = store_version_get_approved(version_id=store_listing_version_id)
    if store_version is None:
        raise FieldError("store_listing_version_id", "No approved store agent version has this id.")
    listing = store_version.listing
    existing: LibraryAgent | None
    if listing.owner_id == user.id:
        existing = LibraryAgent.objects.get(graph_id=listing.graph_id)
    else:
        existing = (
            LibraryAgent.objects.filter(user=user, source_listing_version__listing=listing)
            .order_by("is_deleted", "-updated_at")
            .first()
        )
    if existing is not None:
        if existing.is_deleted:
            existing.is_deleted = False
            existing.save(update_fields=["is_deleted", "updated_at"])
        return library_agent_get(user=user, library_agent_id=existing.id), False
    graph_version = graph_create(user=user, **graph_version_content(store_version.graph_version))
    LibraryAgent.objects.filter(graph_id=graph_version.graph_id).update(source_listing_version=store_version)
    library_agent = LibraryAgent.objects.get(graph_id=graph_version.graph_id)
    return library_agent_get(user=user, library_agent_id=library_agent.id), True


@transaction.atomic
def library_agent_fork(*, user: User, library_agent_id: uuid.UUID) -> LibraryAgent:
    """A copy of the agent's active graph version as a new graph of the user's own, to change
    freely; it no longer follows the store."""
    original = library_agent_get(user=user, library_agent_id=library_agent_id)
    content = graph_version_content(graph_get_for_user(user=user, graph_id=original.graph_id))
    content["name"] = f"{original.display_name} (fork)"[:200]  # type: ignore[attr-defined]  # annotated
    graph_version = graph_create(user=user, **content)
    LibraryAgent.objects.filter(graph_id=graph_version.graph_id).update(forked_from=original)
    fork = LibraryAgent.objects.get(graph_id=graph_version.graph_id)
    return library_agent_get(user=user, library_agent_id=fork.id)


@transaction.atomic
def library_agent_update_to_latest(*, user: User, library_agent_id: uuid.UUID) -> LibraryAgent:
    """Save the newest approved store version as a new, active version of the agent's graph."""
    library_agent = library_agent_get(user=user, library_agent_id=library_agent_id)
    current = library_agent.source_listing_version
    if current is None:
        raise ConflictError("This agent was not added from the store.")
    latest = latest_approved_versions(listing_ids=[current.listing_id]).get(current.listing_id)
    if latest is None or latest.version <= current.version:
        raise ConflictError("This agent is already on the newest approved store version.")
    graph_version_create(user=user, graph_id=library_agent.graph_id, **graph_version_content(latest.graph_version))
    LibraryAgent.objects.filter(id=library_agent.id).update(source_listing_version=latest)
    return library_agent_get(user=user, library_agent_id=library_agent.id)
