"""STUB: /1/lb/stats, /1/lb/dash, /metrics (the observability work fills this in)."""


def register(app, balancer) -> None:
    pass
