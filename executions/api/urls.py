from django.urls import path

from . import views

urlpatterns = [
    path("graphs/<uuid:graph_id>/execute", views.GraphExecuteActiveView.as_view(), name="graph-execute-active"),
    path("graphs/<uuid:graph_id>/execute/<int:version>", views.GraphExecuteView.as_view(), name="graph-execute"),
    path("graphs/<uuid:graph_id>/executions", views.GraphExecutionListView.as_view(), name="graph-executions"),
    path("executions", views.ExecutionListView.as_view(), name="execution-list"),
    path("executions/<uuid:graph_exec_id>", views.ExecutionDetailView.as_view(), name="execution-detail"),
    path("executions/<uuid:graph_exec_id>/stop", views.ExecutionStopView.as_view(), name="execution-stop"),
]
