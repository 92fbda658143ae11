import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import library_selectors, library_services
from agents.models import LibraryAgent
from autogpt_platform.pagination import FilterSet, PageNumberPagination, paginated

from .library_serializers import (
    LibraryAgentAddInputSerializer,
    LibraryAgentOutputSerializer,
    LibraryAgentUpdateInputSerializer,
)

# Strict: "maybe" is a 400, not a filter silently left out.
BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]


def _is_true(value: str) -> bool:
    return value in ("true", "1")


class LibraryAgentFilter(FilterSet):
    search = django_filters.CharFilter(field_name="display_name", lookup_expr="icontains")
    favorite = django_filters.TypedChoiceFilter(field_name="is_favorite", choices=BOOLEAN_CHOICES, coerce=_is_true)
    archived = django_filters.TypedChoiceFilter(field_name="is_archived", choices=BOOLEAN_CHOICES, coerce=_is_true)
    sort = django_filters.OrderingFilter(
        fields=(("display_name", "name"), ("created_at", "created_at"), ("updated_at", "updated_at"))
    )

    class Meta:
        model = LibraryAgent
        fields: list[str] = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("archived") in (None, ""):
            queryset = queryset.filter(is_archived=False)  # archived agents only when asked for
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by("-updated_at")
        return queryset


class LibraryAgentListView(APIView):
    required_scopes = {"GET": "read_graph", "POST": "write_library"}
    pagination_class = PageNumberPagination

    @extend_schema(
        tags=["library"],
        parameters=[
            OpenApiParameter("search", str, description="Part of the agent's name."),
            OpenApiParameter("favorite", bool),
            OpenApiParameter("archived", bool, description="Archived agents are left out unless this is given."),
            OpenApiParameter(
                "sort", str, enum=["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]
            ),
        ],
        responses=LibraryAgentOutputSerializer(many=True),
    )
    def get(self, request):
        library_agents = LibraryAgentFilter.filtered(request, library_selectors.library_agent_list(user=request.user))
        return paginated(request, self, library_agents, LibraryAgentOutputSerializer)

    @extend_schema(
        tags=["library"],
        request=LibraryAgentAddInputSerializer,
        responses={201: LibraryAgentOutputSerializer, 200: LibraryAgentOutputSerializer},
    )
    def post(self, request):
        """Add an approved store agent to the library (200 with the existing one if already there)."""
        data = LibraryAgentAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        library_agent, created = library_services.library_agent_add_from_store(user=request.user, **data.validated_data)
        return Response(
            LibraryAgentOutputSerializer(library_agent).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class LibraryAgentDetailView(APIView):
    required_scopes = {"GET": "read_graph", "PATCH": "write_library", "DELETE": "write_library"}

    @extend_schema(tags=["library"], responses=LibraryAgentOutputSerializer)
    def get(self, request, library_agent_id):
        library_agent = library_selectors.library_agent_get(user=request.user, library_agent_id=library_agent_id)
        return Response(LibraryAgentOutputSerializer(library_agent).data)

    @extend_schema(tags=["library"], request=LibraryAgentUpdateInputSerializer, responses=LibraryAgentOutputSerializer)
    def patch(self, request, library_agent_id):
        """Rename (blank: the graph's own name), favorite or archive."""
        data = LibraryAgentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        library_agent = library_services.library_agent_update(
            user=request.user, library_agent_id=library_agent_id, **data.validated_data
        )
        return Response(LibraryAgentOutputSerializer(library_agent).data)

    @extend_schema(tags=["library"], responses={204: None})
    def delete(self, request, library_agent_id):
        """Remove from the library; the graph and its runs stay."""
        library_services.library_agent_delete(user=request.user, library_agent_id=library_agent_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LibraryAgentForkView(APIView):
    required_scopes = "write_library"

    @extend_schema(tags=["library"], request=None, responses={201: LibraryAgentOutputSerializer})
    def post(self, request, library_agent_id):
        """Copy the agent into a new graph of your own."""
        fork = library_services.library_agent_fork(user=request.user, library_agent_id=library_agent_id)
        return Response(LibraryAgentOutputSerializer(fork).data, status=status.HTTP_201_CREATED)


class LibraryAgentUpdateVersionView(APIView):
    required_scopes = "write_library"

    @extend_schema(tags=["library"], request=None, responses=LibraryAgentOutputSerializer)
    def post(self, request, library_agent_id):
        """Update a store agent to the newest approved store version (409 when it is on it)."""
        library_agent = library_services.library_agent_update_to_latest(
            user=request.user, library_agent_id=library_agent_id
        )
        return Response(LibraryAgentOutputSerializer(library_agent).data)
