from django.urls import reverse
from rest_framework import serializers

from executions.models import WebhookTrigger


class TriggerCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    graph_version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="Omitted: the graph's active version."
    )


class TriggerUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_paused = serializers.BooleanField(required=False)


class TriggerOutputSerializer(serializers.ModelSerializer):
    graph_version = serializers.IntegerField(allow_null=True, help_text="null: the graph's active version.")
    url = serializers.SerializerMethodField(help_text="The absolute ingress URL to POST signed deliveries to.")

    class Meta:
        model = WebhookTrigger
        fields = ["id", "name", "graph_id", "graph_version", "url", "is_paused", "created_at"]

    def get_url(self, trigger) -> str:
        return self.context["request"].build_absolute_uri(reverse("trigger-ingress", args=[trigger.id]))


class TriggerCreatedSerializer(TriggerOutputSerializer):
    secret = serializers.SerializerMethodField(help_text="The HMAC secret; shown only in this response.")

    class Meta(TriggerOutputSerializer.Meta):
        fields = [*TriggerOutputSerializer.Meta.fields, "secret"]

    def get_secret(self, trigger) -> str:
        return self.context["secret"]


class IngressOutputSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField(allow_null=True, help_text="The execution this delivery started.")
    status = serializers.CharField(allow_null=True, help_text="The execution's status.")
    replayed = serializers.BooleanField(help_text="True: a replay of an earlier delivery id; nothing new started.")
