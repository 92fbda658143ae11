"""Read-mostly admin: operators look at notifications and follow deliveries attempt by attempt.
Webhook URLs and secrets are never shown (only the masked URL)."""

from django.contrib import admin

from .models import (
    Delivery,
    DeliveryAttempt,
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationSettings,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fk_name = "notification"
    extra = 0
    fields = readonly_fields = ("channel", "endpoint", "status", "attempts", "last_error", "sent_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = readonly_fields = (
        "number",
        "started_at",
        "duration_ms",
        "outcome",
        "response_status",
        "response_body",
        "error",
    )
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "type", "in_app", "created_at", "read_at"]
    list_filter = ["type", "in_app"]
    search_fields = ["id", "user__email"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "channel", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["id", "user__email", "idempotency_key", "notification__id"]
    exclude = ["claim_token"]
    inlines = [DeliveryAttemptInline]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "name", "url_masked", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "name"]
    fields = readonly_fields = ("user", "kind", "name", "url_masked", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "type", "channel", "enabled", "updated_at"]
    list_filter = ["type", "channel", "enabled"]
    search_fields = ["user__email"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(ReadOnlyAdmin):
    list_display = ["user", "digest", "last_digest_at", "last_daily_summary_at", "last_weekly_summary_at"]
    list_filter = ["digest"]
    search_fields = ["user__email"]
