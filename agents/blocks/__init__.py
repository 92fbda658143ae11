from .base import (
    Block,
    BlockCategory,
    BlockContext,
    BlockError,
    BlockOutput,
    BlockSchema,
    BlockTestCase,
    SchemaField,
    ToolSink,
)
from .registry import all_blocks, get_block, load_blocks, register

__all__ = [
    "Block",
    "BlockCategory",
    "BlockContext",
    "BlockError",
    "BlockOutput",
    "BlockSchema",
    "BlockTestCase",
    "SchemaField",
    "ToolSink",
    "all_blocks",
    "get_block",
    "load_blocks",
    "register",
]
