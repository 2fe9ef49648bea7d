"""NodeRegistry with real fake-node processes: checks, thresholds, passive failures."""

import asyncio
import time

from fnlb.nodes.registry import NodeRegistry
from tests.nodes.helpers import make_cfg
from tests.support.procs import free_port


async def until(predicate, timeout, what="condition"):
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.01)
    return loop.time() - start


def run(fn, *flags):
    async def main():
        changes = []
        registry = NodeRegistry(make_cfg(*flags).nodes, changes.append)
        await registry.start()
        try:
            return await fn(registry, changes)
        finally:
            await registry.stop()
    return asyncio.run(main())


def test_new_node_is_checked_at_once_and_reported_healthy(fake_node):
    a, b = fake_node(), fake_node()

    async def fn(registry, changes):
        # interval 60 s: only the immediate first check can bring them online in time
        await registry.add(b.addr)
        await registry.add(a.addr)
        took = await until(lambda: len(registry._healthy) == 2, 5, "both online")
        assert took < 2
        assert changes[-1] == sorted([a.addr, b.addr])
        assert changes[0] == []
        assert registry.snapshot() == {a.addr: "online", b.addr: "online"}
        d = registry.details()[a.addr]
        assert d["version"] == "0.3.700" and d["state"] == "healthy" and d["successes"] == 1
        assert d["last_error"] is None and abs(d["last_check"] - time.time()) < 5
        assert registry.check_counts()[(a.addr, "success")] == 1
    run(fn, "--hc-interval", "60s")


def test_min_api_version(fake_node):
    old, new, sick = fake_node(version="0.0.234"), fake_node(version="0.0.1000"), fake_node(version="-")

    async def fn(registry, changes):
        for n in (old, new, sick):
            await registry.add(n.addr)
        await until(lambda: all(d["last_check"] for d in registry.details().values()), 5, "all checked")
        snap, det = registry.snapshot(), registry.details()
        assert snap == {old.addr: "offline", new.addr: "online", sick.addr: "offline"}
        assert "older than --min-api-version 0.0.235" in det[old.addr]["last_error"]
        assert det[old.addr]["version"] == "0.0.234"
        assert det[sick.addr]["last_error"] == "status 500"
    run(fn, "--hc-interval", "60s")


def test_min_api_version_empty_accepts_any_2xx(fake_node):
    old = fake_node(version="0.0.1")

    async def fn(registry, changes):
        await registry.add(old.addr)
        await until(lambda: registry.snapshot()[old.addr] == "online", 5)
    run(fn, "--hc-interval", "60s", "--min-api-version", "")


def test_thresholds_kill_and_restart(fake_node):
    node = fake_node()
    interval = 0.2

    async def fn(registry, changes):
        await until(lambda: registry.snapshot()[node.addr] == "online", 3, "first online")
        node.kill()
        t_down = await until(lambda: registry.snapshot()[node.addr] == "offline", 5, "offline")
        # 3 failures needed: between 2 and 3 intervals after the kill, plus slack
        assert 1.5 * interval <= t_down <= 3 * interval + 1.0
        assert registry.details()[node.addr]["failures"] == 3
        fake_node(node.port)
        t_up = await until(lambda: registry.snapshot()[node.addr] == "online", 5, "online again")
        assert 0.5 * interval <= t_up <= 2 * interval + 1.0  # 2 successes, one interval apart
        assert registry._healthy == [node.addr]
    run(fn, "--hc-interval", f"{interval}", "--hc-timeout", "0.5", "--hc-unhealthy", "3", "--hc-healthy", "2",
        "--nodes", node.addr)


def test_passive_failures_take_node_offline_until_checks_bring_it_back(fake_node):
    node = fake_node()

    async def fn(registry, changes):
        await until(lambda: registry._healthy == [node.addr], 3)
        registry.passive_failure(node.addr)
        registry.passive_failure(node.addr)
        registry.passive_success(node.addr)          # resets the count
        registry.passive_failure(node.addr)
        registry.passive_failure(node.addr)
        assert registry.snapshot()[node.addr] == "online"
        registry.passive_failure(node.addr)          # third in a row
        assert registry.snapshot()[node.addr] == "offline" and changes[-1] == []
        registry.passive_failure("127.0.0.1:1")      # unknown nodes are ignored
        registry.passive_success("127.0.0.1:1")
        # the node answers its checks: back after the next one
        await until(lambda: registry._healthy == [node.addr], 3, "back online")
    run(fn, "--hc-interval", "0.3", "--nodes", node.addr)


def test_deleted_dead_node_stays_gone(fake_node):
    port = free_port()
    addr = f"127.0.0.1:{port}"

    async def fn(registry, changes):
        await until(lambda: registry.details()[addr]["state"] == "unhealthy", 3)
        assert await registry.remove(addr) is True
        fake_node(port)
        await asyncio.sleep(1.0)  # 10 intervals
        assert addr not in registry.snapshot() and registry._healthy == []
        assert all(a != addr for a, _ in registry.check_counts())
        assert await registry.remove(addr) is False
    run(fn, "--hc-interval", "0.1", "--hc-timeout", "0.3", "--nodes", addr)


def test_checks_of_one_node_never_overlap():
    """A node that accepts and never answers, with a timeout far above the interval."""
    async def main():
        open_now = 0
        most = 0
        accepted = 0

        async def hang(reader, writer):
            nonlocal open_now, most, accepted
            accepted += 1
            open_now += 1
            most = max(most, open_now)
            await reader.read()  # until the checker gives up and closes
            open_now -= 1
            writer.close()

        server = await asyncio.start_server(hang, "127.0.0.1", 0)
        addr = "127.0.0.1:%d" % server.sockets[0].getsockname()[1]
        registry = NodeRegistry(make_cfg("--hc-interval", "0.05", "--hc-timeout", "0.5", "--nodes", addr).nodes,
                                lambda nodes: None)
        await registry.start()
        await asyncio.sleep(1.8)
        await registry.stop()
        server.close()
        details = registry.details()[addr]
        return most, accepted, details

    most, accepted, details = asyncio.run(main())
    assert most == 1
    assert 2 <= accepted <= 5            # about 1.8 s / 0.5 s, never 1.8 / 0.05
    assert details["last_error"] == "no answer within 0.5s"


def test_check_path_and_host_header():
    async def main():
        seen = []

        async def answer(reader, writer):
            head = await reader.readuntil(b"\r\n\r\n")
            seen.append(head.decode())
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"version\": \"1.0.0\"}")
            writer.close()  # body delimited by the end of the connection

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        addr = "127.0.0.1:%d" % server.sockets[0].getsockname()[1]
        registry = NodeRegistry(make_cfg("--hc-path", "/health?x=1", "--nodes", addr).nodes, lambda nodes: None)
        await registry.start()
        await until(lambda: registry.snapshot()[addr] == "online", 3)
        await registry.stop()
        server.close()
        return addr, seen

    addr, seen = asyncio.run(main())
    assert seen[0].startswith("GET /health?x=1 HTTP/1.1\r\n")
    assert f"\r\nHost: {addr}\r\n" in seen[0]


def test_bracketed_ipv6_node_is_checked():
    import socket

    import pytest

    if not socket.has_ipv6:
        pytest.skip("no IPv6")

    async def main():
        async def answer(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{"version": "1.0.0"}')
            await writer.drain()
            writer.close()

        try:
            server = await asyncio.start_server(answer, "::1", 0)
        except OSError:
            pytest.skip("cannot listen on ::1")
        addr = "[::1]:%d" % server.sockets[0].getsockname()[1]
        registry = NodeRegistry(make_cfg("--nodes", addr).nodes, lambda nodes: None)
        await registry.start()
        await until(lambda: registry.snapshot()[addr] == "online", 3)
        await registry.stop()
        server.close()

    asyncio.run(main())
