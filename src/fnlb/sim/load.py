"""An open-loop load generator: Poisson arrivals, a keep-alive pool, latency from the schedule.

Open loop means the arrival times are drawn in advance of (and independently from) the
responses: the next request is due ``expovariate(rate)`` seconds after the previous one
whether or not that one has been answered, so a slow target faces the full offered load
instead of a politely slowed client (no coordinated omission). A request's latency runs
from its *scheduled* send time to the end of its response; if the generator itself falls
behind, or waits for a pooled connection, that delay counts too.

What to request is up to two functions of the elapsed time, so scenarios (the demo) can
vary both: ``rate_fn(elapsed) -> requests per second`` and
``choose(elapsed, rng) -> (path, query)``; ``path`` is the routing key the results are
grouped by. :func:`zipf_chooser` builds the usual one.

A hot function on top of the mix (``fnlb load --hot PATH:RATE:EXEC``) is meant as an
independent Poisson stream of RATE calls per second. It is not a second generator: the
superposition of independent Poisson streams of rates r1 and r2 is one Poisson stream of
rate r1 + r2 whose every arrival, independently, belongs to the first with probability
r1 / (r1 + r2). So :func:`with_hot` raises the rate to the sum and wraps the chooser to
pick the hot path with that probability: the same arrivals in distribution, one schedule,
still open loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Callable, NamedTuple
from urllib.parse import urlsplit

from fnlb.sim.client import Pool
from fnlb.sim.summary import Result
from fnlb.sim.zipf import Weighted, Zipf

IDLE_STEP = 0.05  # how often a zero-rate phase looks again at its rate


class Target:
    """Where requests go: http://host:port[/prefix]."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r} is not an http://host:port URL")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.host_header = parts.netloc.encode()

    def request(self, path: str, query: str) -> bytes:
        line = self.prefix + path + ("?" + query if query else "")
        return b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: fnlb-load\r\n\r\n" % (line.encode(), self.host_header)


def parse_exec_mix(text: str) -> Weighted | None:
    """``20ms:80,200ms:20`` (duration:weight; weight 1 when omitted) -> a Weighted of ms."""
    from fnlb.config.flags import duration

    text = text.strip()
    if not text:
        return None
    items, weights = [], []
    for part in text.split(","):
        spec, _, weight = part.strip().partition(":")
        items.append(round(duration(spec) * 1000, 3))
        try:
            weights.append(float(weight) if weight else 1.0)
        except ValueError:
            raise ValueError(f"weight {weight!r} is not a number") from None
    return Weighted(items, weights)


def zipf_chooser(paths: list[str], zipf_s: float, exec_mix: Weighted | None = None):
    """Paths drawn by Zipf(s) (the first is the most popular), each with an optional ms= mix."""
    zipf = Zipf(len(paths), zipf_s)

    def choose(elapsed: float, rng: random.Random) -> tuple[str, str]:
        path = paths[zipf.index(rng)]
        return path, (f"ms={exec_mix.choose(rng):g}" if exec_mix else "")
    return choose


class Hot(NamedTuple):
    """One hot function: ``rate`` calls per second of ``path``, each sent with ?ms=``exec_ms``."""
    path: str
    rate: float
    exec_ms: float


def parse_hot(text: str) -> Hot | None:
    """``/r/app/hot:100:100ms`` (PATH:RATE:EXEC) -> a Hot; empty -> None (no hot function)."""
    from fnlb.config.flags import duration

    text = text.strip()
    if not text:
        return None
    parts = text.rsplit(":", 2)  # from the right: the path is the only part that may hold ':'
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise ValueError(f"{text!r} is not PATH:RATE:EXEC (e.g. /r/app/hot:100:100ms)")
    path, rate_text, exec_text = (p.strip() for p in parts)
    if not path.startswith("/") or "?" in path or any(c.isspace() for c in path):
        raise ValueError(f"path {path!r} must start with / and hold neither a query nor spaces")
    try:
        rate = float(rate_text)
    except ValueError:
        raise ValueError(f"rate {rate_text!r} is not a number") from None
    if not rate > 0 or rate == float("inf"):
        raise ValueError(f"rate {rate_text!r} must be a positive number of calls per second")
    try:
        exec_s = duration(exec_text)
    except ValueError as exc:
        raise ValueError(f"exec: {exc}") from None
    return Hot(path, rate, round(exec_s * 1000, 3))


def with_hot(rate: float, choose, hot: Hot | None):
    """``(rate, choose)`` with the hot function's Poisson stream merged in (module docstring):
    the summed rate, and a chooser that picks the hot path with probability hot / sum."""
    if hot is None:
        return rate, choose
    total = rate + hot.rate
    share = hot.rate / total
    query = f"ms={hot.exec_ms:g}"

    def choose_with_hot(elapsed: float, rng: random.Random) -> tuple[str, str]:
        if rng.random() < share:
            return hot.path, query
        return choose(elapsed, rng)
    return total, choose_with_hot


def function_paths(n: int, app: str = "app") -> list[str]:
    return [f"/r/{app}/fn{i}" for i in range(1, n + 1)]


class LoadGenerator:
    def __init__(self, target: Target, rate_fn: Callable[[float], float],
                 choose: Callable[[float, random.Random], tuple[str, str]], rng: random.Random,
                 connections: int = 256, timeout: float = 10.0):
        self.target = target
        self.rate_fn = rate_fn
        self.choose = choose
        self.rng = rng
        self.timeout = timeout
        self.pool = Pool(target.host, target.port, connections)
        self.results: list[Result] = []  # in completion order; readers may slice the tail
        self.sent = 0
        self.started_at = 0.0
        self.elapsed = 0.0  # seconds of arrivals (less than the duration when stopped early)
        self._stopped = False
        self._drain_until = float("inf")
        self._tasks: set[asyncio.Task] = set()

    def stop(self, drain: float | None = None) -> None:
        """End the arrivals early (Ctrl-C); requests in flight get ``drain`` more seconds
        (default: the request timeout) before they are abandoned."""
        self._stopped = True
        if drain is not None:
            self._drain_until = min(self._drain_until, time.monotonic() + drain)

    async def run(self, duration: float) -> list[Result]:
        """Play arrivals for ``duration`` seconds, then wait for the answers (up to the timeout)."""
        start = self.started_at = time.monotonic()
        due = start
        try:
            while not self._stopped:
                rate = self.rate_fn(due - start)
                due += self.rng.expovariate(rate) if rate > 0 else IDLE_STEP
                if due - start >= duration:
                    break
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif self.sent % 64 == 0:
                    await asyncio.sleep(0)  # behind schedule: still let responses in
                if rate > 0 and not self._stopped:
                    self._spawn(due - start, due)
            self.elapsed = min(time.monotonic() - start, duration)
            await self._drain()
        finally:
            leftover = list(self._tasks)
            for task in leftover:
                task.cancel()
            # let them record themselves as errors before the results are read
            await asyncio.gather(*leftover, return_exceptions=True)
            self.pool.close()
        return self.results

    async def _drain(self) -> None:
        """Wait for the requests in flight; stop() may shorten this while it runs."""
        self._drain_until = min(self._drain_until, time.monotonic() + self.timeout + 1)
        while self._tasks and time.monotonic() < self._drain_until:
            await asyncio.wait(list(self._tasks), timeout=min(0.1, self._drain_until - time.monotonic()))

    def _spawn(self, elapsed: float, due: float) -> None:
        path, query = self.choose(elapsed, self.rng)
        self.sent += 1
        task = asyncio.ensure_future(self._one(path, self.target.request(path, query), due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, path: str, raw: bytes, due: float) -> None:
        try:
            response = await self.pool.request(raw, self.timeout)
        except (OSError, ConnectionError, TimeoutError):
            self.results.append(Result(path, time.monotonic() - due, 0, None, None, None))
            return
        except asyncio.CancelledError:  # abandoned at the end of the drain: still an error
            self.results.append(Result(path, time.monotonic() - due, 0, None, None, None))
            raise
        latency = time.monotonic() - due
        cold = node = wait = None
        try:
            body = json.loads(response.body)
            if isinstance(body, dict):
                cold, node, wait = body.get("cold"), body.get("node"), body.get("wait")
        except ValueError:
            pass  # not a sim-node answer: latency and status still count
        self.results.append(Result(path, latency, response.status, cold, node, wait))
