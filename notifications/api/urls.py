from django.urls import path

from . import views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read-all", views.NotificationReadAllView.as_view(), name="notification-read-all"),
    path("notifications/preferences", views.PreferencesView.as_view(), name="notification-preferences"),
    path("notifications/channels", views.ChannelListCreateView.as_view(), name="notification-channel-list"),
    path(
        "notifications/channels/<uuid:channel_id>",
        views.ChannelDetailView.as_view(),
        name="notification-channel-detail",
    ),
    path(
        "notifications/channels/<uuid:channel_id>/test",
        views.ChannelTestView.as_view(),
        name="notification-channel-test",
    ),
    path("notifications/unsubscribe/<str:token>", views.UnsubscribeView.as_view(), name="notification-unsubscribe"),
    path("notifications/<uuid:notification_id>/read", views.NotificationReadView.as_view(), name="notification-read"),
]
