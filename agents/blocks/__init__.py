from .base import Block, BlockCategory, BlockContext, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import all_blocks, get_block, register

__all__ = [
    "Block",
    "BlockCategory",
    "BlockContext",
    "BlockError",
    "BlockOutput",
    "BlockSchema",
    "BlockTestCase",
    "SchemaField",
    "all_blocks",
    "get_block",
    "register",
]
