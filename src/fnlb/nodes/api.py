"""STUB: PUT/DELETE/GET /1/lb/nodes (the nodes work fills this in)."""

from fnlb.admin.http import json_response


def register(app, balancer) -> None:
    async def list_nodes(request):
        return json_response({"nodes": balancer.registry.snapshot()})

    app.route("/1/lb/nodes", "GET", list_nodes)
