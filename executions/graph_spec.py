"""A graph version as the engine sees it: blocks resolved, links indexed. Versions never change
once saved, so a worker loads each one once."""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from agents.blocks import Block, get_block
from agents.models import GraphVersion
from agents.validation import is_input_block, is_output_block


@dataclass(frozen=True)
class LinkSpec:
    source_id: str
    source_name: str
    sink_id: str
    sink_name: str
    is_static: bool


@dataclass
class NodeSpec:
    node_id: str
    block: type[Block]
    input_default: dict[str, Any]
    links_out: list[LinkSpec] = field(default_factory=list)
    links_in: list[LinkSpec] = field(default_factory=list)

    @property
    def block_id(self) -> str:
        return self.block.id

    @property
    def linked_pins(self) -> set[str]:
        return {link.sink_name for link in self.links_in}

    @property
    def is_input(self) -> bool:
        return is_input_block(self.block)

    @property
    def is_output(self) -> bool:
        return is_output_block(self.block)


@dataclass
class GraphSpec:
    graph_version_id: int
    nodes: dict[str, NodeSpec]

    @property
    def start_nodes(self) -> list[NodeSpec]:
        """Nodes that run when an execution starts: every runnable node without incoming links
        (links into pins that do not hold a run back do not count)."""
        return [
            node
            for node in self.nodes.values()
            if node.block.runs and all(link.sink_name in node.block.optional_linked_pins for link in node.links_in)
        ]


@lru_cache(maxsize=512)
def load_graph_spec(graph_version_id: int) -> GraphSpec:
    graph_version = GraphVersion.objects.prefetch_related("nodes", "links").get(pk=graph_version_id)
    nodes: dict[str, NodeSpec] = {}
    for node in graph_version.nodes.all():
        block = get_block(node.block_id)
        if block is None:  # saved graphs are validated; a block removed since then cannot run
            raise LookupError(f"Node '{node.node_id}' uses block '{node.block_id}', which this platform no longer has.")
        nodes[node.node_id] = NodeSpec(node.node_id, block, node.input_default)
    for link in graph_version.links.all():
        if link.source_id not in nodes or link.sink_id not in nodes:
            continue
        spec = LinkSpec(
            source_id=link.source_id,
            source_name=link.source_name,
            sink_id=link.sink_id,
            sink_name=link.sink_name,
            is_static=link.is_static or nodes[link.source_id].block.static_output,
        )
        nodes[link.source_id].links_out.append(spec)
        nodes[link.sink_id].links_in.append(spec)
    return GraphSpec(graph_version_id=graph_version_id, nodes=nodes)
