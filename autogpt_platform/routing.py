"""WebSocket URL routes."""

from django.urls import path

from executions.consumers import ExecutionConsumer

websocket_urlpatterns = [
    path("ws", ExecutionConsumer.as_asgi()),
]
