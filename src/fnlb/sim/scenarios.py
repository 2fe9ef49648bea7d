"""The placement simulator's scenarios: named workloads and cluster histories.

Theory of operation
-------------------
A :class:`Scenario` is a small declarative preset (how many nodes, balancers, functions
and requests; the offered load; the shape of the load over time; a flash crowd; node
changes). Every field can be overridden by a ``fnlb simulate`` flag. :meth:`Scenario.build`
turns it, with the node model's settings and a seed, into a :class:`Workload`: concrete
node names, function keys with their execution times, the run's length in virtual
seconds, the cluster changes at absolute times, and a generator of arrivals.

Every run starts with empty nodes, so the rate ramps up over the first ``warmup`` share of
the run: a cluster hit at full rate while every container is cold spends its slots on
cold starts, queues, and (FIFO queues evict what the next call needs) may never recover,
whatever the policy. Real clusters warm up; the diurnal day starts low instead.

Load is given as a *fraction of the cluster's capacity* (``load``): capacity is
``nodes * slots / mean execution time`` requests per second, where the mean is weighted
by each function's share of the traffic. A preset thus means the same thing at 5 or 100
nodes, and ``--requests`` only sets how long the run lasts.

Arrivals are an open-loop Poisson process (clients do not slow down when the cluster
does, as on the Internet). A time-varying rate (the diurnal ramp, the flash crowd) is
drawn by thinning: candidate arrivals at the peak rate, each kept with probability
``rate(t) / peak``. Functions are ranked by a Zipf law (``fnlb.sim.zipf``, the same one
``fnlb load`` uses); each function has its own median execution time, log-normal across
functions, and each call varies around it (log-normal, mean 1).

The presets aim to look like a real Fn cluster, not to favour any policy: cold starts of
hundreds of milliseconds, executions of tens to hundreds, 16 slots per node, a 30 s idle
timeout, more functions than a node has slots, a Zipf-skewed popularity in which the top
function alone needs a third of a node. The load is low (20% of the slot capacity) on
purpose: a node's memory is its slots, every slot holds a container (busy or idle for up
to 30 s), so a function whose concurrency rises evicts another's idle container and
cold-starts; a cold start holds a slot for 300 ms, several executions' worth, so past
about a third of its slots busy with ten functions a node tips into evicting and
cold-starting most calls (measured: one 32-slot node with 10 functions cold-starts 2% of
calls at 20% load and 35% at 35%). The presets keep a well-placed cluster just below that
point, so that placement decides whether a node tips over.

:func:`run` simulates a workload with a policy; :func:`run_pooled` simulates the same
arrivals on one node that holds every slot of the cluster, behind no balancer. That is
the physical floor placement is judged against. The pooled node shares every container
(a function's hot containers serve all of its calls, one LRU runs over all the idle
ones), which no placement over N nodes can do, so a policy's cold starts and waits are,
as a rule, at or above the pooled node's: what is left above it is what placement can
still win. A rule of thumb, not a theorem: a policy that piles the load on a few nodes
can cold-start less than the pooled node by queueing instead (a queue hands freed hot
containers on), at the price of its latency; and a pooled node past the tipping point
(too many functions for its slots) churns like any other. The pooled node follows the
scenario's node changes in slots: a node that fails takes its slots away for as long as
it is down, an added node brings its own. What the pooled node loses then is its least
recently used idle containers (and busy ones over the size as their calls end), while
the cluster loses the failed node's containers, however hot: the floor stays generous.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Iterator

from fnlb.routing.failover import RETRIES
from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policies import make_policy
from fnlb.routing.policy import Params
from fnlb.routing.router import Router
from fnlb.sim.des import Arrival, Change, Cluster, NodeConfig
from fnlb.sim.zipf import Zipf


@dataclass(frozen=True)
class Model:
    """The node model and the execution-time distribution (``fnlb simulate`` model flags)."""

    slots: int = 32
    idle_timeout: float = 30.0
    cold_start: float = 0.3
    on_busy: str = "cold"       # a call whose function has no idle container: cold-start, or queue
    exec_median: float = 0.05   # median over functions of their median execution time
    exec_spread: float = 0.6    # log-normal sigma of the functions' medians
    exec_jitter: float = 0.3    # log-normal sigma of a call around its function's median
    exec_min: float = 0.005
    exec_max: float = 2.0

    def node_config(self) -> NodeConfig:
        return NodeConfig(self.slots, self.idle_timeout, self.cold_start, self.on_busy)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    nodes: int = 10
    balancers: int = 1
    functions: int = 100
    requests: int = 200_000
    load: float = 0.2           # mean offered load, fraction of the cluster's capacity
    zipf: float = 1.0           # popularity exponent: function of rank r gets 1 / r**zipf
    diurnal: bool = False       # rate follows a day: 0.2x .. 1.8x the mean, peak at mid-run
    flash: float = 0.0          # flash crowd: extra rate for one function, in nodes' worth of capacity
    flash_rank: int = 50        # the flash crowd's function (0 = the most popular)
    flash_window: tuple[float, float] = (1 / 3, 2 / 3)  # when, as fractions of the run
    # (fraction of the run, action, which node): node -1 = the most popular function's home;
    # "add" adds one more node.
    changes: tuple[tuple[float, str, int], ...] = ()
    detect: float = 3.0         # seconds before the balancers see a change (health checks)
    warmup: float = 0.1         # the rate ramps up from 0 over this fraction of the run
    # A Zipf mix at an absolute rate (calls/s; 0: from ``load``) and one more function,
    # HOT_KEY, with its own rate and a fixed execution time (the live benchmark's load).
    mix_rate: float = 0.0
    hot_rate: float = 0.0
    hot_exec: float = 0.1
    # The scenario's own node model: Model fields it sets (a model flag left at its default
    # does not override them).
    model: tuple[tuple[str, float], ...] = ()
    extra: dict = field(default_factory=dict)

    def with_overrides(self, **kw) -> "Scenario":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})

    def build(self, model: Model, seed: int) -> "Workload":
        return Workload(self, model, seed)


def node_names(n: int) -> list[str]:
    return [f"10.0.{i // 250}.{i % 250 + 1}:8080" for i in range(n)]


def function_keys(n: int) -> list[str]:
    return [f"/r/app{i % 97}/fn{i}" for i in range(n)]


HOT_KEY = "/r/app/hot"  # the scenarios' hot function (``hot_rate``), beside the Zipf mix


class Workload:
    """A scenario made concrete for one seed: nodes, functions, timeline, arrivals."""

    def __init__(self, sc: Scenario, model: Model, seed: int):
        self.scenario = sc
        self.model = model
        self.seed = seed
        rng = random.Random(f"functions/{seed}")  # the functions do not depend on the policy
        self.keys = function_keys(sc.functions)
        self.zipf = Zipf(sc.functions, sc.zipf)
        self.exec_base = [min(model.exec_max, max(model.exec_min,
                              model.exec_median * math.exp(rng.gauss(0.0, model.exec_spread))))
                          for _ in self.keys]
        jitter_mean = math.exp(model.exec_jitter ** 2 / 2)  # calls' mean over their median
        self.mean_exec = jitter_mean * sum(p * e for p, e in zip(self.zipf.probabilities, self.exec_base))
        self.node_capacity = model.slots / self.mean_exec  # requests/s one node serves at most
        self.nodes = node_names(sc.nodes)
        self.base_rate = sc.mix_rate or sc.load * self.node_capacity * sc.nodes
        self.hot_share = 0.0
        if sc.hot_rate > 0:  # one more function, drawn with its share of every arrival
            self.hot_share = sc.hot_rate / (self.base_rate + sc.hot_rate)
            self.mean_exec = self.hot_share * sc.hot_exec + (1 - self.hot_share) * self.mean_exec
            self.base_rate += sc.hot_rate
            self.keys.append(HOT_KEY)
            self.exec_base.append(sc.hot_exec)
        self.flash_key = self.keys[min(sc.flash_rank, sc.functions - 1)]
        flash_exec = jitter_mean * self.exec_base[min(sc.flash_rank, sc.functions - 1)]
        self.flash_rate = sc.flash * model.slots / flash_exec if sc.flash > 0 else 0.0
        f0, f1 = sc.flash_window
        # The warm-up ramp offers half the rate over its span (the diurnal day starts low anyway).
        ramp = 0.0 if sc.diurnal else sc.warmup / 2
        mean_rate = self.base_rate * (1 - ramp) + self.flash_rate * (f1 - f0)
        self.duration = sc.requests / mean_rate
        self.changes = self._changes()

    def _changes(self) -> list[Change]:
        out = []
        home = NodeSet(self.nodes).primary(self.keys[0])
        added = 0
        for frac, action, which in self.scenario.changes:
            if action == "add":
                name = node_names(self.scenario.nodes + added + 1)[-1]
                added += 1
            else:
                name = home if which < 0 else self.nodes[which]
            out.append(Change(frac * self.duration, action, name))
        return out

    def rate(self, t: float) -> float:
        """Offered requests per second at virtual time t."""
        rate = self.base_rate
        sc = self.scenario
        if sc.diurnal:
            rate *= 0.2 + 1.6 * math.sin(math.pi * t / self.duration) ** 2
        elif t < sc.warmup * self.duration:
            rate *= t / (sc.warmup * self.duration)
        return rate + self._flash(t)

    def _flash(self, t: float) -> float:
        f0, f1 = self.scenario.flash_window
        return self.flash_rate if f0 * self.duration <= t < f1 * self.duration else 0.0

    def arrivals(self) -> Iterator[Arrival]:
        """Exactly ``requests`` arrivals, identical for every policy (own seeded stream)."""
        sc = self.scenario
        rng = random.Random(f"arrivals/{self.seed}")
        peak = self.base_rate * (1.8 if sc.diurnal else 1.0) + self.flash_rate
        thinning = sc.diurnal or self.flash_rate > 0 or sc.warmup > 0
        expovariate, rand, lognorm = rng.expovariate, rng.random, rng.lognormvariate
        index = self.zipf.index
        keys, base = self.keys, self.exec_base
        mu, sigma = -self.model.exec_jitter ** 2 / 2, self.model.exec_jitter  # mean-1 jitter
        balancers = sc.balancers
        flash_key = self.flash_key
        flash_i = self.keys.index(flash_key)
        hot_share, hot_i = self.hot_share, len(keys) - 1
        t = 0.0
        for _ in range(sc.requests):
            while True:
                t += expovariate(peak)
                if not thinning:
                    break
                rate = self.rate(t)
                u = rand() * peak
                if u < rate:
                    break
            jitter = True
            if thinning and u < self._flash(t):
                i = flash_i
            elif hot_share and rand() < hot_share:
                i, jitter = hot_i, False  # the hot function's calls take exactly hot_exec
            else:
                i = index(rng)
            b = rng.randrange(balancers) if balancers > 1 else 0
            yield Arrival(t, keys[i], base[i] * lognorm(mu, sigma) if jitter else base[i], b)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("steady", "steady Zipf mix over many functions at 20% of the slot capacity"),
    Scenario("flash", "a flash crowd on one cold function at 1.5 nodes' worth, for the middle third",
             flash=1.5),
    Scenario("diurnal", "a day compressed into the run: 3% to 27% of capacity and back",
             load=0.15, diurnal=True),
    Scenario("failure", "the most popular function's node fails at 1/3 and recovers at 2/3",
             changes=((1 / 3, "down", -1), (2 / 3, "up", -1))),
    Scenario("grow", "a node is added at mid-run", changes=((0.5, "add", 0),)),
    Scenario("balancers", "four balancers, each with its own view, share the cluster", balancers=4),
    Scenario("tight", "bench/placement's cluster: 4 x 16 slots, a hot function one node cannot hold, "
             "20 more functions; the working set just fits",
             nodes=4, functions=20, requests=42_000, mix_rate=40.0, hot_rate=100.0, hot_exec=0.1,
             model=(("slots", 16), ("idle_timeout", 10.0), ("exec_spread", 0.0), ("exec_jitter", 0.0))),
)}

STANDARD = "steady"
POOLED = "pooled"  # the name of run_pooled's row beside the policies'


def run(workload: Workload, policy: str, params: Params | None = None, retries: int = RETRIES,
        workers: int = 1, sync_lag: float = 0.0):
    """Simulate ``workload`` with every balancer running its own ``policy`` object;
    ``retries`` is the failover budget (the proxy's ``--retries``). ``workers`` > 1: each
    balancer is that many routing replicas that see each other's calls ``sync_lag`` late
    (``fnlb serve --workers``, modelled by ``fnlb.sim.workers``)."""
    sc = workload.scenario

    def make_router(b: int) -> Router:
        if workers > 1:
            from fnlb.sim.workers import Replicated

            return Replicated(lambda w: Router(make_policy(policy, params, random.Random(
                f"policy/{workload.seed}/{b}" + (f"/{w}" if w else "")))), workers, sync_lag)  # type: ignore[return-value]
        return Router(make_policy(policy, params, random.Random(f"policy/{workload.seed}/{b}")))

    cluster = Cluster(workload.nodes, sc.balancers, make_router, workload.model.node_config(),
                      workload.changes, sc.detect, retries=retries)
    return cluster.run(workload.arrivals())


def run_pooled(workload: Workload):
    """Simulate ``workload`` on one node with every slot of the cluster: the floor (see above)."""
    sc = workload.scenario
    slots = workload.model.slots
    cfg = replace(workload.model.node_config(), slots=sc.nodes * slots)
    resizes = [Change(c.t, "resize", POOLED, slots if c.action in ("up", "add") else -slots)
               for c in workload.changes]
    # One node leaves a router nothing to decide; `consistent` is the simplest that
    # draws no randomness. One balancer: with a single node they would all agree anyway.
    cluster = Cluster([POOLED], 1, lambda b: Router(make_policy("consistent")), cfg, resizes)
    arrivals = workload.arrivals()
    if sc.balancers > 1:
        arrivals = (arrival._replace(balancer=0) for arrival in arrivals)
    return cluster.run(arrivals)
