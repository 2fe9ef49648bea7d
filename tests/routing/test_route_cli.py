"""`fnlb route` as a user runs it: output format, errors, start time."""

import subprocess
import sys
import time

NODES = "127.0.0.1:8082,127.0.0.1:8080,127.0.0.1:8081"


def fnlb(*args):
    return subprocess.run([sys.executable, "-m", "fnlb", "route", *args], capture_output=True, text=True, timeout=30)


def test_prints_key_tab_node_in_the_order_given():
    out = fnlb("--nodes", NODES, "/v1/apps", "/r/app/hello", "/r/myapp/resize", "/r/app/world", "")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ("/v1/apps\t127.0.0.1:8082\n/r/app/hello\t127.0.0.1:8081\n"
                          "/r/myapp/resize\t127.0.0.1:8080\n/r/app/world\t127.0.0.1:8082\n\t127.0.0.1:8082\n")


def test_go_flag_syntax_and_env():
    out = fnlb("-nodes=" + NODES, "/r/app/hello")
    assert out.stdout == "/r/app/hello\t127.0.0.1:8081\n"
    env_run = subprocess.run([sys.executable, "-m", "fnlb", "route", "/r/app/world"], capture_output=True,
                             text=True, timeout=30, env={"FNLB_NODES": NODES, "PATH": "/usr/bin:/bin"})
    assert env_run.stdout == "/r/app/world\t127.0.0.1:8082\n"


def test_every_policy_gives_the_primary_without_load():
    for policy in ("default", "seed", "consistent", "bounded"):
        out = fnlb("--policy", policy, "--nodes", NODES, "/r/app/hello")
        assert out.stdout == "/r/app/hello\t127.0.0.1:8081\n"


def test_usage_errors_are_one_line_and_exit_2():
    for args in (["/r/app/hello"], ["--nodes", NODES], ["--nodes", NODES, "--policy", "nope", "/x"]):
        out = fnlb(*args)
        assert out.returncode == 2
        assert out.stdout == ""
        assert 1 <= len(out.stderr.strip().splitlines()) <= 3
        assert "Traceback" not in out.stderr


def test_starts_fast_and_without_heavy_imports():
    probe = ("import sys, time; t = time.perf_counter(); from fnlb.cli import main; "
             "main(['route', '--nodes', 'a:1,b:2', '/x']); "
             "heavy = [m for m in ('uvloop', 'psycopg', 'prometheus_client', 'asyncio') if m in sys.modules]; "
             "print(heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert out.stdout.splitlines()[-1] == "[]"
    best = min(_timed() for _ in range(3))
    assert best < 0.5, f"fnlb route took {best:.3f}s"


def _timed():
    start = time.perf_counter()
    out = fnlb("--nodes", NODES, "/r/app/hello")
    assert out.returncode == 0
    return time.perf_counter() - start


def test_non_ascii_key_routes_like_the_proxy_routes_its_bytes():
    from fnlb.routing.nodeset import NodeSet
    nodes = [f"10.0.0.1:{8000 + i}" for i in range(20)]
    ns = NodeSet(nodes)
    keys = [f"/r/café/{i}" for i in range(10)]
    out = fnlb("--nodes", ",".join(nodes), *keys)
    expected = "".join(f"{k}\t{ns.primary(k.encode().decode('latin-1'))}\n" for k in keys)
    assert out.stdout == expected


def test_explain_adds_the_policys_reason_and_warm_nodes():
    out = fnlb("--explain", "--nodes", NODES, "/r/app/hello")
    assert out.stdout == "/r/app/hello\t127.0.0.1:8081\tgrow\t-\n"       # no containers offline: grow at home
    out = fnlb("--explain", "--policy", "sticky", "--nodes", NODES, "/r/app/hello")
    assert out.stdout == "/r/app/hello\t127.0.0.1:8081\thome\t-\n"


def test_balancer_asks_the_live_route_endpoint():
    import http.server
    import json
    import threading
    from urllib.parse import parse_qs, urlparse

    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            key = parse_qs(url.query)["key"][0]
            asked.append((url.path, key))
            body = json.dumps({"key": key, "node": "127.0.0.1:8082", "reason": "warm", "why": "...",
                               "order": [], "warm": {"127.0.0.1:8081": {"busy": 2, "idle": 0},
                                                     "127.0.0.1:8082": {"busy": 0, "idle": 1}}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = fnlb("--balancer", f"127.0.0.1:{server.server_port}", "/r/app/a+b&c", "/r/café")
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 0, out.stderr
    assert asked == [("/1/lb/route", "/r/app/a+b&c"), ("/1/lb/route", "/r/café")]   # encoded once, decoded back
    assert out.stdout.splitlines() == [
        "/r/app/a+b&c\t127.0.0.1:8082\twarm\t127.0.0.1:8081=2,127.0.0.1:8082=1",
        "/r/café\t127.0.0.1:8082\twarm\t127.0.0.1:8081=2,127.0.0.1:8082=1"]
    closed = fnlb("--balancer", "127.0.0.1:1", "/x")
    assert closed.returncode == 1 and "127.0.0.1:1" in closed.stderr and "Traceback" not in closed.stderr
