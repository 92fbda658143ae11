"""The block registry: every block class by id, loaded once per process."""

import importlib
from functools import cache

from django.conf import settings

from .base import Block

BLOCK_MODULES = [
    "agents.blocks.io",
    "agents.blocks.logic",
    "agents.blocks.text",
    "agents.blocks.data",
    "agents.blocks.time",
    "agents.blocks.http",
    "agents.blocks.flow",
    "agents.blocks.llm",
    "agents.blocks.email",
    "agents.blocks.webhook",
    "agents.blocks.jina",
    "agents.blocks.google_maps",
    "agents.blocks.ideogram",
    "agents.blocks.replicate",
    "agents.blocks.youtube",
    "agents.blocks.data_helpers",
    "agents.blocks.text_tools",
    "agents.blocks.rss",
    "agents.blocks.files",
    "agents.blocks.memory",
]

# Non-UUID ids in older AutoGPT exports, remapped as AutoGPT does.
LEGACY_BLOCK_IDS = {
    "f8e7d6c5-b4a3-2c1d-0e9f-8g7h6i5j4k3l": "f66a3543-28d3-4ab5-8945-9b336371e2ce",  # Step Through Items
    "b2g2c3d4-5e6f-7g8h-9i0j-k1l2m3n4o5p6": "0e50422c-6dee-4145-83d6-3a5a392f65de",  # Find In Dictionary
    "31d1064e-7446-4693-o7d4-65e5ca9110d1": "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc",  # Note
    "b29c1b50-5d0e-4d9f-8f9d-1b0e6fcbf0h2": "716a67b3-6760-42e7-86dc-18645c6e00fc",  # Get Current Date And Time
}

_registered: dict[str, type[Block]] = {}


def register(block_class: type[Block]) -> type[Block]:
    """Class decorator: add a block to the registry."""
    if block_class.id in _registered and _registered[block_class.id] is not block_class:
        raise ValueError(
            f"Two blocks share the id {block_class.id}: {_registered[block_class.id].name} and {block_class.name}"
        )
    _registered[block_class.id] = block_class
    return block_class


@cache
def load_blocks() -> dict[str, type[Block]]:
    """Import every block module once. Servers and workers call it at start-up: the LLM blocks
    import the provider SDKs, seconds of CPU that must not land on the first request or run."""
    for module in [*BLOCK_MODULES, *getattr(settings, "EXTRA_BLOCK_MODULES", [])]:
        importlib.import_module(module)
    return _registered


def all_blocks() -> list[type[Block]]:
    return sorted(load_blocks().values(), key=lambda block: block.name)


def canonical_block_id(block_id: str) -> str:
    return LEGACY_BLOCK_IDS.get(block_id, block_id)


def get_block(block_id: str) -> type[Block] | None:
    return load_blocks().get(canonical_block_id(block_id))
