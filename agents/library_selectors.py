"""Library reads: a user's agents, with the store version each one could be updated to."""

import uuid

from django.db.models import BooleanField, Case, F, OuterRef, QuerySet, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce, NullIf

from accounts.models import User
from autogpt_platform.errors import NotFoundError
from store.selectors import latest_approved_version_number

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
            graph_description=Coalesce(Subquery(active.values("description")[:1]), Value(""), output_field=TextField()),
            latest_store_version=latest_approved_version_number(listing=OuterRef("source_listing_version__listing")),
        )
        .annotate(
            display_name=Coalesce(NullIf("name", Value("")), "graph_name"),
            # Only agents added from the store have a store version to update to.
            update_available=Case(
                When(latest_store_version__gt=F("source_listing_version__version"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )


def library_agent_list(*, user: User) -> QuerySet[LibraryAgent]:
    """The user's library, not counting what they deleted from it; the API filters and sorts it."""
    return _library(user)


def library_agent_get(*, user: User, library_agent_id: uuid.UUID) -> LibraryAgent:
    library_agent = _library(user).filter(id=library_agent_id).first()
    if library_agent is None:
        raise NotFoundError("Library agent not found.")
    return library_agent
