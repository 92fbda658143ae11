"""Behaviour of the logic, text, data and time blocks beyond their own test cases."""

import datetime
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from agents.blocks import BlockContext, logic
from agents.blocks.base import ExecutionCancelled
from agents.blocks.data import (
    AddToDictionaryBlock,
    AddToListBlock,
    FormatJsonBlock,
    ParseJsonBlock,
    RemoveFromDictionaryBlock,
    RemoveFromListBlock,
    XmlParserBlock,
)
from agents.blocks.text import CombineTextsBlock, FillTextTemplateBlock
from agents.blocks.time import GetCurrentDateAndTimeBlock, GetCurrentDateBlock


def run(block, inputs, context=None):
    return list(block().execute(inputs, context or BlockContext()))


class RecordingContext(BlockContext):
    def __init__(self):
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        super().sleep(0)


def test_countdown_waits_through_the_context_each_repeat():
    context = RecordingContext()
    inputs = {"input_message": "done", "seconds": 1, "minutes": "2", "hours": 1, "days": 1, "repeat": 2}
    outputs = run(logic.CountdownTimerBlock, inputs, context)
    assert outputs == [("output_message", "done"), ("output_message", "done")]
    assert context.slept == [1 + 120 + 3600 + 86400] * 2


def test_countdown_stops_at_once_when_the_execution_is_stopped():
    context = BlockContext()
    threading.Timer(0.05, context.cancel_event.set).start()
    started = time.monotonic()
    with pytest.raises(ExecutionCancelled):
        run(logic.CountdownTimerBlock, {"hours": 1}, context)
    assert time.monotonic() - started < 5


def test_step_through_items_refuses_too_many_items():
    outputs = run(logic.StepThroughItemsBlock, {"items": list(range(logic.MAX_ITEMS + 1))})
    assert outputs == [
        ("error", f"Too many items: {logic.MAX_ITEMS + 1}; at most {logic.MAX_ITEMS} can be stepped through.")
    ]


def test_step_through_items_allows_the_maximum():
    outputs = run(logic.StepThroughItemsBlock, {"items_str": str(list(range(logic.MAX_ITEMS)))})
    assert len(outputs) == 2 * logic.MAX_ITEMS
    assert outputs[-2:] == [("item", logic.MAX_ITEMS - 1), ("key", logic.MAX_ITEMS - 1)]


def test_condition_fires_only_one_branch():
    pins = [pin for pin, _ in run(logic.ConditionBlock, {"value1": 1, "operator": "<=", "value2": "1"})]
    assert pins == ["result", "yes_output"]


@pytest.mark.parametrize(
    "block, inputs",
    [
        (logic.ConditionBlock, {"value1": 1, "operator": "~", "value2": 2}),
        (logic.CountdownTimerBlock, {"seconds": "soon"}),
        (CombineTextsBlock, {"input": "not a list"}),
        (AddToListBlock, {"list": {"a": 1}}),
        (GetCurrentDateBlock, {"trigger": 1, "offset": "yesterday"}),
        (GetCurrentDateBlock, {"trigger": 1, "format_type": {"discriminator": "unix"}}),
    ],
)
def test_bad_input_types_fail_validation(block, inputs):
    with pytest.raises(ValidationError):
        run(block, inputs)


def test_dictionary_and_list_blocks_do_not_change_their_input():
    dictionary, items = {"a": 1, "b": 2}, [1, 2, 3]
    run(AddToDictionaryBlock, {"dictionary": dictionary, "key": "c", "value": 3})
    run(RemoveFromDictionaryBlock, {"dictionary": dictionary, "key": "a"})
    run(AddToListBlock, {"list": items, "entry": 4})
    run(RemoveFromListBlock, {"list": items, "index": 0})
    assert dictionary == {"a": 1, "b": 2}
    assert items == [1, 2, 3]


@pytest.mark.parametrize(
    "template",
    ["{{ ''.__class__.__mro__[1].__subclasses__() }}", "{% set x = [] %}{{ x.append(1) }}"],
)
def test_fill_text_template_is_sandboxed(template):
    [(pin, message)] = run(FillTextTemplateBlock, {"values": {}, "format": template})
    assert pin == "error"
    assert message.startswith("Could not fill the template:")


def test_fill_text_template_leaves_missing_values_empty():
    assert run(FillTextTemplateBlock, {"values": {}, "format": "Hi {{ name }}!"}) == [("output", "Hi !")]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""
EXTERNAL_ENTITY = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_parser_refuses_entity_declarations(xml):
    assert run(XmlParserBlock, {"input_xml": xml}) == [
        ("error", "XML with DOCTYPE or ENTITY declarations is not accepted.")
    ]


def test_xml_parser_refuses_deep_nesting():
    xml = "<a>" * 300 + "</a>" * 300
    assert run(XmlParserBlock, {"input_xml": xml}) == [("error", "XML is nested deeper than 256 levels.")]


def test_xml_parser_keeps_mixed_text_and_attributes():
    xml = '<p id="1">Hello <b>you</b> there</p>'
    assert run(XmlParserBlock, {"input_xml": xml}) == [
        ("parsed_xml", {"p": {"@id": "1", "b": "you", "#text": "Hello  there"}})
    ]


def test_json_parse_and_format_round_trip():
    value = {"b": [1, 2.5, None, True], "a": {"x": "é"}}
    [(_, text)] = run(FormatJsonBlock, {"value": value, "sort_keys": True})
    assert run(ParseJsonBlock, {"json_string": text}) == [("parsed", value)]


def test_date_and_time_follow_the_time_zone():
    inputs = {"trigger": 1, "format_type": {"discriminator": "iso8601", "timezone": "Asia/Kolkata"}}
    [(_, text)] = run(GetCurrentDateAndTimeBlock, inputs)
    moment = datetime.datetime.fromisoformat(text)
    assert text.endswith("+05:30")
    assert abs(moment - datetime.datetime.now(ZoneInfo("UTC"))) < datetime.timedelta(seconds=10)


def test_get_current_date_counts_the_offset_back():
    [(_, text)] = run(GetCurrentDateBlock, {"trigger": 1, "offset": " 1 "})
    yesterday = datetime.datetime.now(ZoneInfo("UTC")).date() - datetime.timedelta(days=1)
    assert text == yesterday.isoformat()
