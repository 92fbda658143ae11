from rest_framework import serializers


class StoreSourceSerializer(serializers.Serializer):
    """Where a library agent came from in the store."""

    store_listing_version_id = serializers.UUIDField()
    version = serializers.IntegerField()
    slug = serializers.CharField()
    creator = serializers.CharField(help_text="The creator's store username.")


class LibraryAgentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    graph_id = serializers.UUIDField(help_text="Run it with POST /api/v1/graphs/{graph_id}/execute.")
    graph_version = serializers.IntegerField(help_text="The graph's active version.")
    name = serializers.CharField()
    description = serializers.CharField()
    is_favorite = serializers.BooleanField()
    is_archived = serializers.BooleanField()
    forked_from_id = serializers.UUIDField(allow_null=True)
    store_source = StoreSourceSerializer(allow_null=True)
    update_available = serializers.BooleanField(help_text="A newer store version has been approved.")
    latest_store_version = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, library_agent):
        source = library_agent.source_listing_version
        latest = self.context.get("latest_store_versions", {}).get(source.listing_id) if source else None
        profile = getattr(source.listing.owner, "store_profile", None) if source else None
        return {
            "id": str(library_agent.id),
            "graph_id": str(library_agent.graph_id),
            "graph_version": library_agent.graph.active_version,
            "name": library_agent.display_name,
            "description": library_agent.graph_description or "",
            "is_favorite": library_agent.is_favorite,
            "is_archived": library_agent.is_archived,
            "forked_from_id": str(library_agent.forked_from_id) if library_agent.forked_from_id else None,
            "store_source": {
                "store_listing_version_id": str(source.id),
                "version": source.version,
                "slug": source.listing.slug,
                "creator": profile.username if profile else "",
            }
            if source
            else None,
            "update_available": bool(source and latest and latest.version > source.version),
            "latest_store_version": latest.version if latest else None,
            "created_at": library_agent.created_at.isoformat(),
            "updated_at": library_agent.updated_at.isoformat(),
        }


class LibraryAgentAddInputSerializer(serializers.Serializer):
    store_listing_version_id = serializers.UUIDField()


class LibraryAgentUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_favorite = serializers.BooleanField(required=False)
    is_archived = serializers.BooleanField(required=False)
