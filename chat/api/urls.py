from django.urls import path

from . import views

urlpatterns = [
    path("sessions", views.SessionListCreateView.as_view(), name="chat-session-list"),
    path("sessions/<uuid:session_id>", views.SessionDetailView.as_view(), name="chat-session-detail"),
    path("sessions/<uuid:session_id>/stream", views.SessionStreamView.as_view(), name="chat-session-stream"),
    path("sessions/<uuid:session_id>/cancel", views.SessionCancelView.as_view(), name="chat-session-cancel"),
]
