import uuid

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """A user's public face in the store: the username in every store URL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_profile")
    username = models.CharField(max_length=30, unique=True, help_text="Lower case; unique.")
    name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    links = models.JSONField(default=list, blank=True)
    avatar_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.username


class StoreListing(models.Model):
    """One graph published to the store. Its content lives in versions; only an approved version
    is ever visible, and the newest approved one is the active one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_listings")
    graph = models.OneToOneField("agents.Graph", on_delete=models.CASCADE, related_name="store_listing")
    slug = models.SlugField(max_length=100)
    active_version = models.ForeignKey(
        "StoreListingVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "slug"], name="unique_listing_slug_per_owner")]

    def __str__(self) -> str:
        return self.slug


class SubmissionStatus(models.TextChoices):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class StoreListingVersion(models.Model):
    """A submission: one graph version with its store page, and the review decision on it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(StoreListing, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(help_text="1, 2, ... within the listing.")
    graph_version = models.ForeignKey("agents.GraphVersion", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    sub_heading = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    categories = models.JSONField(default=list, blank=True)
    image_urls = models.JSONField(default=list, blank=True)
    video_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING)
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comments = models.TextField(blank=True, help_text="Shown to the creator.")
    internal_comments = models.TextField(blank=True, help_text="Seen by admins only.")

    class Meta:
        ordering = ["listing", "-version"]
        constraints = [models.UniqueConstraint(fields=["listing", "version"], name="unique_listing_version")]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.status})"


class StoreReview(models.Model):
    """A user's rating of one listing version; one per user per version, editable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing_version = models.ForeignKey(StoreListingVersion, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_reviews")
    score = models.PositiveSmallIntegerField()
    comments = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["listing_version", "user"], name="one_review_per_user_per_version"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="review_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 by {self.user_id}"
