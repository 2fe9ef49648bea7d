"""The PostgreSQL node-list store goes away and comes back while traffic flows.

The shared PostgreSQL server is not ours to stop, so the balancer's ``--db`` points at a
TCP relay (helpers.Relay) in front of it: ``cut()`` resets every connection and refuses new
ones, which is what the balancer sees when the server stops (its sockets reset, connects
refused); ``hang()`` accepts and says nothing, as a server that froze or a network that
drops packets. ``restore()`` relays again on the same port.
"""

from __future__ import annotations

import time

import pytest

from tests.robustness.helpers import FaultNode, Load, Relay, http, nodes_state, summary, wait_for

pytestmark = pytest.mark.timeout(90)

PATHS = [f"/r/app/f{i}" for i in range(20)]


def relayed(pg_url: str, relay: Relay) -> str:
    scheme, rest = pg_url.split("://", 1)
    userhost, db = rest.split("/", 1)
    user = userhost.split("@", 1)[0] + "@" if "@" in userhost else ""
    return f"{scheme}://{user}127.0.0.1:{relay.port}/{db}"


@pytest.fixture
def relay(pg_db):
    from urllib.parse import urlsplit

    parts = urlsplit(pg_db)
    r = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    yield r
    r.close()


@pytest.mark.parametrize("how", ["cut", "hang"])
def test_store_outage_under_load(start_fnlb, pg_db, relay, how):
    with FaultNode() as n1, FaultNode() as n2, FaultNode() as n3:
        # --policy sticky: under the default, calls stay on the warm containers of n1 and n2
        # and the added node gets calls as functions need new containers; the point here is
        # that the node added after the outage is used at once.
        lb = start_fnlb("--db", relayed(pg_db, relay), "--nodes", f"{n1.address},{n2.address}",
                        "--hc-interval", "300ms", "--hc-timeout", "300ms", "--policy", "sticky")
        wait_for(lambda: nodes_state(lb) == {n1.address: "online", n2.address: "online"}, 5)
        with Load(lb.port, PATHS, threads=4) as load:
            time.sleep(0.5)
            getattr(relay, how)()
            down = time.monotonic()
            wait_for(lambda: "node list store unavailable" in lb.output(), 12, what="outage logged")
            # a change cannot be saved: a clean 503 {"msg"} within the store's timeouts
            t0 = time.monotonic()
            status, body = http("PUT", lb.mgmt_url + "/1/lb/nodes", {"node": n3.address}, timeout=20)
            took = time.monotonic() - t0
            assert status == 503 and "unavailable" in body["msg"], (status, body)
            assert took < 12, took          # OP_TIMEOUT (5 s), retried at most once
            assert nodes_state(lb) == {n1.address: "online", n2.address: "online"}  # nothing half-applied
            assert http("GET", lb.mgmt_url + "/1/lb/nodes")[0] == 200
            time.sleep(1.0)
            relay.restore()
            back = time.monotonic()
            wait_for(lambda: "is back" in lb.output(), 20, what="recovery logged")
            # changes go through again, by themselves (no restart of anything)
            wait_for(lambda: http("PUT", lb.mgmt_url + "/1/lb/nodes", {"node": n3.address}, timeout=20)[0] == 200,
                     20, interval=0.3, what="PUT accepted again")
            wait_for(lambda: nodes_state(lb).get(n3.address) == "online", 5)
            added = time.monotonic()
            wait_for(lambda: any(o.node == n3.address for o in load.since(added)), 5, what="traffic on the new node")
        outcomes = load.outcomes
        print(f"\n{how}: {summary(outcomes)}; recovered {added - back:.1f}s after the store came back")
        # traffic never noticed: every request during the outage was served
        during = [o for o in outcomes if down <= o.started <= back]
        assert len(during) > 50
        assert all(o.status == 200 for o in outcomes), summary(outcomes)
        assert all(o.finished - o.started < 2.0 for o in outcomes)
        # what was stored while it was down: nothing lost, nothing half-written
        import psycopg
        with psycopg.connect(pg_db) as conn:
            stored = {r[0] for r in conn.execute("SELECT address FROM lb_nodes")}
        assert stored == {n1.address, n2.address, n3.address}
        assert lb.alive()
