"""More list and dictionary blocks (AutoGPT's data_manipulation and basic helpers): flatten, zip,
interleave, reverse, difference, intersection, replace; and Data Sampling."""

import builtins
import json
import random
from collections import defaultdict
from enum import StrEnum
from typing import Any

from autogpt_platform.redis_client import get_redis

from .base import Block, BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

# How long Data Sampling keeps what it accumulated for a node of a run.
ACCUMULATE_TTL_SECONDS = 24 * 3600
ACCUMULATE_KEY = "block:data-sampling:{graph_exec_id}:{node_id}"


def _identity(item: Any) -> str:
    """Equality of JSON values as AutoGPT compares them: {} and [] differ, and so do True and 1."""
    return json.dumps(item, sort_keys=True, default=repr)


def _nesting_depth(items: Any) -> int:
    """How deep lists nest in items ([] and [1] are 1 deep, [[1]] 2), without recursion."""
    depth = 0
    stack = [(items, 0)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, list):
            depth = max(depth, level)
        elif not item:
            depth = max(depth, level + 1)
        else:
            stack.extend((child, level + 1) for child in item)
    return depth


def _flatten(items: list[Any], max_depth: int) -> list[Any]:
    """items with nested lists spliced in, max_depth levels deep (-1: all the way), without recursion."""
    result: list[Any] = []
    stack = [(iter(items), 0)]
    while stack:
        iterator, level = stack[-1]
        item = next(iterator, stack)  # the stack itself marks the end: no item can be it
        if item is stack:
            stack.pop()
        elif isinstance(item, list) and (max_depth == -1 or level < max_depth):
            stack.append((iter(item), level + 1))
        else:
            result.append(item)
    return result


def _check_lists(lists: list[Any]) -> None:
    for index, item in enumerate(lists):
        if item is not None and not isinstance(item, list):
            raise BlockError(
                f"Invalid input at index {index}: expected a list, got {type(item).__name__}. "
                "All items in 'lists' must be lists (e.g., [[1, 2], [3, 4]])."
            )


@register
class FlattenListBlock(Block):
    """Flattens a nested list into one flat list, all the way down or `max_depth` levels deep."""

    id = "cc45bb0f-d035-4756-96a7-fe3e36254b4d"
    name = "Flatten List"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        nested_list: list[Any] = SchemaField(description="A list that may hold lists, e.g. [[1, [2, 3]], [4]].")
        max_depth: int = SchemaField(
            -1, description="How many levels to flatten: -1 all of them, 1 only the first.", advanced=True
        )

    class Output(BlockOutput):
        flattened_list: list[Any] = SchemaField(description="The items, in order, without nesting.")
        length: int = SchemaField(description="How many items it has.")
        original_depth: int = SchemaField(description="How deep the lists nested in the input.")

    test_cases = [
        BlockTestCase(
            {"nested_list": [[1, 2], [3, [4, 5]]]},
            [("flattened_list", [1, 2, 3, 4, 5]), ("length", 5), ("original_depth", 3)],
        ),
        BlockTestCase(
            {"nested_list": [1, [2, [3, [4]]]]},
            [("flattened_list", [1, 2, 3, 4]), ("length", 4), ("original_depth", 4)],
        ),
        BlockTestCase(
            {"nested_list": [1, [2, [3, [4]]], 5], "max_depth": 1},
            [("flattened_list", [1, 2, [3, [4]], 5]), ("length", 4), ("original_depth", 4)],
        ),
        BlockTestCase({"nested_list": []}, [("flattened_list", []), ("length", 0), ("original_depth", 1)]),
        BlockTestCase(
            {"nested_list": [1, 2, 3]}, [("flattened_list", [1, 2, 3]), ("length", 3), ("original_depth", 1)]
        ),
        BlockTestCase(
            {"nested_list": [1], "max_depth": -2},
            [("error", "max_depth must be -1 (unlimited) or a non-negative integer, got -2")],
        ),
    ]

    def run(self, input_data, context):
        if input_data.max_depth < -1:
            yield "error", f"max_depth must be -1 (unlimited) or a non-negative integer, got {input_data.max_depth}"
            return
        flattened = _flatten(input_data.nested_list, input_data.max_depth)
        yield "flattened_list", flattened
        yield "length", len(flattened)
        yield "original_depth", _nesting_depth(input_data.nested_list)


@register
class InterleaveListsBlock(Block):
    """Takes one item from each list in turn: [[1, 2, 3], ["a", "b"]] gives [1, "a", 2, "b", 3].
    Shorter lists stop contributing once they run out."""

    id = "9f616084-1d9f-4f8e-bc00-5b9d2a75cd75"
    name = "Interleave Lists"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        lists: list[Any] = SchemaField(description="The lists to interleave, e.g. [[1, 2, 3], ['a', 'b', 'c']].")

    class Output(BlockOutput):
        interleaved_list: list[Any] = SchemaField(description="The items, alternating between the lists.")
        length: int = SchemaField(description="How many items it has.")

    test_cases = [
        BlockTestCase(
            {"lists": [[1, 2, 3], ["a", "b", "c"]]},
            [("interleaved_list", [1, "a", 2, "b", 3, "c"]), ("length", 6)],
        ),
        BlockTestCase(
            {"lists": [[1, 2, 3], ["a", "b"], ["x", "y", "z"]]},
            [("interleaved_list", [1, "a", "x", 2, "b", "y", 3, "z"]), ("length", 8)],
        ),
        BlockTestCase({"lists": [[1], [2], [3]]}, [("interleaved_list", [1, 2, 3]), ("length", 3)]),
        BlockTestCase({"lists": []}, [("interleaved_list", []), ("length", 0)]),
        BlockTestCase(
            {"lists": [[1], "ab"]},
            [
                (
                    "error",
                    "Invalid input at index 1: expected a list, got str. "
                    "All items in 'lists' must be lists (e.g., [[1, 2], [3, 4]]).",
                )
            ],
        ),
    ]

    def run(self, input_data, context):
        _check_lists(input_data.lists)
        lists = [items for items in input_data.lists if items is not None]
        longest = max((len(items) for items in lists), default=0)
        result = [items[index] for index in range(longest) for items in lists if index < len(items)]
        yield "interleaved_list", result
        yield "length", len(result)


@register
class ZipListsBlock(Block):
    """Groups the items at the same position of several lists: [[1, 2], ["a", "b"]] gives
    [[1, "a"], [2, "b"]]. Stops at the shortest list, or pads to the longest with `fill_value`."""

    id = "0d0e684f-5cb9-4c4b-b8d1-47a0860e0c07"
    name = "Zip Lists"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        lists: list[Any] = SchemaField(description="The lists to zip, e.g. [[1, 2, 3], ['a', 'b', 'c']].")
        pad_to_longest: bool = SchemaField(
            False, description="Pad shorter lists with fill_value instead of stopping at the shortest.", advanced=True
        )
        fill_value: Any = SchemaField(None, description="What pads the shorter lists.", advanced=True)

    class Output(BlockOutput):
        zipped_list: list[list[Any]] = SchemaField(description="The groups, one per position.")
        length: int = SchemaField(description="How many groups there are.")

    test_cases = [
        BlockTestCase(
            {"lists": [[1, 2, 3], ["a", "b", "c"]]}, [("zipped_list", [[1, "a"], [2, "b"], [3, "c"]]), ("length", 3)]
        ),
        BlockTestCase({"lists": [[1, 2, 3], ["a", "b"]]}, [("zipped_list", [[1, "a"], [2, "b"]]), ("length", 2)]),
        BlockTestCase(
            {"lists": [[1, 2], ["a", "b", "c"]], "pad_to_longest": True, "fill_value": 0},
            [("zipped_list", [[1, "a"], [2, "b"], [0, "c"]]), ("length", 3)],
        ),
        BlockTestCase({"lists": []}, [("zipped_list", []), ("length", 0)]),
    ]

    def run(self, input_data, context):
        _check_lists(input_data.lists)
        lists = [items for items in input_data.lists if items is not None]
        if not lists:
            result: list[list[Any]] = []
        elif input_data.pad_to_longest:
            longest = max(len(items) for items in lists)
            result = [
                [items[index] if index < len(items) else input_data.fill_value for items in lists]
                for index in range(longest)
            ]
        else:
            result = [list(group) for group in zip(*lists, strict=False)]
        yield "zipped_list", result
        yield "length", len(result)


@register
class ListDifferenceBlock(Block):
    """The items of list_a that are not in list_b, in list_a's order; with `symmetric`, also the
    items of list_b that are not in list_a."""

    id = "05309873-9d61-447e-96b5-b804e2511829"
    name = "List Difference"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list_a: list[Any] = SchemaField(description="The list to take items from.")
        list_b: list[Any] = SchemaField(description="The items to leave out.")
        symmetric: bool = SchemaField(False, description="Items in either list but not in both.", advanced=True)

    class Output(BlockOutput):
        difference: list[Any] = SchemaField(description="The items that remain.")
        length: int = SchemaField(description="How many items remain.")

    test_cases = [
        BlockTestCase({"list_a": [1, 2, 3, 4, 5], "list_b": [3, 4, 5, 6, 7]}, [("difference", [1, 2]), ("length", 2)]),
        BlockTestCase(
            {"list_a": [1, 2, 3, 4, 5], "list_b": [3, 4, 5, 6, 7], "symmetric": True},
            [("difference", [1, 2, 6, 7]), ("length", 4)],
        ),
        BlockTestCase({"list_a": ["a", "b", "c"], "list_b": ["b"]}, [("difference", ["a", "c"]), ("length", 2)]),
        BlockTestCase({"list_a": [], "list_b": [1, 2, 3]}, [("difference", []), ("length", 0)]),
        BlockTestCase(
            {"list_a": [{"a": 1}, [1], True, 1], "list_b": [{"a": 1}, 1]}, [("difference", [[1], True]), ("length", 2)]
        ),
    ]

    def run(self, input_data, context):
        in_a = {_identity(item) for item in input_data.list_a}
        in_b = {_identity(item) for item in input_data.list_b}
        result = [item for item in input_data.list_a if _identity(item) not in in_b]
        if input_data.symmetric:
            result += [item for item in input_data.list_b if _identity(item) not in in_a]
        yield "difference", result
        yield "length", len(result)


@register
class ListIntersectionBlock(Block):
    """The items present in both lists, once each, in list_a's order."""

    id = "b6eb08b6-dbe3-411b-b9b4-2508cb311a1f"
    name = "List Intersection"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list_a: list[Any] = SchemaField(description="The first list.")
        list_b: list[Any] = SchemaField(description="The second list.")

    class Output(BlockOutput):
        intersection: list[Any] = SchemaField(description="The items in both lists.")
        length: int = SchemaField(description="How many items there are.")

    test_cases = [
        BlockTestCase(
            {"list_a": [1, 2, 3, 4, 5], "list_b": [3, 4, 5, 6, 7]}, [("intersection", [3, 4, 5]), ("length", 3)]
        ),
        BlockTestCase({"list_a": ["a", "b", "c"], "list_b": ["c", "d", "e"]}, [("intersection", ["c"]), ("length", 1)]),
        BlockTestCase({"list_a": [1, 2], "list_b": [3, 4]}, [("intersection", []), ("length", 0)]),
        BlockTestCase({"list_a": [], "list_b": [1, 2, 3]}, [("intersection", []), ("length", 0)]),
        BlockTestCase({"list_a": [2, 1, 2, 1], "list_b": [1, 2]}, [("intersection", [2, 1]), ("length", 2)]),
    ]

    def run(self, input_data, context):
        in_b = {_identity(item) for item in input_data.list_b}
        seen: set[str] = set()
        result = []
        for item in input_data.list_a:
            identity = _identity(item)
            if identity in in_b and identity not in seen:
                seen.add(identity)
                result.append(item)
        yield "intersection", result
        yield "length", len(result)


@register
class ReverseListOrderBlock(Block):
    """Reverses the order of the items of a list."""

    id = "422cb708-3109-4277-bfe3-bc2ae5812777"
    name = "Reverse List Order"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        input_list: list[Any] = SchemaField(description="The list to reverse.")

    class Output(BlockOutput):
        reversed_list: list[Any] = SchemaField(description="The list in reversed order.")

    test_cases = [BlockTestCase({"input_list": [1, 2, 3, 4, 5]}, [("reversed_list", [5, 4, 3, 2, 1])])]

    def run(self, input_data, context):
        yield "reversed_list", builtins.list(reversed(input_data.input_list))


@register
class ReplaceListItemBlock(Block):
    """Replaces the item at an index of a list (negative indexes count from the end)."""

    id = "fbf62922-bea1-4a3d-8bac-23587f810b38"
    name = "Replace List Item"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: builtins.list[Any] = SchemaField(description="The list to change.")
        index: int = SchemaField(description="The index of the item to replace (negative: from the end).")
        value: Any = SchemaField(description="The new item.")

    class Output(BlockOutput):
        updated_list: builtins.list[Any] = SchemaField(description="The list with the item replaced.")
        old_item: Any = SchemaField(description="The item that was replaced.")

    test_cases = [
        BlockTestCase({"list": [1, 2, 3], "index": 1, "value": 99}, [("updated_list", [1, 99, 3]), ("old_item", 2)]),
        BlockTestCase(
            {"list": ["a", "b"], "index": -1, "value": "c"}, [("updated_list", ["a", "c"]), ("old_item", "b")]
        ),
        BlockTestCase({"list": ["a"], "index": 3, "value": "c"}, [("error", "Index out of range")]),
    ]

    def run(self, input_data, context):
        items = builtins.list(input_data.list)
        try:
            old = items[input_data.index]
        except IndexError:
            yield "error", "Index out of range"
            return
        items[input_data.index] = input_data.value
        yield "updated_list", items
        yield "old_item", old


@register
class ReplaceDictionaryValueBlock(Block):
    """Replaces the value of a key of a dictionary; a key that is not there is an error."""

    id = "27e31876-18b6-44f3-ab97-f6226d8b3889"
    name = "Replace Dictionary Value"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        dictionary: dict[str, Any] = SchemaField(description="The dictionary to change.")
        key: str = SchemaField(description="The key whose value to replace.")
        value: Any = SchemaField(description="The new value.")

    class Output(BlockOutput):
        updated_dictionary: dict[str, Any] = SchemaField(description="The dictionary with the value replaced.")
        old_value: Any = SchemaField(description="The value that was replaced.")

    test_cases = [
        BlockTestCase(
            {"dictionary": {"a": 1, "b": 2, "c": 3}, "key": "b", "value": 99},
            [("updated_dictionary", {"a": 1, "b": 99, "c": 3}), ("old_value", 2)],
        ),
        BlockTestCase(
            {"dictionary": {"x": "hello", "y": "world"}, "key": "y", "value": "universe"},
            [("updated_dictionary", {"x": "hello", "y": "universe"}), ("old_value", "world")],
        ),
        BlockTestCase({"dictionary": {"x": 1}, "key": "z", "value": 2}, [("error", "Key 'z' not found in dictionary")]),
    ]

    def run(self, input_data, context):
        updated = dict(input_data.dictionary)
        key = str(input_data.key)
        if key not in updated:
            yield "error", f"Key '{key}' not found in dictionary"
            return
        old = updated[key]
        updated[key] = input_data.value
        yield "updated_dictionary", updated
        yield "old_value", old


@register
class DictionaryIsEmptyBlock(Block):
    """Checks whether a dictionary is empty."""

    id = "a3cf3f64-6bb9-4cc6-9900-608a0b3359b0"
    name = "Dictionary Is Empty"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        dictionary: dict[str, Any] = SchemaField(description="The dictionary to check.")

    class Output(BlockOutput):
        is_empty: bool = SchemaField(description="Whether it has no keys.")

    test_cases = [
        BlockTestCase({"dictionary": {}}, [("is_empty", True)]),
        BlockTestCase({"dictionary": {"a": 1}}, [("is_empty", False)]),
    ]

    def run(self, input_data, context):
        yield "is_empty", not input_data.dictionary


class SamplingMethod(StrEnum):
    RANDOM = "random"
    SYSTEMATIC = "systematic"
    TOP = "top"
    BOTTOM = "bottom"
    STRATIFIED = "stratified"
    WEIGHTED = "weighted"
    RESERVOIR = "reservoir"
    CLUSTER = "cluster"


def _field(item: Any, key: str, what: str) -> Any:
    if isinstance(item, dict):
        return item.get(key)
    raise BlockError(f"{what} key '{key}' not found in item {item}")


def _stratified(data: list[Any], size: int, key: str | None, rng: random.Random) -> list[int]:
    if not key:
        raise BlockError("Stratify key must be provided for stratified sampling.")
    strata: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(data):
        value = _field(item, key, "Stratify")
        if value is None:
            raise BlockError(f"Stratify value for key '{key}' is None")
        strata[str(value)].append(index)
    sizes = {name: max(1, int(len(members) / len(data) * size)) for name, members in strata.items()}
    while (total := sum(sizes.values())) != size:
        largest = max(sizes, key=lambda name: sizes[name])
        sizes[largest] += 1 if total < size else -1
    indices: list[int] = []
    for name, count in sizes.items():
        indices.extend(rng.sample(strata[name], count))
    return indices


def _weighted(data: list[Any], size: int, key: str | None, rng: random.Random) -> list[int]:
    if not key:
        raise BlockError("Weight key must be provided for weighted sampling.")
    weights = []
    for item in data:
        weight = _field(item, key, "Weight")
        if weight is None:
            raise BlockError(f"Weight value for key '{key}' is None")
        try:
            weights.append(float(weight))
        except (TypeError, ValueError):
            raise BlockError(f"Weight value '{weight}' cannot be converted to a number") from None
    return rng.choices(range(len(data)), weights=weights, k=size)


def _cluster(data: list[Any], size: int, key: str | None, rng: random.Random) -> list[int]:
    if not key:
        raise BlockError("Cluster key must be provided for cluster sampling.")
    clusters: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(data):
        clusters[str(_field(item, key, "Cluster"))].append(index)
    chosen: list[str] = []
    while sum(len(clusters[name]) for name in chosen) < size:
        available = [name for name in clusters if name not in chosen]
        if not available:
            break
        chosen.append(rng.choice(available))
    indices = [index for name in chosen for index in clusters[name]]
    return rng.sample(indices, size) if len(indices) > size else indices


def _sample(data: list[Any], input_data: Any, rng: random.Random) -> list[int]:
    size, method, count = input_data.sample_size, input_data.sampling_method, len(data)
    if method == SamplingMethod.RANDOM:
        return rng.sample(range(count), size)
    if method == SamplingMethod.SYSTEMATIC:
        step = count // size
        return list(range(rng.randint(0, step - 1), count, step))[:size]
    if method == SamplingMethod.TOP:
        return list(range(size))
    if method == SamplingMethod.BOTTOM:
        return list(range(count - size, count))
    if method == SamplingMethod.STRATIFIED:
        return _stratified(data, size, input_data.stratify_key, rng)
    if method == SamplingMethod.WEIGHTED:
        return _weighted(data, size, input_data.weight_key, rng)
    if method == SamplingMethod.RESERVOIR:
        indices = list(range(size))
        for index in range(size, count):
            slot = rng.randint(0, index)
            if slot < size:
                indices[slot] = index
        return indices
    return _cluster(data, size, input_data.cluster_key, rng)


@register
class DataSamplingBlock(Block):
    """Samples `sample_size` items from a list (random, systematic, top, bottom, stratified by a
    key, weighted by a key, reservoir or cluster sampling). With `accumulate`, the data of every
    run of the node in an execution is gathered until there are enough items, then sampled."""

    id = "4a448883-71fa-49cf-91cf-70d793bd7d87"
    name = "Data Sampling"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        data: dict[str, Any] | list[dict[str, Any] | list[Any]] = SchemaField(
            description="The data: a dictionary, a list of dictionaries or a list of lists."
        )
        sample_size: int = SchemaField(10, description="How many items to take.", ge=1)
        sampling_method: SamplingMethod = SchemaField(SamplingMethod.RANDOM, description="How to choose them.")
        accumulate: bool = SchemaField(False, description="Gather the data of several runs before sampling.")
        random_seed: int | None = SchemaField(None, description="A seed, for the same sample every time.")
        stratify_key: str | None = SchemaField(None, description="The key to stratify by (stratified sampling).")
        weight_key: str | None = SchemaField(None, description="The key holding weights (weighted sampling).")
        cluster_key: str | None = SchemaField(None, description="The key to cluster by (cluster sampling).")

    class Output(BlockOutput):
        sampled_data: list[dict[str, Any] | list[Any]] = SchemaField(description="The items taken.")
        sample_indices: list[int] = SchemaField(description="Their indexes in the data.")

    test_cases = [
        BlockTestCase(
            {
                "data": [{"id": i, "value": chr(97 + i), "group": i % 3} for i in range(10)],
                "sample_size": 3,
                "sampling_method": "stratified",
                "accumulate": False,
                "random_seed": 42,
                "stratify_key": "group",
            },
            [
                (
                    "sampled_data",
                    [
                        {"id": 0, "value": "a", "group": 0},
                        {"id": 1, "value": "b", "group": 1},
                        {"id": 8, "value": "i", "group": 2},
                    ],
                ),
                ("sample_indices", [0, 1, 8]),
            ],
            "AutoGPT's case",
        ),
        BlockTestCase(
            {"data": [[1], [2], [3], [4]], "sample_size": 2, "sampling_method": "bottom"},
            [("sampled_data", [[3], [4]]), ("sample_indices", [2, 3])],
        ),
        BlockTestCase(
            {"data": [{"a": 1}], "sample_size": 2, "sampling_method": "top"},
            [("error", "Sample size (2) cannot be larger than the dataset size (1).")],
        ),
    ]

    def run(self, input_data, context):
        data = input_data.data if isinstance(input_data.data, list) else [input_data.data]
        if input_data.accumulate:
            data = self._accumulate(data, context)
            if len(data) < input_data.sample_size:
                return
        if input_data.sample_size > len(data):
            raise BlockError(
                f"Sample size ({input_data.sample_size}) cannot be larger than the dataset size ({len(data)})."
            )
        indices = _sample(data, input_data, random.Random(input_data.random_seed))
        if input_data.accumulate:
            get_redis().delete(self._accumulate_key(context))
        yield "sampled_data", [data[index] for index in indices]
        yield "sample_indices", indices

    @staticmethod
    def _accumulate_key(context) -> str:
        return ACCUMULATE_KEY.format(graph_exec_id=context.graph_exec_id, node_id=context.node_id)

    def _accumulate(self, data: list[Any], context) -> list[Any]:
        """Everything this node of this run gathered so far, this run's data included. Kept in
        Redis, so that a run resumed by another worker keeps it."""
        key = self._accumulate_key(context)
        redis = get_redis()
        with redis.pipeline() as pipe:
            if data:
                pipe.rpush(key, *[json.dumps(item) for item in data])
            pipe.expire(key, ACCUMULATE_TTL_SECONDS)
            pipe.lrange(key, 0, -1)
            stored = pipe.execute()[-1]
        return [json.loads(item) for item in stored]
