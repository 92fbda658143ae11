from typing import Any

from django.core.validators import RegexValidator, URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.selectors import graph_input_schema, graph_output_schema
from autogpt_platform.fields import IsoDateTimeField
from store.models import SubmissionStatus
from store.selectors import store_agent_list, store_agent_reviews, store_agent_versions

http_url = URLValidator(schemes=["http", "https"], message="Enter an http or https URL.")
slug_format = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Use lower-case letters, digits and single hyphens, like 'my-agent'."
)
username_format = RegexValidator(
    r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,28}[a-zA-Z0-9]$",
    "3 to 30 letters, digits, '-' or '_', starting and ending with a letter or digit.",
)


class MediaUrlField(serializers.CharField):
    """A stored file's URL, made absolute for the client: local storage gives a path."""

    def to_representation(self, value):
        request = self.context.get("request")
        return request.build_absolute_uri(value) if value and request else value


def _url_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=500, validators=[http_url], **kwargs)


# --- Profiles ----------------------------------------------------------------------------------


class ProfileInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=30, validators=[username_format])
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    links = serializers.ListField(child=_url_field(), max_length=5, required=False, default=list)


class ProfileOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    links = serializers.ListField(child=serializers.CharField())
    avatar_url = MediaUrlField()


class FileUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class StoredUploadOutputSerializer(serializers.Serializer):
    url = MediaUrlField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


# --- Submissions -------------------------------------------------------------------------------


class _SubmissionPageSerializer(serializers.Serializer):
    """The store page of a submission; what a creator may change while it is PENDING."""

    slug = serializers.CharField(max_length=100, validators=[slug_format])
    name = serializers.CharField(max_length=100)
    sub_heading = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    instructions = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    categories = serializers.ListField(child=serializers.CharField(max_length=50), max_length=10, required=False)
    image_urls = serializers.ListField(child=_url_field(), max_length=20, required=False)
    video_url = _url_field(required=False, allow_blank=True)

    def validate_categories(self, categories: list[str]) -> list[str]:
        return list(dict.fromkeys(category.strip().lower() for category in categories))


class SubmissionCreateInputSerializer(_SubmissionPageSerializer):
    graph_id = serializers.UUIDField()
    graph_version = serializers.IntegerField(min_value=1)


class SubmissionUpdateInputSerializer(_SubmissionPageSerializer):
    """Fields left out stay as they are."""

    graph_version = serializers.IntegerField(min_value=1, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class SubmissionOutputSerializer(serializers.Serializer):
    """A submission as its creator sees it: the decision and the reviewer's public comments."""

    id = serializers.UUIDField(help_text="The store listing version id.")
    listing_id = serializers.UUIDField()
    version = serializers.IntegerField()
    slug = serializers.CharField(source="listing.slug")
    graph_id = serializers.UUIDField(source="graph_version.graph_id")
    graph_version = serializers.IntegerField(source="graph_version.version")
    name = serializers.CharField()
    sub_heading = serializers.CharField()
    description = serializers.CharField()
    instructions = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    image_urls = serializers.ListField(child=serializers.CharField())
    video_url = serializers.CharField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_comments = serializers.CharField()


class AdminSubmissionOutputSerializer(SubmissionOutputSerializer):
    creator = serializers.CharField(source="listing.owner.store_profile.username", default="")
    creator_email = serializers.EmailField(source="listing.owner.email")
    reviewer = serializers.EmailField(source="reviewer.email", default=None, allow_null=True)
    internal_comments = serializers.CharField()


class AdminSubmissionQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SubmissionStatus.choices,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid_choice": f"Status is one of: {', '.join(SubmissionStatus.values)}."},
    )


class ReviewDecisionInputSerializer(serializers.Serializer):
    is_approved = serializers.BooleanField()
    comments = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    internal_comments = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


# --- The public store --------------------------------------------------------------------------


class RatingSerializer(serializers.Serializer):
    """The agent's ratings, 1 to 5."""

    average = serializers.SerializerMethodField()
    count = serializers.IntegerField(source="rating_count")

    def get_average(self, listing) -> float:
        return round(listing.rating_average, 2)


class StoreAgentSerializer(serializers.Serializer):
    """A published agent in the store's lists."""

    store_listing_version_id = serializers.UUIDField(
        source="active_version_id", help_text="Add it with POST /api/v1/library/agents."
    )
    creator = serializers.CharField(source="owner.store_profile.username")
    slug = serializers.CharField()
    name = serializers.CharField(source="active_version.name")
    sub_heading = serializers.CharField(source="active_version.sub_heading")
    description = serializers.CharField(source="active_version.description")
    categories = serializers.ListField(child=serializers.CharField(), source="active_version.categories")
    image_urls = serializers.ListField(child=serializers.CharField(), source="active_version.image_urls")
    version = serializers.IntegerField(source="active_version.version")
    rating = RatingSerializer(source="*")
    runs = serializers.IntegerField()
    updated_at = IsoDateTimeField(source="active_version.reviewed_at", allow_null=True)


class StoreAgentVersionSerializer(serializers.Serializer):
    store_listing_version_id = serializers.UUIDField(source="id")
    version = serializers.IntegerField()
    approved_at = serializers.DateTimeField(source="reviewed_at")


class StoreReviewOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    score = serializers.IntegerField()
    comments = serializers.CharField()
    version = serializers.IntegerField(source="listing_version.version")
    reviewer = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    def get_reviewer(self, review) -> str:
        profile = getattr(review.user, "store_profile", None)
        return profile.username if profile else (review.user.name or "anonymous")


class StoreCreatorBriefSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    avatar_url = MediaUrlField()


class StoreAgentDetailSerializer(StoreAgentSerializer):
    instructions = serializers.CharField(source="active_version.instructions")
    video_url = serializers.CharField(source="active_version.video_url")
    creator_profile = StoreCreatorBriefSerializer(source="owner.store_profile")
    versions = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    input_schema = serializers.SerializerMethodField()
    output_schema = serializers.SerializerMethodField()

    @extend_schema_field(StoreAgentVersionSerializer(many=True))
    def get_versions(self, listing):
        return StoreAgentVersionSerializer(store_agent_versions(listing=listing), many=True).data

    @extend_schema_field(StoreReviewOutputSerializer(many=True))
    def get_reviews(self, listing):
        return StoreReviewOutputSerializer(store_agent_reviews(listing=listing), many=True).data

    def get_input_schema(self, listing) -> dict[str, Any]:
        return graph_input_schema(listing.active_version.graph_version)

    def get_output_schema(self, listing) -> dict[str, Any]:
        return graph_output_schema(listing.active_version.graph_version)


class StoreReviewInputSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comments = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class StoreAgentQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    creator = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    sort = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class CreatorQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    sort = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class CreatorSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    links = serializers.ListField(child=serializers.CharField())
    avatar_url = MediaUrlField()
    agent_count = serializers.IntegerField()
    rating_average = serializers.FloatField()
    runs = serializers.IntegerField()


class CreatorDetailSerializer(CreatorSerializer):
    agents = serializers.SerializerMethodField()

    @extend_schema_field(StoreAgentSerializer(many=True))
    def get_agents(self, profile):
        return StoreAgentSerializer(store_agent_list(creator=profile.username), many=True, context=self.context).data
