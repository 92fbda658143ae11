from django.urls import path

from . import schedule_views as views

urlpatterns = [
    path("graphs/<uuid:graph_id>/schedules", views.GraphScheduleListCreateView.as_view(), name="graph-schedules"),
    path("schedules", views.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/<uuid:schedule_id>", views.ScheduleDetailView.as_view(), name="schedule-detail"),
]
