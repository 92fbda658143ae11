from rest_framework import serializers

from autogpt_platform.fields import IsoDateTimeField


class StoreSourceSerializer(serializers.Serializer):
    """Where a library agent came from in the store."""

    store_listing_version_id = serializers.UUIDField(source="id")
    version = serializers.IntegerField()
    slug = serializers.CharField(source="listing.slug")
    creator = serializers.SerializerMethodField(help_text="The creator's store username.")

    def get_creator(self, listing_version) -> str:
        profile = getattr(listing_version.listing.owner, "store_profile", None)
        return profile.username if profile else ""


class LibraryAgentOutputSerializer(serializers.Serializer):
    """An agent in the library: one of your graphs, or an agent added from the store."""

    id = serializers.UUIDField()
    graph_id = serializers.UUIDField(help_text="Run it with POST /api/v1/graphs/{graph_id}/execute.")
    graph_version = serializers.IntegerField(source="graph.active_version", help_text="The graph's active version.")
    name = serializers.CharField(source="display_name")
    description = serializers.CharField(source="graph_description")
    is_favorite = serializers.BooleanField()
    is_archived = serializers.BooleanField()
    forked_from_id = serializers.UUIDField(allow_null=True)
    store_source = StoreSourceSerializer(source="source_listing_version", allow_null=True)
    update_available = serializers.BooleanField(help_text="A newer store version has been approved.")
    latest_store_version = serializers.IntegerField(allow_null=True)
    created_at = IsoDateTimeField()
    updated_at = IsoDateTimeField()


class LibraryAgentAddInputSerializer(serializers.Serializer):
    store_listing_version_id = serializers.UUIDField()


class LibraryAgentUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_favorite = serializers.BooleanField(required=False)
    is_archived = serializers.BooleanField(required=False)
