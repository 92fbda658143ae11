"""One way to list: every list endpoint answers one page, {count, next, previous, results}, through
paginated(), and reads its other query parameters with a query serializer or a FilterSet below, so
that a bad value is a 400 naming the parameter instead of being silently ignored."""

import django_filters
from rest_framework import pagination, serializers
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200  # a larger page_size is served as 200


class WholeNumberField(serializers.IntegerField):
    """A query parameter written in digits only ("1.0", "+1" and " 1" are refused, not read as 1).
    Given blank, it counts as left out unless blank_is_missing=False."""

    def __init__(self, *, blank_is_missing: bool = True, **kwargs):
        self.blank_is_missing = blank_is_missing
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        if not self.blank_is_missing and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class PageQuerySerializer(serializers.Serializer):
    """The paginator itself would serve the first page for page_size=abc and 404 for page=abc."""

    page = WholeNumberField(min_value=1, required=False)
    page_size = WholeNumberField(min_value=1, required=False)


class FilterSet(django_filters.FilterSet):
    @classmethod
    def filtered(cls, request, queryset):
        """The queryset filtered by the request's query parameters; a bad value is a 400 naming it."""
        filterset = cls(request.query_params, queryset=queryset)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return filterset.qs


def paginated(request, view, queryset, serializer_class, context: dict | None = None) -> Response:
    """One page of queryset as {count, next, previous, results}, paged by the view's
    pagination_class (which is also what the OpenAPI schema documents)."""
    PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
    paginator = view.pagination_class()
    page: list | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
