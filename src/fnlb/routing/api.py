"""STUB: GET /1/lb/route?key=PATH (the routing work fills this in)."""


def register(app, balancer) -> None:
    pass
