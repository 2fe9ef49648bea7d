"""The dashboard in headless Chromium (Debian's, driven by Playwright): offline, no console
errors, and after traffic the charts name the nodes and functions that were called."""

import json
import os
import re
from urllib.parse import urlparse

import pytest

from tests.observability.cluster import Cluster, Traffic

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def launch(playwright):
    if not os.path.exists(CHROMIUM):
        pytest.skip("no chromium at /usr/bin/chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


class Watch:
    """Collects console errors, page errors and non-local requests (which it aborts)."""

    def __init__(self, page):
        self.errors, self.foreign, self.requests = [], [], []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.route("**/*", self.check)

    def check(self, route):
        url = route.request.url
        self.requests.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob") or parsed.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


@pytest.fixture(scope="module")
def cluster():
    # Nodes cold-start in 30 ms, so fnlb counts a wait of 20 ms or more as a cold start; two
    # slots per node and four functions keep them evicting and cold-starting.
    c = Cluster(3, node_args=("--exec", "3ms", "--cold-start", "30ms", "--slots", "2"),
                lb_args=("--cold-wait", "20ms"))
    yield c
    c.stop()


def legend_names(page, chart_id):
    return set(page.locator(f"#{chart_id} .legend .name").all_text_contents())


def test_dashboard_shows_called_nodes_and_functions_offline(cluster):
    # The last path is hostile: fnlb passes it through, the page must show it as text.
    funcs = ["/r/dash/resize", "/r/dash/thumb", "/r/dash/ocr", "/r/dash/<img/src=x/onerror=alert(1)>"]
    traffic = [Traffic(cluster, lambda i, f=f: f"{f}?ms={1 + i % 3}") for f in funcs]
    for t in traffic:
        t.start()
    try:
        with sync_api.sync_playwright() as p:
            browser = launch(p)
            try:
                page = browser.new_page()
                watch = Watch(page)
                dialogs = []
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                page.goto(cluster.lb.mgmt_url + "/1/lb/dash")
                # Legends are HTML text: wait until every called function has its own line.
                page.wait_for_function(
                    "names => names.every(n => [...document.querySelectorAll('#chart-func-tp .legend .name')]"
                    ".some(e => e.textContent === n))", arg=funcs, timeout=15000)
                page.wait_for_timeout(1500)
                assert set(funcs) <= legend_names(page, "chart-func-tp")
                assert set(funcs) <= legend_names(page, "chart-func-wait")
                assert legend_names(page, "chart-node-tp") == set(cluster.addresses)
                # Every node that served traffic (per the stats API) has a drawn wait line.
                served = {r["node"] for r in json.loads(cluster.mgmt("/1/lb/stats")[2])["stats"]}
                assert served and served <= set(page.locator("#chart-node-wait svg path title").all_text_contents())
                assert set(page.locator("#nodes tbody td.name").all_text_contents()) == set(cluster.addresses)
                assert page.locator("#status").get_attribute("class") == "status live"
                assert int(re.sub(r"\D", "", page.locator("#kpi-nodes").text_content())[:1]) == 3
                # Series are drawn: at least one path per called function in its chart.
                titles = page.locator("#chart-func-tp svg path title").all_text_contents()
                assert set(funcs) <= set(titles)
                # Cold starts: drawn by node and by function, as counted in /1/lb/stats.
                page.wait_for_function("document.querySelectorAll('#chart-node-cold svg path').length > 0",
                                       timeout=15000)
                rows = json.loads(cluster.mgmt("/1/lb/stats")[2])["stats"]
                assert sum(r["cold"] for r in rows) > 0
                cold_nodes = {r["node"] for r in rows if r["cold"]}
                assert cold_nodes <= set(page.locator("#chart-node-cold svg path title").all_text_contents())
                assert set(page.locator("#chart-func-cold .legend .name").all_text_contents()) & set(funcs)
                # The warm-container estimate: a number per node beside its state, a chart, and
                # per function the nodes it is warm on (addresses, with how many containers).
                warm = page.locator("#nodes tbody td.warm").all_text_contents()
                assert len(warm) == 3 and all(w.isdigit() for w in warm) and sum(map(int, warm)) > 0
                page.wait_for_function("document.querySelectorAll('#chart-node-warm svg path').length > 0",
                                       timeout=10000)
                where = page.locator("#funcs tbody td.nodes").all_text_contents()
                assert where and any(addr in w for w in where for addr in cluster.addresses)
                assert any("×" in w for w in where)
                # Switching to 5 minutes refetches the range and draws the same series.
                page.click("#ranges button:text('5 min')")
                page.wait_for_timeout(2500)
                assert page.locator("#ranges button.on").text_content() == "5 min"
                assert set(funcs) <= set(page.locator("#chart-func-tp svg path title").all_text_contents())
                assert page.locator("img").count() == 0 and not dialogs     # no markup injected
                assert watch.requests and not watch.foreign, watch.foreign
                assert not watch.errors, watch.errors
            finally:
                browser.close()
    finally:
        for t in traffic:
            t.stop()
