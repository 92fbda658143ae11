from rest_framework import pagination
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def paginated(request, view, queryset, serializer_class, context: dict | None = None) -> Response:
    """One page of queryset as {count, next, previous, results}."""
    paginator = PageNumberPagination()
    page: list | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
