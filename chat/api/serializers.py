from rest_framework import serializers

from chat.models import ChatMessage, ChatSession, SessionStatus
from chat.selectors import session_model
from chat.services import MAX_MESSAGE_CHARS


class SessionCreateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    llm_credential_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="One of your credentials (GET /integrations/credentials) for the assistant's model, "
        "instead of the platform's.",
    )
    model = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="A model of that credential's provider; empty: CHAT_MODEL (or the provider's usual chat model).",
    )


class SessionUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)


class MessageInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=MAX_MESSAGE_CHARS, trim_whitespace=False)


class SessionSummaryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChatSession
        fields = ["id", "title", "status", "created_at", "updated_at"]


class SessionOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    model = serializers.SerializerMethodField()

    class Meta:
        model = ChatSession
        fields = ["id", "user_id", "title", "status", "model", "llm_credential_id", "created_at", "updated_at"]

    def get_model(self, session: ChatSession) -> str:
        """The model the session's next turn answers with."""
        return session_model(session=session)


class MessageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChatMessage
        fields = [
            "id",
            "sequence",
            "turn_id",
            "role",
            "content",
            "tool_calls",
            "tool_call_id",
            "tool_name",
            "model",
            "input_tokens",
            "output_tokens",
            "created_at",
        ]


class ActiveStreamOutputSerializer(serializers.Serializer):
    turn_id = serializers.UUIDField()
    last_event_id = serializers.CharField(allow_null=True, help_text="Send it as Last-Event-ID to rejoin after it.")


class UsageOutputSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()


class SessionDetailOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="session.id")
    user_id = serializers.UUIDField(source="session.user_id")
    title = serializers.CharField(source="session.title")
    status = serializers.ChoiceField(source="session.status", choices=SessionStatus.choices)
    model = serializers.CharField()
    llm_credential_id = serializers.UUIDField(source="session.llm_credential_id", allow_null=True)
    created_at = serializers.DateTimeField(source="session.created_at")
    updated_at = serializers.DateTimeField(source="session.updated_at")
    messages = MessageOutputSerializer(many=True)
    active_stream = ActiveStreamOutputSerializer(allow_null=True, help_text="The running turn; null when idle.")
    usage = UsageOutputSerializer(help_text="Tokens of every model call in the session.")


class CancelOutputSerializer(serializers.Serializer):
    cancelled = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
