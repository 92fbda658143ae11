from django.urls import path

from . import views

urlpatterns = [
    path("store/profile", views.ProfileView.as_view(), name="store-profile"),
    path("store/profile/avatar", views.ProfileAvatarView.as_view(), name="store-profile-avatar"),
    path("store/submissions", views.SubmissionListCreateView.as_view(), name="store-submission-list"),
    path("store/submissions/media", views.SubmissionMediaView.as_view(), name="store-submission-media"),
    path("store/submissions/<uuid:version_id>", views.SubmissionDetailView.as_view(), name="store-submission"),
    path("store/admin/submissions", views.AdminSubmissionListView.as_view(), name="store-admin-submission-list"),
    path(
        "store/admin/submissions/<uuid:version_id>/review",
        views.AdminSubmissionReviewView.as_view(),
        name="store-admin-submission-review",
    ),
    path("store/agents", views.StoreAgentListView.as_view(), name="store-agent-list"),
    path("store/agents/<str:username>/<slug:slug>", views.StoreAgentDetailView.as_view(), name="store-agent"),
    path(
        "store/agents/<str:username>/<slug:slug>/reviews",
        views.StoreAgentReviewView.as_view(),
        name="store-agent-reviews",
    ),
    path("store/creators", views.CreatorListView.as_view(), name="store-creator-list"),
    path("store/creators/<str:username>", views.CreatorDetailView.as_view(), name="store-creator"),
]
