from django.urls import path

from . import trigger_views as views

urlpatterns = [
    path("graphs/<uuid:graph_id>/triggers", views.GraphTriggerListCreateView.as_view(), name="graph-trigger-list"),
    path("triggers/<uuid:trigger_id>", views.TriggerDetailView.as_view(), name="trigger-detail"),
    path("triggers/<uuid:trigger_id>/ingress", views.TriggerIngressView.as_view(), name="trigger-ingress"),
]
