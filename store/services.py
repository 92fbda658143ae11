"""Store writes: profiles, submissions, the review decision, ratings, media."""

import logging
import re
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from agents.selectors import graph_exists, graph_get_for_user
from autogpt_platform.errors import ApplicationError, ConflictError, FieldError, NotFoundError
from autogpt_platform.uploads import StoredUpload, UploadKind, upload_store
from notifications.models import NotificationType
from notifications.services import notification_create

from .cache import public_cache_invalidate
from .models import Profile, StoreListing, StoreListingVersion, StoreReview, SubmissionStatus
from .selectors import store_agent_get

logger = logging.getLogger(__name__)

# What a submission's store page is made of; PUT may change any of them while PENDING.
PAGE_FIELDS = ("name", "sub_heading", "description", "instructions", "categories", "image_urls", "video_url")


# --- Profiles ----------------------------------------------------------------------------------


def _free_username(email: str) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", email.split("@")[0].lower()).strip("-_")[:20] or "creator"
    base = base.ljust(3, "0")
    candidate = base
    while Profile.objects.filter(username=candidate).exists():
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


def profile_get_or_create(*, user: User) -> Profile:
    """The user's store profile; a first one gets a username made from the email address."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        profile, _ = Profile.objects.get_or_create(
            user=user, defaults={"username": _free_username(user.email), "name": user.name}
        )
    return profile


@transaction.atomic
def profile_update(
    *, user: User, username: str, name: str = "", description: str = "", links: list[str] | None = None
) -> Profile:
    username = username.strip().lower()
    if Profile.objects.filter(username=username).exclude(user=user).exists():
        raise FieldError("username", "This username is taken.")
    profile = profile_get_or_create(user=user)
    profile.username, profile.name, profile.description, profile.links = username, name, description, links or []
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:  # taken by a concurrent request since the check above
        raise FieldError("username", "This username is taken.") from None
    public_cache_invalidate()
    return profile


def profile_avatar_upload(*, user: User, file: UploadedFile) -> Profile:
    """Scan and store an avatar image; it replaces the profile's avatar URL."""
    upload = upload_store(file=file, field="file", folder="store/avatars", kind=UploadKind.IMAGE)
    profile = profile_get_or_create(user=user)
    profile.avatar_url = upload.url
    profile.save(update_fields=["avatar_url", "updated_at"])
    public_cache_invalidate()
    return profile


def media_upload(*, user: User, file: UploadedFile) -> StoredUpload:
    """Scan and store an image or video for a store page; its URL goes into image_urls/video_url."""
    upload = upload_store(file=file, field="file", folder="store/media", kind=UploadKind.MEDIA)
    logger.info("Store media %s uploaded by %s (%s bytes)", upload.name, user.id, upload.size)
    return upload


# --- Submissions -------------------------------------------------------------------------------


def _submitted_graph_version(*, user: User, graph_id: uuid.UUID, graph_version: int):
    if not graph_exists(user=user, graph_id=graph_id):
        raise FieldError("graph_id", "You have no graph with this id.")
    try:
        return graph_get_for_user(user=user, graph_id=graph_id, version=graph_version)
    except NotFoundError:
        raise FieldError("graph_version", f"The graph has no version {graph_version}.") from None


def _check_slug_free(*, user: User, slug: str, graph_id: uuid.UUID) -> None:
    if StoreListing.objects.filter(owner=user, slug=slug).exclude(graph_id=graph_id).exists():
        raise FieldError("slug", "You already use this slug for another agent.")


def _check_not_submitted(*, listing: StoreListing, graph_version, exclude: uuid.UUID | None = None) -> None:
    live = listing.versions.filter(
        graph_version=graph_version, status__in=[SubmissionStatus.PENDING, SubmissionStatus.APPROVED]
    )
    if exclude is not None:
        live = live.exclude(id=exclude)
    if live.exists():
        raise FieldError("graph_version", "This graph version is already submitted (pending or approved).")


@transaction.atomic
def submission_create(
    *, user: User, graph_id: uuid.UUID, graph_version: int, slug: str, **page: Any
) -> StoreListingVersion:
    """Submit a version of one of the user's graphs for review: the listing is created the first
    time, each submission is a new listing version, PENDING until an admin decides."""
    graph_version_obj = _submitted_graph_version(user=user, graph_id=graph_id, graph_version=graph_version)
    _check_slug_free(user=user, slug=slug, graph_id=graph_id)
    profile_get_or_create(user=user)
    try:
        with transaction.atomic():
            listing, _ = StoreListing.objects.get_or_create(graph_id=graph_id, defaults={"owner": user, "slug": slug})
    except IntegrityError:  # the slug was taken by a concurrent submission
        raise FieldError("slug", "You already use this slug for another agent.") from None
    listing = StoreListing.objects.select_for_update().get(pk=listing.pk)
    if listing.slug != slug:
        listing.slug = slug
        listing.save(update_fields=["slug", "updated_at"])
        public_cache_invalidate()
    _check_not_submitted(listing=listing, graph_version=graph_version_obj)
    number = (listing.versions.aggregate(latest=Max("version"))["latest"] or 0) + 1
    return StoreListingVersion.objects.create(
        listing=listing,
        version=number,
        graph_version=graph_version_obj,
        **{f: page[f] for f in PAGE_FIELDS if f in page},
    )


def _pending_submission(*, user: User, version_id: uuid.UUID) -> StoreListingVersion:
    submission = (
        StoreListingVersion.objects.select_for_update()
        .select_related("listing")
        .filter(id=version_id, listing__owner=user)
        .first()
    )
    if submission is None:
        raise NotFoundError("Submission not found.")
    if submission.status != SubmissionStatus.PENDING:
        raise ConflictError(f"Only a pending submission can be changed; this one is {submission.status}.")
    return submission


@transaction.atomic
def submission_update(
    *, user: User, version_id: uuid.UUID, slug: str | None = None, graph_version: int | None = None, **page: Any
) -> StoreListingVersion:
    """Change a submission while it is still PENDING."""
    submission = _pending_submission(user=user, version_id=version_id)
    listing = submission.listing
    if graph_version is not None:
        chosen = _submitted_graph_version(user=user, graph_id=listing.graph_id, graph_version=graph_version)
        _check_not_submitted(listing=listing, graph_version=chosen, exclude=submission.id)
        submission.graph_version = chosen
    if slug is not None and slug != listing.slug:
        _check_slug_free(user=user, slug=slug, graph_id=listing.graph_id)
        listing.slug = slug
        listing.save(update_fields=["slug", "updated_at"])
        public_cache_invalidate()
    for field in PAGE_FIELDS:
        if field in page:
            setattr(submission, field, page[field])
    submission.save()
    return submission


@transaction.atomic
def submission_delete(*, user: User, version_id: uuid.UUID) -> None:
    """Withdraw a PENDING submission; a listing left with no version goes too."""
    submission = _pending_submission(user=user, version_id=version_id)
    listing = submission.listing
    submission.delete()
    if not listing.versions.exists():
        listing.delete()


@transaction.atomic
def submission_review(
    *, reviewer: User, version_id: uuid.UUID, is_approved: bool, comments: str = "", internal_comments: str = ""
) -> StoreListingVersion:
    """An admin's decision on a submission. The listing's newest approved version becomes its
    active one; a rejection needs a comment for the creator. A decision may be changed later, which
    is how an approved version is taken down."""
    submission = StoreListingVersion.objects.select_for_update().filter(id=version_id).first()
    if submission is None:
        raise NotFoundError("Submission not found.")
    if not is_approved and not comments.strip():
        raise FieldError("comments", "Tell the creator why the submission is rejected.")
    submission.status = SubmissionStatus.APPROVED if is_approved else SubmissionStatus.REJECTED
    submission.reviewer = reviewer
    submission.reviewed_at = timezone.now()
    submission.review_comments = comments.strip()
    submission.internal_comments = internal_comments.strip()
    submission.save()
    listing = StoreListing.objects.select_for_update().get(pk=submission.listing_id)
    listing.active_version = listing.versions.filter(status=SubmissionStatus.APPROVED).order_by("-version").first()
    listing.save(update_fields=["active_version", "updated_at"])
    public_cache_invalidate()
    _notify_creator(submission=submission, listing=listing)
    return submission


def _notify_creator(*, submission: StoreListingVersion, listing: StoreListing) -> None:
    """Tell the creator of the decision, on the channels they chose (sent after commit)."""
    approved = submission.status == SubmissionStatus.APPROVED
    reviewed_at = submission.reviewed_at or timezone.now()  # set by the review that calls this
    profile = profile_get_or_create(user=listing.owner)
    path = f"/api/v1/store/agents/{profile.username}/{listing.slug}" if approved else "/api/v1/store/submissions"
    notification_create(
        user=listing.owner,
        type=NotificationType.STORE_SUBMISSION_APPROVED if approved else NotificationType.STORE_SUBMISSION_REJECTED,
        data={
            "listing_name": submission.name,
            "slug": listing.slug,
            "version": submission.version,
            "public_comments": submission.review_comments,
            "reviewed_at": submission.reviewed_at,
            "url": settings.PLATFORM_BASE_URL + path,
        },
        dedupe_key=f"store-review:{submission.id}:{reviewed_at.isoformat()}",
    )


# --- Ratings -----------------------------------------------------------------------------------


@transaction.atomic
def store_review_upsert(
    *, user: User, username: str, slug: str, score: int, comments: str = ""
) -> tuple[StoreReview, bool]:
    """Rate a published agent's active version; rating it again changes the same review."""
    listing = store_agent_get(username=username, slug=slug)
    if listing.owner_id == user.id:
        raise ApplicationError("You cannot rate your own agent.", code="own_agent")
    review, created = StoreReview.objects.update_or_create(
        listing_version_id=listing.active_version_id, user=user, defaults={"score": score, "comments": comments}
    )
    public_cache_invalidate()
    return review, created
