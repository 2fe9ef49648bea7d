"""Render docs/dashboard.png: 5 sim nodes, varied traffic for about a minute, one node lost.

Run: python -m tests.observability.make_screenshot [docs/dashboard.png [SECONDS]]   (not a test)
"""

import random
import sys
import time

from tests.observability.cluster import Cluster, Traffic
from tests.observability.test_dashboard import ARGS, CHROMIUM

FUNCS = ["/r/shop/checkout", "/r/shop/cart", "/r/img/resize", "/r/img/thumbnail", "/r/ml/classify",
         "/r/ml/embed", "/r/mail/send", "/r/pdf/render", "/r/auth/token", "/r/search/query",
         "/r/report/daily", "/r/geo/lookup"]


def pattern(seed):
    rnd = random.Random(seed)
    weights = [1 / (k + 1) for k in range(len(FUNCS))]         # Zipf-like popularity

    def next_path(i):
        f = rnd.choices(FUNCS, weights)[0]
        ms = 80 if f.startswith("/r/ml/") else rnd.choice((2, 5, 10, 20))
        return f"{f}?ms={ms}"
    return next_path


def main(out="docs/dashboard.png", seconds=130):
    from playwright.sync_api import sync_playwright

    # The nodes cold-start in 150 ms, so fnlb counts waits of 100 ms or more as cold starts.
    cluster = Cluster(5, node_args=("--slots", "3", "--cold-start", "150ms", "--idle-timeout", "8s"),
                      lb_args=("--cold-wait", "100ms"))
    workers = [Traffic(cluster, pattern(k), pause=0.004) for k in range(8)]
    try:
        for w in workers:
            w.start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 980})
            page.goto(cluster.lb.mgmt_url + "/1/lb/dash")
            time.sleep(seconds - 20)
            cluster.nodes[-1].stop()                 # a node goes away: offline, retries, spills
            time.sleep(20)
            page.screenshot(path=out, full_page=True)
            browser.close()
    finally:
        for w in workers:
            w.stop()
        cluster.stop()
    print(f"wrote {out}; requests sent: {sum(w.sent for w in workers)}")


if __name__ == "__main__":
    main(*sys.argv[1:2], *[float(a) for a in sys.argv[2:3]])
