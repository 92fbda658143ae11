"""WebSocket URL routes (the /ws consumer arrives with live execution updates)."""

websocket_urlpatterns: list = []
