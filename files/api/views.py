"""Users' files: upload (multipart), list, download and delete. Another user's file, an expired
one and an unknown id are the same 404."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from autogpt_platform.pagination import PageNumberPagination, paginated
from files import selectors, services

from . import serializers as s


class FileUploadView(APIView):
    required_scopes = "execute_graph"
    parser_classes = [MultiPartParser]

    @extend_schema(tags=["files"], request=s.UserFileUploadInputSerializer, responses={201: s.FileOutputSerializer})
    def post(self, request):
        """Upload a file (multipart field `file`, at most FILE_UPLOAD_MAX_BYTES) for your agents.
        It is virus-scanned before it is stored: an infected file is refused (400), and while the
        scanner is unreachable every upload is refused (503). Give its `reference` as an agent's
        file input. It is deleted after FILE_RETENTION_HOURS (`expires_at`)."""
        data = s.UserFileUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_file = services.file_upload(user=request.user, file=data.validated_data["file"])
        return Response(
            s.FileOutputSerializer(user_file, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class FileListView(APIView):
    required_scopes = "read_graph"
    pagination_class = PageNumberPagination

    @extend_schema(tags=["files"], responses=s.FileOutputSerializer(many=True))
    def get(self, request):
        """Your files that have not expired, newest first: uploads and files your agents stored."""
        files = selectors.file_list_for_user(user=request.user)
        return paginated(request, self, files, s.FileOutputSerializer, context={"request": request})


class FileDetailView(APIView):
    """GET downloads one of your files; DELETE deletes it."""

    required_scopes = {"GET": "read_graph", "DELETE": "execute_graph"}

    @extend_schema(
        tags=["files"],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")},
    )
    def get(self, request, file_id):
        """The file's content, as an attachment named as it was uploaded or stored."""
        user_file = selectors.file_get_for_user(user_id=request.user.id, file_id=file_id)
        response = FileResponse(
            selectors.file_open(user_file=user_file),
            as_attachment=True,
            filename=user_file.name,
            content_type=user_file.content_type,
        )
        # Whatever the file holds, it is never run as a page of this site.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(tags=["files"], responses={204: None})
    def delete(self, request, file_id):
        """Delete the file now, before it expires."""
        services.file_delete(user=request.user, file_id=file_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
