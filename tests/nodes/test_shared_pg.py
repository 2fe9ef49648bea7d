"""Several balancers on one PostgreSQL database (a fresh one per test run)."""

import contextlib
import time

import psycopg
import pytest

from tests.nodes.conftest import PG_ADMIN
from tests.nodes.helpers import http, wait_for

pytestmark = pytest.mark.timeout(120)



def nodes_of(lb):
    status, body = http("GET", lb.mgmt_url + "/1/lb/nodes")
    assert status == 200
    return body["nodes"]


def route(lb, key):
    status, body = http("GET", lb.mgmt_url + "/1/lb/route?key=" + key)
    assert status == 200
    return body["node"]


def test_change_on_one_balancer_reaches_the_other_within_a_second(start_fnlb, fake_node, pg_db):
    nodes = [fake_node() for _ in range(3)]
    # a long --hc-interval means store polling cannot be what carries the change
    a = start_fnlb("--db", pg_db, "--hc-interval", "30s")
    b = start_fnlb("--db", pg_db, "--hc-interval", "30s")
    time.sleep(0.5)  # let both LISTEN
    for n in nodes:
        assert http("PUT", a.mgmt_url + "/1/lb/nodes", {"node": n.addr}) == (200, {"msg": "node added"})
    _, took = wait_for(lambda: set(nodes_of(b)) == {n.addr for n in nodes}, 5, what="list on b")
    assert took < 1.0
    wait_for(lambda: set(nodes_of(a).values()) == {"online"} and set(nodes_of(b).values()) == {"online"}, 3,
             what="all online on both")
    keys = [f"/r/app/fn{i}" for i in range(30)]
    routes_a = {k: route(a, k) for k in keys}
    assert routes_a == {k: route(b, k) for k in keys}
    assert len(set(routes_a.values())) == 3
    # and traffic really lands there through either balancer
    for k in keys[:10]:
        assert http("GET", a.url + k)[1]["node"] == routes_a[k]
        assert http("GET", b.url + k)[1]["node"] == routes_a[k]

    gone = nodes[1].addr
    t0 = time.monotonic()
    assert http("DELETE", b.mgmt_url + "/1/lb/nodes", {"node": gone}) == (200, {"msg": "node deleted"})
    assert gone not in nodes_of(b)
    wait_for(lambda: gone not in nodes_of(a), 5, what="deleted on a")
    assert time.monotonic() - t0 < 1.0
    assert all(route(a, k) != gone and route(a, k) == route(b, k) for k in keys)
    # the row is really gone, and the original's table layout is what is stored
    with psycopg.connect(pg_db) as conn:
        rows = {r[0] for r in conn.execute("SELECT address FROM lb_nodes")}
    assert rows == {nodes[0].addr, nodes[2].addr}


def test_nodes_flag_is_added_to_the_shared_store(start_fnlb, fake_node, pg_db):
    node = fake_node()
    start_fnlb("--db", pg_db, "--nodes", node.addr, "--hc-interval", "0.2")
    b = start_fnlb("--db", pg_db, "--hc-interval", "0.2")
    wait_for(lambda: nodes_of(b) == {node.addr: "online"}, 3)


def test_external_writer_without_notify_is_seen_by_polling(start_fnlb, fake_node, pg_db):
    node = fake_node()
    lb = start_fnlb("--db", pg_db, "--hc-interval", "0.3")
    with psycopg.connect(pg_db, autocommit=True) as conn:  # like the original fnlb or psql would
        conn.execute("INSERT INTO lb_nodes (address) VALUES (%s)", (node.addr,))
    wait_for(lambda: nodes_of(lb) == {node.addr: "online"}, 3)


@contextlib.contextmanager
def outage(dbname):
    """No connections to the test database (existing ones are terminated) until the block ends."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')


def test_store_outage_keeps_routing_rejects_changes_and_recovers(start_fnlb, fake_node, pg_db):
    n1, n2 = fake_node(), fake_node()
    a = start_fnlb("--db", pg_db, "--nodes", n1.addr, "--hc-interval", "0.2")
    b = start_fnlb("--db", pg_db, "--hc-interval", "0.2")
    wait_for(lambda: nodes_of(b) == {n1.addr: "online"}, 3)
    dbname = pg_db.rsplit("/", 1)[1]
    with outage(dbname):
        time.sleep(0.5)
        for lb in (a, b):
            assert http("GET", lb.url + "/r/app/x")[1]["node"] == n1.addr   # routing goes on
            status, body = http("PUT", lb.mgmt_url + "/1/lb/nodes", {"node": n2.addr})
            assert status == 503 and "unavailable" in body["msg"], body
            status, body = http("DELETE", lb.mgmt_url + "/1/lb/nodes", {"node": n1.addr})
            assert status == 503, body
            assert nodes_of(lb) == {n1.addr: "online"}                      # nothing half-applied
        wait_for(lambda: "node list store unavailable" in a.output(), 5, what="outage logged")
    # recovers by itself: changes go through again and reach the other balancer
    wait_for(lambda: "is back" in a.output() and "is back" in b.output(), 15, what="recovery logged")
    wait_for(lambda: http("PUT", a.mgmt_url + "/1/lb/nodes", {"node": n2.addr})[0] == 200, 10, interval=0.2)
    wait_for(lambda: nodes_of(b) == {n1.addr: "online", n2.addr: "online"}, 3, what="change shared again")
    assert a.alive() and b.alive()


def test_balancer_started_during_an_outage_catches_up(start_fnlb, fake_node, pg_db):
    node = fake_node()
    dbname = pg_db.rsplit("/", 1)[1]
    with outage(dbname):
        lb = start_fnlb("--db", pg_db, "--nodes", node.addr, "--hc-interval", "0.2")
        wait_for(lambda: nodes_of(lb) == {node.addr: "online"}, 3)   # routed without the store
        assert http("GET", lb.url + "/r/app/x")[1]["node"] == node.addr
    # once the database is back, --nodes is written to it and other balancers see it
    def stored():
        with psycopg.connect(pg_db) as conn:
            return {r[0] for r in conn.execute("SELECT address FROM lb_nodes")}
    wait_for(lambda: stored() == {node.addr}, 15, interval=0.2, what="--nodes saved after the outage")
    assert "is back" in lb.output()
