from django.urls import path

from . import library_views, views

urlpatterns = [
    path("blocks", views.BlockListView.as_view(), name="block-list"),
    path("blocks/<str:block_id>/execute", views.BlockExecuteView.as_view(), name="block-execute"),
    path("graphs", views.GraphListCreateView.as_view(), name="graph-list"),
    path("graphs/import", views.GraphImportView.as_view(), name="graph-import"),
    path("graphs/<uuid:graph_id>", views.GraphDetailView.as_view(), name="graph-detail"),
    path("graphs/<uuid:graph_id>/versions", views.GraphVersionListView.as_view(), name="graph-versions"),
    path("graphs/<uuid:graph_id>/versions/active", views.GraphActiveVersionView.as_view(), name="graph-active-version"),
    path("graphs/<uuid:graph_id>/export", views.GraphExportView.as_view(), name="graph-export"),
]

urlpatterns += [
    path("library/agents", library_views.LibraryAgentListView.as_view(), name="library-agent-list"),
    path(
        "library/agents/<uuid:library_agent_id>", library_views.LibraryAgentDetailView.as_view(), name="library-agent"
    ),
    path(
        "library/agents/<uuid:library_agent_id>/fork",
        library_views.LibraryAgentForkView.as_view(),
        name="library-agent-fork",
    ),
    path(
        "library/agents/<uuid:library_agent_id>/update",
        library_views.LibraryAgentUpdateVersionView.as_view(),
        name="library-agent-update",
    ),
]
