"""Store reads: what the public sees (approved versions only), a creator's submissions, the
admins' review queue."""

import json
import uuid
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from accounts.models import User
from autogpt_platform.errors import FieldError, NotFoundError
from executions.models import GraphExecution

from .models import Profile, StoreListing, StoreListingVersion, StoreReview, SubmissionStatus

AGENT_SORTS = {
    "rating": ["-rating_average", "-rating_count", "name"],
    "runs": ["-runs", "name"],
    "name": ["name"],
    "recent": ["-approved_at", "name"],
}
CREATOR_SORTS = {
    "agents": ["-agent_count", "username"],
    "runs": ["-runs", "username"],
    "rating": ["-rating_average", "username"],
    "username": ["username"],
}


def _aggregate(queryset: QuerySet, function: str, field: str = "pk") -> Subquery:
    """A correlated COUNT/AVG subquery, so that several figures on one row don't multiply each
    other's joins. Func, not Count/Avg: those would add a GROUP BY."""
    output = FloatField() if function == "AVG" else IntegerField()
    value = queryset.order_by().annotate(value=Func(F(field), function=function, output_field=output))
    return Subquery(value.values("value")[:1], output_field=output)


def _runs(**listing_lookups: Any) -> Subquery:
    """Top-level runs of listed graphs plus of every library copy made from those listings; the
    lookups say which listings (e.g. id=OuterRef("pk"))."""
    own = {f"graph__store_listing__{lookup}": value for lookup, value in listing_lookups.items()}
    copies = {
        f"graph__library_agent__source_listing_version__listing__{lookup}": value
        for lookup, value in listing_lookups.items()
    }
    runs = GraphExecution.objects.filter(Q(**own) | Q(**copies), parent__isnull=True)
    return _aggregate(runs, "COUNT")


def _published_listings() -> QuerySet[StoreListing]:
    """Listings with an approved active version, with what the store shows of them."""
    reviews = StoreReview.objects.filter(listing_version__listing=OuterRef("pk"))
    return (
        StoreListing.objects.filter(active_version__status=SubmissionStatus.APPROVED)
        .select_related("active_version", "owner__store_profile")
        .annotate(
            name=F("active_version__name"),
            approved_at=F("active_version__reviewed_at"),
            rating_average=Coalesce(_aggregate(reviews, "AVG", "score"), Value(0.0)),
            rating_count=Coalesce(_aggregate(reviews, "COUNT"), Value(0)),
            runs=Coalesce(_runs(id=OuterRef("pk")), Value(0)),
        )
    )


def _search(queryset: QuerySet[StoreListing], text: str) -> QuerySet[StoreListing]:
    """PostgreSQL full-text search, ranked: the name counts most, then sub-heading and
    categories, then the description. Other databases (the embedded SQLite) match substrings."""
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("active_version__name", weight="A", config="english")
            + SearchVector("active_version__sub_heading", weight="B", config="english")
            + SearchVector(Cast("active_version__categories", TextField()), weight="B", config="english")
            + SearchVector("active_version__description", weight="C", config="english")
        )
        query = SearchQuery(text, search_type="websearch", config="english")
        # Ranked by the words sought only: PostgreSQL ranks every row alike when the query
        # holds an exclusion ("-word").
        sought = " ".join(word for word in text.split() if not word.startswith("-")) or text
        rank = SearchRank(vector, SearchQuery(sought, search_type="websearch", config="english"))
        return queryset.annotate(search=vector, rank=rank).filter(search=query)
    return queryset.filter(
        Q(active_version__name__icontains=text)
        | Q(active_version__sub_heading__icontains=text)
        | Q(active_version__description__icontains=text)
        | Q(active_version__categories__icontains=text)
    ).annotate(
        rank=Case(
            When(active_version__name__icontains=text, then=Value(3.0)),
            When(active_version__sub_heading__icontains=text, then=Value(2.0)),
            default=Value(1.0),
        )
    )


def store_agent_list(
    *, search: str = "", category: str = "", creator: str = "", sort: str = ""
) -> QuerySet[StoreListing]:
    """Published agents; ranked by relevance when searching, else by sort (recent by default)."""
    if sort and sort not in AGENT_SORTS:
        raise FieldError("sort", f"Sort by one of: {', '.join(AGENT_SORTS)}.")
    listings = _published_listings()
    if category:
        # Categories are a JSON list of strings; match one whole element, ignoring case.
        listings = listings.filter(
            active_version__categories__icontains=json.dumps(category.strip(), ensure_ascii=False)
        )
    if creator:
        listings = listings.filter(owner__store_profile__username=creator.strip().lower())
    if search.strip():
        listings = _search(listings, search.strip())
        if not sort:
            return listings.order_by("-rank", "-runs", "name")  # type: ignore[misc]  # annotated above
    return listings.order_by(*AGENT_SORTS[sort or "recent"])


def store_agent_get(*, username: str, slug: str) -> StoreListing:
    listing = _published_listings().filter(owner__store_profile__username=username.lower(), slug=slug).first()
    if listing is None:
        raise NotFoundError("Store agent not found.")
    return listing


def store_agent_versions(*, listing: StoreListing) -> QuerySet[StoreListingVersion]:
    """The listing's approved versions, newest first; pending and rejected ones are never shown."""
    return listing.versions.filter(status=SubmissionStatus.APPROVED).order_by("-version")


def store_agent_reviews(*, listing: StoreListing, limit: int = 20) -> QuerySet[StoreReview]:
    return (
        StoreReview.objects.filter(listing_version__listing=listing)
        .select_related("user__store_profile", "listing_version")
        .order_by("-updated_at")[:limit]
    )


def store_version_get_approved(*, version_id: uuid.UUID | str) -> StoreListingVersion | None:
    return (
        StoreListingVersion.objects.filter(id=version_id, status=SubmissionStatus.APPROVED)
        .select_related("listing", "graph_version")
        .first()
    )


def latest_approved_version_number(*, listing: Any) -> Subquery:
    """The number of a listing's newest approved version, as an expression that annotates rows of
    another model (listing: an OuterRef to their listing)."""
    versions = StoreListingVersion.objects.filter(listing=listing, status=SubmissionStatus.APPROVED)
    return Subquery(versions.order_by("-version").values("version")[:1])


def latest_approved_versions(*, listing_ids: list[uuid.UUID]) -> dict[uuid.UUID, StoreListingVersion]:
    """The newest approved version of each listing, by listing id, in one query."""
    latest: dict[uuid.UUID, StoreListingVersion] = {}
    versions = StoreListingVersion.objects.filter(listing_id__in=listing_ids, status=SubmissionStatus.APPROVED)
    for version in versions.order_by("listing_id", "-version"):
        latest.setdefault(version.listing_id, version)
    return latest


def _creators() -> QuerySet[Profile]:
    published = StoreListing.objects.filter(owner=OuterRef("user"), active_version__status=SubmissionStatus.APPROVED)
    reviews = StoreReview.objects.filter(
        listing_version__listing__owner=OuterRef("user"),
        listing_version__listing__active_version__status=SubmissionStatus.APPROVED,
    )
    return Profile.objects.annotate(
        agent_count=Coalesce(_aggregate(published, "COUNT"), Value(0)),
        rating_average=Coalesce(_aggregate(reviews, "AVG", "score"), Value(0.0)),
        runs=Coalesce(_runs(owner=OuterRef("user"), active_version__status=SubmissionStatus.APPROVED), Value(0)),
    ).filter(agent_count__gt=0)


def creator_list(*, search: str = "", sort: str = "") -> QuerySet[Profile]:
    """Creators with at least one published agent."""
    if sort and sort not in CREATOR_SORTS:
        raise FieldError("sort", f"Sort by one of: {', '.join(CREATOR_SORTS)}.")
    creators = _creators()
    if search.strip():
        text = search.strip()
        creators = creators.filter(
            Q(username__icontains=text) | Q(name__icontains=text) | Q(description__icontains=text)
        )
    return creators.order_by(*CREATOR_SORTS[sort or "agents"])


def creator_get(*, username: str) -> Profile:
    creator = _creators().filter(username=username.lower()).first()
    if creator is None:
        raise NotFoundError("Creator not found.")
    return creator


def submission_list_for_user(*, user: User) -> QuerySet[StoreListingVersion]:
    return (
        StoreListingVersion.objects.filter(listing__owner=user)
        .select_related("listing", "graph_version")
        .order_by("-submitted_at")
    )


def submission_get_for_user(*, user: User, version_id: uuid.UUID) -> StoreListingVersion:
    submission = submission_list_for_user(user=user).filter(id=version_id).first()
    if submission is None:
        raise NotFoundError("Submission not found.")
    return submission


def submission_list_for_review(*, status: str = "") -> QuerySet[StoreListingVersion]:
    """Every submission for admins: pending first, oldest pending first."""
    if status and status not in SubmissionStatus.values:
        raise FieldError("status", f"Status is one of: {', '.join(SubmissionStatus.values)}.")
    submissions = StoreListingVersion.objects.select_related(
        "listing__owner__store_profile", "graph_version", "reviewer"
    ).annotate(pending_first=Case(When(status=SubmissionStatus.PENDING, then=Value(0)), default=Value(1)))
    if status:
        submissions = submissions.filter(status=status)
    return submissions.order_by("pending_first", "submitted_at")
