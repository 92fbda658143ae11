"""Serializer fields the API shares."""

from rest_framework import serializers


class IsoDateTimeField(serializers.DateTimeField):
    """A datetime as Python's isoformat() in the time zone it carries ("+00:00" for UTC). DRF's own
    field converts to the current time zone and writes UTC as "Z"; the endpoints that use this one
    have always answered in isoformat(), and a schedule's next runs keep their own time zone."""

    def to_representation(self, value):
        if not value:
            return None
        zone = getattr(self, "timezone", None)  # only when given as default_timezone=
        return (value.astimezone(zone) if zone else value).isoformat()
