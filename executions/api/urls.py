from django.urls import path

from . import views

urlpatterns = [
    path("executions", views.ExecutionListView.as_view(), name="execution-list"),
    path("executions/<uuid:graph_exec_id>", views.ExecutionDetailView.as_view(), name="execution-detail"),
    path("executions/<uuid:graph_exec_id>/stop", views.ExecutionStopView.as_view(), name="execution-stop"),
]
