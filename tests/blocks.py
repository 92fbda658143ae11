"""Blocks only the tests register (EXTRA_BLOCK_MODULES): they make side effects countable and
failures reproducible inside a real worker."""

import os
import re
import signal
from typing import Any

from agents.blocks import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField, register
from autogpt_platform.redis_client import get_redis

COUNTER_KEY = "test:side-effects:{key}"


def side_effect_count(key: str) -> int:
    return int(get_redis().get(COUNTER_KEY.format(key=key)) or 0)


@register
class CountSideEffectBlock(Block):
    """Test block: counts each run in Redis under `key`, then passes `value` on."""

    id = "00000000-0000-4000-8000-00000000c001"
    name = "Test Count Side Effect"
    categories = {BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        key: str = SchemaField(description="Counter name.")
        value: Any = SchemaField(None, description="Passed on.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The value.")

    test_cases = [BlockTestCase({"key": "self-test", "value": 1}, [("output", 1)])]

    def run(self, input_data, context):
        get_redis().incr(COUNTER_KEY.format(key=input_data.key))
        yield "output", input_data.value


@register
class KillWorkerBlock(Block):
    """Test block: kills the worker process running it, as an out-of-memory kill would."""

    id = "00000000-0000-4000-8000-00000000c002"
    name = "Test Kill Worker"
    categories = {BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        trigger: Any = SchemaField(None, description="Anything.")
        dry_run: bool = SchemaField(False, description="Do not kill (self-test).")

    class Output(BlockOutput):
        output: Any = SchemaField(description="Never reached.")

    test_cases = [BlockTestCase({"dry_run": True}, [("output", None)])]

    def run(self, input_data, context):
        if not input_data.dry_run:
            os.kill(os.getpid(), signal.SIGKILL)
        yield "output", input_data.trigger


@register
class BigOutputBlock(Block):
    """Test block: yields a text of `size` bytes, `count` times."""

    id = "00000000-0000-4000-8000-00000000c003"
    name = "Test Big Output"
    categories = {BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        size: int = SchemaField(description="Bytes.")
        count: int = SchemaField(1, description="How many times.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The text.")

    test_cases = [BlockTestCase({"size": 3, "count": 2}, [("output", "xxx"), ("output", "xxx")])]

    def run(self, input_data, context):
        for _ in range(input_data.count):
            yield "output", "x" * input_data.size


@register
class UnstorableOutputBlock(Block):
    """Test block: yields text PostgreSQL's json refuses (a lone surrogate), so that storing the
    node's output fails in the database."""

    id = "00000000-0000-4000-8000-00000000c004"
    name = "Test Unstorable Output"
    categories = {BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        trigger: Any = SchemaField(None, description="Anything.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The text.")

    test_cases = [BlockTestCase({}, [("output", "\ud800")])]

    def run(self, input_data, context):
        yield "output", "\ud800"


@register
class HoldGilBlock(Block):
    """Test block: the issue's runaway, stdlib `re` backtracking on `size` a's and a '!', which
    holds the GIL all along (2**size steps: 27 took 9.5 s)."""

    id = "00000000-0000-4000-8000-00000000c005"
    name = "Test Hold GIL"
    categories = {BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        size: int = SchemaField(description="How many a's.")

    class Output(BlockOutput):
        matched: bool = SchemaField(description="Never, after the time it took.")

    test_cases = [BlockTestCase({"size": 3}, [("matched", False)])]

    def run(self, input_data, context):
        yield "matched", re.match(r"(a+)+$", "a" * input_data.size + "!") is not None


@register
class RecordRunBlock(Block):
    """Test block: appends `<execution id>:<node id>` to the file `path` each time it runs, then
    passes `value` on. A file, not Redis or the database, so that its count survives their outages."""

    id = "00000000-0000-4000-8000-00000000c006"
    name = "Test Record Run"
    categories = {BlockCategory.DEVELOPER_TOOLS}

    class Input(BlockSchema):
        path: str = SchemaField(description="The file to append to.")
        value: Any = SchemaField(None, description="Passed on.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The value.")

    test_cases = [BlockTestCase({"path": os.devnull, "value": 1}, [("output", 1)])]

    def run(self, input_data, context):
        line = f"{context.graph_exec_id}:{context.node_id}\n".encode()
        descriptor = os.open(input_data.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)  # one write of an O_APPEND file: lines never interleave
        finally:
            os.close(descriptor)
        yield "output", input_data.value


def recorded_runs(path) -> dict[str, int]:
    """`<execution id>:<node id>` -> how many times RecordRunBlock ran there."""
    counts: dict[str, int] = {}
    if os.path.exists(path):
        with open(path) as lines:
            for line in lines:
                counts[line.strip()] = counts.get(line.strip(), 0) + 1
    return counts
