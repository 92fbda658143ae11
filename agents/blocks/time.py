"""Time blocks: the current time, date, and date and time, in a chosen time zone and format."""

import datetime
import re
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

# The "T" prefix and the offset make AutoGPT's ISO 8601 time, e.g. "T13:45:00+00:00".
ISO_TIME = r"T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}"


class Iso8601Format(BaseModel):
    discriminator: Literal["iso8601"]
    timezone: str = Field("UTC", description="An IANA time zone, e.g. 'Europe/Paris'.")
    include_microseconds: bool = False


class TimeStrftimeFormat(BaseModel):
    discriminator: Literal["strftime"]
    format: str = "%H:%M:%S"
    timezone: str = Field("UTC", description="An IANA time zone, e.g. 'Europe/Paris'.")


class DateStrftimeFormat(BaseModel):
    discriminator: Literal["strftime"]
    format: str = "%Y-%m-%d"
    timezone: str = Field("UTC", description="An IANA time zone, e.g. 'Europe/Paris'.")


class DateTimeStrftimeFormat(BaseModel):
    discriminator: Literal["strftime"]
    format: str = "%Y-%m-%d %H:%M:%S"
    timezone: str = Field("UTC", description="An IANA time zone, e.g. 'Europe/Paris'.")


def _format_field(strftime_format: type[BaseModel]) -> Any:
    return SchemaField(
        strftime_format(discriminator="strftime"),
        discriminator="discriminator",
        description="strftime with a format, or ISO 8601; and the time zone (by default UTC).",
    )


def _now(format_type: Any) -> datetime.datetime:
    try:
        zone = ZoneInfo(format_type.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"Unknown time zone '{format_type.timezone}'.") from exc
    return datetime.datetime.now(zone)


def _strftime(moment: datetime.datetime, strftime_format: str) -> str:
    try:
        return moment.strftime(strftime_format)
    except ValueError as exc:
        raise ValueError(f"Invalid strftime format '{strftime_format}': {exc}") from exc


def _full_match(pattern: str):
    return lambda value: isinstance(value, str) and re.fullmatch(pattern, value) is not None


class _ClockBlock(Block):
    """Yields the current moment on `pin`, formatted with strftime or as ISO 8601."""

    pin: ClassVar[str]

    def moment(self, input_data: Any, now: datetime.datetime) -> datetime.datetime:
        return now

    def iso(self, moment: datetime.datetime, format_type: Iso8601Format) -> str:
        raise NotImplementedError

    def run(self, input_data, context):
        format_type = input_data.format_type
        try:
            moment = self.moment(input_data, _now(format_type))
            if isinstance(format_type, Iso8601Format):
                text = self.iso(moment, format_type)
            else:
                text = _strftime(moment, format_type.format)
        except ValueError as exc:
            yield "error", str(exc)
            return
        yield self.pin, text


def _timespec(format_type: Iso8601Format) -> str:
    return "microseconds" if format_type.include_microseconds else "seconds"


@register
class GetCurrentTimeBlock(_ClockBlock):
    """Outputs the current time when triggered, in a strftime format (by default HH:MM:SS) or
    as ISO 8601, in the chosen time zone (by default UTC)."""

    id = "a892b8d9-3e4e-4e9c-9c1e-75f8efcf1bfa"
    name = "Get Current Time"
    categories = {BlockCategory.TEXT}
    pin = "time"

    class Input(BlockSchema):
        trigger: Any = SchemaField(description="Any value; its arrival triggers the block.")
        format_type: TimeStrftimeFormat | Iso8601Format = _format_field(TimeStrftimeFormat)

    class Output(BlockOutput):
        time: str = SchemaField(description="The current time.")

    test_cases = [
        BlockTestCase({"trigger": "Hello"}, [("time", _full_match(r"\d{2}:\d{2}:\d{2}"))]),
        BlockTestCase(
            {"trigger": 1, "format_type": {"discriminator": "strftime", "format": "%H:%M", "timezone": "Asia/Kolkata"}},
            [("time", _full_match(r"\d{2}:\d{2}"))],
        ),
        BlockTestCase({"trigger": "x", "format_type": {"discriminator": "iso8601"}}, [("time", _full_match(ISO_TIME))]),
        BlockTestCase(
            {"trigger": "x", "format_type": {"discriminator": "strftime", "timezone": "Mars/Olympus"}},
            [("error", "Unknown time zone 'Mars/Olympus'.")],
        ),
    ]

    def iso(self, moment, format_type):
        return "T" + moment.timetz().isoformat(timespec=_timespec(format_type))


@register
class GetCurrentDateBlock(_ClockBlock):
    """Outputs the current date when triggered, or the date `offset` days back, in a strftime
    format (by default YYYY-MM-DD) or as ISO 8601, in the chosen time zone (by default UTC)."""

    id = "b29c1b50-5d0e-4d9f-8f9d-1b0e6fcbf0b1"
    name = "Get Current Date"
    categories = {BlockCategory.TEXT}
    pin = "date"

    class Input(BlockSchema):
        trigger: Any = SchemaField(description="Any value; its arrival triggers the block.")
        offset: int = SchemaField(0, description="How many days back; negative for days ahead.")
        format_type: DateStrftimeFormat | Iso8601Format = _format_field(DateStrftimeFormat)

    class Output(BlockOutput):
        date: str = SchemaField(description="The date.")

    test_cases = [
        BlockTestCase(
            {"trigger": "Hello"},
            [("date", lambda value: value == datetime.datetime.now(ZoneInfo("UTC")).date().isoformat())],
        ),
        BlockTestCase(
            {"trigger": "Hello", "offset": "7", "format_type": {"discriminator": "strftime", "format": "%m/%d/%Y"}},
            [("date", _full_match(r"\d{2}/\d{2}/\d{4}"))],
        ),
        BlockTestCase(
            {"trigger": "Hello", "format_type": {"discriminator": "iso8601", "timezone": "Pacific/Auckland"}},
            [("date", _full_match(r"\d{4}-\d{2}-\d{2}"))],
        ),
        BlockTestCase(
            {"trigger": "x", "format_type": {"discriminator": "iso8601", "timezone": "Nowhere"}},
            [("error", "Unknown time zone 'Nowhere'.")],
        ),
        BlockTestCase({"trigger": "x", "offset": 10**9}, [("error", "An offset of 1000000000 days is out of range.")]),
    ]

    def moment(self, input_data, now):
        try:
            return now - datetime.timedelta(days=input_data.offset)
        except OverflowError as exc:
            raise ValueError(f"An offset of {input_data.offset} days is out of range.") from exc

    def iso(self, moment, format_type):
        return moment.date().isoformat()


@register
class GetCurrentDateAndTimeBlock(_ClockBlock):
    """Outputs the current date and time when triggered, in a strftime format (by default
    YYYY-MM-DD HH:MM:SS) or as ISO 8601 with the offset, in the chosen time zone (by default
    UTC)."""

    id = "716a67b3-6760-42e7-86dc-18645c6e00fc"
    name = "Get Current Date And Time"
    categories = {BlockCategory.TEXT}
    pin = "date_time"

    class Input(BlockSchema):
        trigger: Any = SchemaField(description="Any value; its arrival triggers the block.")
        format_type: DateTimeStrftimeFormat | Iso8601Format = _format_field(DateTimeStrftimeFormat)

    class Output(BlockOutput):
        date_time: str = SchemaField(description="The current date and time.")

    test_cases = [
        BlockTestCase({"trigger": "Hello"}, [("date_time", _full_match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"))]),
        BlockTestCase(
            {"trigger": "Hello", "format_type": {"discriminator": "iso8601", "include_microseconds": True}},
            [("date_time", _full_match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00"))],
        ),
        BlockTestCase(
            {"trigger": "x", "format_type": {"discriminator": "strftime", "timezone": ""}},
            [("error", "Unknown time zone ''.")],
        ),
        BlockTestCase(
            {"trigger": "x", "format_type": {"discriminator": "strftime", "format": "%Y", "timezone": "Asia/Tokyo"}},
            [("date_time", _full_match(r"\d{4}"))],
        ),
    ]

    def iso(self, moment, format_type):
        return moment.isoformat(timespec=_timespec(format_type))
