"""The management API of the node list (``fnlb.nodes``): PUT, DELETE and GET ``/1/lb/nodes``.

Compatible with the original fnlb: PUT/DELETE take ``{"node": "host:port"}`` and answer
``{"msg": "node added"}`` / ``{"msg": "node deleted"}``; GET answers
``{"nodes": {addr: "online"|"offline"}}``, plus ``"details"`` per node. Errors are
``{"msg": ...}``: 400 for a bad body or address, 401 without the admin token (MgmtApp),
404 for deleting an unknown node, 503 when the change could not be saved in the store.
"""

from __future__ import annotations

import ipaddress
import logging

from fnlb.api.http import HTTPError, json_response, read_json
from fnlb.config.serve import ServeConfig
from fnlb.nodes import address
from fnlb.nodes.store import StoreUnavailable

log = logging.getLogger("fnlb.nodes")


def register(app, balancer) -> None:
    registry = balancer.registry

    async def list_nodes(request):
        return json_response({"nodes": registry.snapshot(), "details": registry.details()})

    async def add_node(request):
        addr = _node_field(request)
        _validate(addr)
        try:
            await registry.add(addr)
        except StoreUnavailable as exc:
            raise HTTPError(503, f"node not added: the node list store is unavailable ({exc})") from None
        return json_response({"msg": "node added"})

    async def delete_node(request):
        addr = _node_field(request)
        if addr not in registry.snapshot():
            _validate(addr)  # a listed entry is deletable even if some old writer stored it malformed
        try:
            known = await registry.remove(addr)
        except StoreUnavailable as exc:
            raise HTTPError(503, f"node not deleted: the node list store is unavailable ({exc})") from None
        if not known:
            raise HTTPError(404, f"node {addr} is not in the node list")
        return json_response({"msg": "node deleted"})

    app.route("/1/lb/nodes", "GET", list_nodes)
    app.route("/1/lb/nodes", "PUT", add_node, write=True)
    app.route("/1/lb/nodes", "DELETE", delete_node, write=True)
    warn_if_open(balancer.cfg)


def _node_field(request) -> str:
    body = read_json(request)
    if "node" not in body:
        raise HTTPError(400, 'missing "node" field (expected {"node": "host:port"})')
    addr = body["node"]
    if not isinstance(addr, str):
        raise HTTPError(400, '"node" must be a string "host:port"')
    return addr


def _validate(addr: str) -> None:
    try:
        address.validate(addr)
    except address.AddressError as exc:
        raise HTTPError(400, str(exc)) from None


def warn_if_open(cfg: ServeConfig) -> None:
    """Log a warning when anyone who can reach the management listener may change nodes."""
    if cfg.nodes.admin_token:
        return
    host, port = cfg.proxy.mgmt_listen
    if not _is_loopback(host):
        where = host or "all interfaces"
        log.warning("the management API on %s:%d accepts node changes from anyone who can reach it: "
                    "set --admin-token (or FNLB_ADMIN_TOKEN) or listen on 127.0.0.1", where, port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # '' (all interfaces) or a host name that may resolve anywhere
