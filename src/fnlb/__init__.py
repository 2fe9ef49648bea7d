"""fnlb: a function-aware load balancer for clusters of Fn-style function servers."""

__version__ = "0.1.0"
