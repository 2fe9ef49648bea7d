"""The configuration of ``fnlb serve``: every concern's config, and the flags that set them.

``FLAGS`` is the serve command's flag list (``--config`` first, then each concern's, in
the order ``--help`` and the README tables show them); ``ServeConfig`` holds one typed
config per concern, each filled from the same flat namespace by ``from_namespace``
(``fnlb.config.typed``). ``Balancer`` takes a ``ServeConfig`` and hands each component its
part; it also accepts a parsed namespace (tests, benchmarks) and converts it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fnlb.config.flags import CONFIG_FLAG
from fnlb.config.typed import Config
from fnlb.nodes.options import FLAGS as NODE_FLAGS
from fnlb.nodes.options import NodesConfig
from fnlb.observability.options import FLAGS as OBSERVABILITY_FLAGS
from fnlb.observability.options import ObservabilityConfig
from fnlb.proxy.options import FLAGS as PROXY_FLAGS
from fnlb.proxy.options import ProxyConfig
from fnlb.routing.options import FLAGS as ROUTING_FLAGS
from fnlb.routing.options import RoutingConfig
from fnlb.workers.options import FLAGS as WORKERS_FLAGS
from fnlb.workers.options import WorkersConfig

FLAGS = [CONFIG_FLAG, *PROXY_FLAGS, *ROUTING_FLAGS, *NODE_FLAGS, *OBSERVABILITY_FLAGS, *WORKERS_FLAGS]


@dataclass(frozen=True)
class ServeConfig(Config):
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    nodes: NodesConfig = field(default_factory=NodesConfig)
    observability: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    workers: WorkersConfig = field(default_factory=WorkersConfig)

    @classmethod
    def of(cls, cfg: Any) -> "ServeConfig":
        """``cfg`` itself when it is a ServeConfig, else one built from a parsed namespace."""
        return cfg if isinstance(cfg, cls) else cls.from_namespace(cfg)
