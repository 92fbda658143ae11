from django.urls import path

from . import views

urlpatterns = [
    path("files/upload", views.FileUploadView.as_view(), name="file-upload"),
    path("files", views.FileListView.as_view(), name="file-list"),
    path("files/<uuid:file_id>", views.FileDetailView.as_view(), name="file-detail"),
]
