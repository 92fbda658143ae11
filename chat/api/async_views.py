"""APIViews whose handlers are coroutines, for the SSE endpoints.

DRF's views are sync. AsyncAPIView runs what DRF runs before a handler (authentication, API key
scopes, throttles: they touch the database) in a thread, then awaits the handler on the event
loop, so that a streamed response holds no thread while it waits on Redis. Errors answer in the
one error shape through the same exception handler. Such views are not wrapped in a request
transaction (Django refuses ATOMIC_REQUESTS for async views): their services open their own.
"""

import inspect

from asgiref.sync import sync_to_async
from django.db import transaction
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView


class FirstRenderer(BaseContentNegotiation):
    """Errors of an event-stream endpoint answer JSON, whatever the client accepts
    (EventSource sends `Accept: text/event-stream`)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AsyncAPIView(APIView):
    content_negotiation_class = FirstRenderer

    @classmethod
    def as_view(cls, **initkwargs):
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    async def dispatch(self, request, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            await sync_to_async(self.initial)(drf_request, *args, **kwargs)
            method = (drf_request.method or "").lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            response = (handler or self.http_method_not_allowed)(drf_request, *args, **kwargs)
            if inspect.isawaitable(response):
                response = await response
        except Exception as exc:
            response = await sync_to_async(self._handle_exception)(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    def _handle_exception(self, exc: Exception):
        # The exception handler marks the request's transaction for rollback; this view has none
        # (its services committed or rolled back their own), so give it an empty one to mark.
        with transaction.atomic():
            return self.handle_exception(exc)
