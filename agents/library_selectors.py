"""Library reads: a user's agents, with the store version each one could be updated to."""

import uuid

from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from accounts.models import User
from autogpt_platform.errors import NotFoundError

from .models import GraphVersion, LibraryAgent


def _library(user: User) -> QuerySet[LibraryAgent]:
    active = GraphVersion.objects.filter(graph=OuterRef("graph"), version=OuterRef("graph__active_version"))
    return (
        LibraryAgent.objects.filter(user=user, is_deleted=False)
        .select_related(
            "graph",
            "source_listing_version__listing__owner__store_profile",
        )
        .annotate(
            graph_name=Subquery(active.values("name")[:1]),
            graph_description=Subquery(active.values("description")[:1]),
        )
        .annotate(display_name=Coalesce(NullIf("name", Value("")), "graph_name"))
    )


def library_agent_list(*, user: User) -> QuerySet[LibraryAgent]:
    """The user's library, not counting what they deleted from it; the API filters and sorts it."""
    return _library(user)


def library_agent_get(*, user: User, library_agent_id: uuid.UUID) -> LibraryAgent:
    library_agent = _library(user).filter(id=library_agent_id).first()
    if library_agent is None:
        raise NotFoundError("Library agent not found.")
    return library_agent
