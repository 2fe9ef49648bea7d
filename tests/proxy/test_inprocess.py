"""The ProxyServer contract as fnlb.app uses it in-process (the demo runs it this way)."""

from __future__ import annotations

import asyncio

from fnlb.app import Balancer
from fnlb.config.flags import parse
from fnlb.config.serve import FLAGS
from tests.support.procs import free_port


def test_ephemeral_ports_are_reported_and_shutdown_is_clean():
    async def scenario():
        cfg, _ = parse(FLAGS, ["--listen", "127.0.0.1:0", "--mgmt-listen", f"127.0.0.1:{free_port()}",
                               "--log-level", "warning"], env={})
        balancer = Balancer(cfg)
        await balancer.start()
        server = balancer.server
        host, port = server.traffic_address
        mhost, mport = server.mgmt_address
        assert host == "127.0.0.1" and port > 0 and mport > 0 and mport != port
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /r/a HTTP/1.1\r\nHost: h\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ")
        await balancer.shutdown()
        await reader.readexactly(int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]))
        assert await reader.read() == b""       # the idle client was closed
        writer.close()
        try:
            await asyncio.open_connection(host, port)
        except OSError:
            return
        raise AssertionError("still accepting after shutdown")

    asyncio.run(scenario())


def test_one_listener_when_addresses_are_equal():
    async def scenario():
        cfg, _ = parse(FLAGS, ["--listen", "127.0.0.1:0", "--mgmt-listen", "127.0.0.1:0"], env={})
        balancer = Balancer(cfg)
        await balancer.start()
        host, port = balancer.server.traffic_address
        assert port > 0 and balancer.server.traffic_address == balancer.server.mgmt_address
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /1/lb/nodes HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        writer.close()
        await balancer.shutdown()

    asyncio.run(scenario())
