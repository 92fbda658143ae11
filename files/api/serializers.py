from rest_framework import serializers

from files.references import file_api_path, file_reference


class UserFileUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The file (multipart/form-data).")


class FileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    origin = serializers.CharField()
    reference = serializers.SerializerMethodField(
        help_text="What to give an agent input or a file pin: workspace://<id>."
    )
    url = serializers.SerializerMethodField(help_text="Where its owner downloads it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    def get_reference(self, user_file) -> str:
        return file_reference(user_file.id)

    def get_url(self, user_file) -> str:
        request = self.context.get("request")
        path = file_api_path(user_file.id)
        return request.build_absolute_uri(path) if request else path
