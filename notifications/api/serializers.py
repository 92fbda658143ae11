from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from autogpt_platform.fields import IsoDateTimeField
from notifications.messages import message_for
from notifications.models import WEBHOOK_CHANNELS, ChannelKind, DigestFrequency, NotificationChannel, notification_types


class RejectUnknownKeys:
    """DRF ignores keys a serializer does not declare; here they are a 400 naming the key."""

    unknown_message = "Unknown field."

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: [self.unknown_message] for key in sorted(unknown)})
        return super().to_internal_value(data)


# --- the inbox ---------------------------------------------------------------------------------------
class NotificationListQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="Only unread notifications.")


# The same as the WebSocket's push (messages.notification_payload); a test holds them equal.
class NotificationOutputSerializer(serializers.Serializer):
    """An in-app notification."""

    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=notification_types)
    title = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(help_text="One line, for a list or a toast.")
    link = serializers.SerializerMethodField(help_text="Where the notification leads (an execution, ...).")
    data = serializers.DictField(help_text="The event's details; keys depend on the type.")  # type: ignore[assignment]  # the field, not Serializer.data
    created_at = IsoDateTimeField()
    read_at = IsoDateTimeField(allow_null=True)

    def get_title(self, notification) -> str:
        return message_for(notification).title

    def get_message(self, notification) -> str:
        return message_for(notification).summary

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_link(self, notification) -> str | None:
        return message_for(notification).link


class ReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread notifications were marked read.")


# --- preferences -------------------------------------------------------------------------------------
def _switch(channel: ChannelKind, required: bool) -> serializers.BooleanField:
    return serializers.BooleanField(required=required, help_text=f"{channel.label} on or off.")


class ChannelSwitchesSerializer(RejectUnknownKeys, serializers.Serializer):
    """Channels of one notification type: on or off."""

    unknown_message = "Unknown channel."
    email = _switch(ChannelKind.EMAIL, required=False)
    slack = _switch(ChannelKind.SLACK, required=False)
    dingtalk = _switch(ChannelKind.DINGTALK, required=False)
    in_app = _switch(ChannelKind.IN_APP, required=False)


class PreferencesByTypeSerializer(RejectUnknownKeys, serializers.Serializer):
    """Notification types to change."""

    unknown_message = "Unknown notification type."

    def get_fields(self):
        return {type_: ChannelSwitchesSerializer(required=False) for type_ in notification_types}


class PreferencesInputSerializer(RejectUnknownKeys, serializers.Serializer):
    """Switches to change and the digest; what is left out stays as it is."""

    digest = serializers.ChoiceField(
        choices=DigestFrequency.choices, required=False, help_text="Collect agent-run messages into a digest."
    )
    preferences = PreferencesByTypeSerializer(
        required=False, help_text="{type: {channel: on}}; what is left out stays."
    )


class PreferencesOutputSerializer(serializers.Serializer):
    digest = serializers.ChoiceField(choices=DigestFrequency.choices)
    preferences = serializers.DictField(
        child=serializers.DictField(child=serializers.BooleanField()),
        help_text="Every notification type, then every channel (email, slack, dingtalk, in_app): on or off.",
    )


# --- channels ----------------------------------------------------------------------------------------
class ChannelCreateInputSerializer(RejectUnknownKeys, serializers.Serializer):
    """A webhook to send notifications to."""

    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in WEBHOOK_CHANNELS])
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    webhook_url = serializers.CharField(
        max_length=2000,
        help_text="A Slack incoming webhook (https://hooks.slack.com/services/...) or a DingTalk robot "
        "(https://oapi.dingtalk.com/robot/send?access_token=...).",
    )
    secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="A signed DingTalk robot's secret."
    )


class ChannelOutputSerializer(serializers.ModelSerializer):
    webhook_url = serializers.CharField(source="url_masked", help_text="Masked: the full URL is never shown.")
    signed = serializers.SerializerMethodField(help_text="Whether messages are signed with a secret (DingTalk).")

    class Meta:
        model = NotificationChannel
        fields = ["id", "kind", "name", "webhook_url", "signed", "created_at"]

    def get_signed(self, channel) -> bool:
        return bool(channel.secret_encrypted)


class ChannelTestOutputSerializer(serializers.Serializer):
    sent = serializers.BooleanField()
    status = serializers.IntegerField(allow_null=True, help_text="The webhook's HTTP status.")
    response = serializers.CharField(help_text="The first characters of the webhook's answer.")


# --- unsubscribing -----------------------------------------------------------------------------------
class UnsubscribeInputSerializer(serializers.Serializer):
    all = serializers.BooleanField(required=False, default=False, help_text="Stop every notification email.")


class UnsubscribeOutputSerializer(serializers.Serializer):
    email = serializers.CharField(help_text="The address, partly masked.")
    types = serializers.ListField(child=serializers.CharField(), help_text="The notification types concerned.")
    description = serializers.CharField(help_text="The same, in words.")
    unsubscribed = serializers.BooleanField(help_text="True once email is off for them.")
