"""The demo's scenario, pure: a steady mix, then one function heats up, spills, cools, returns.

Time is the elapsed fraction of the run, so the phases scale with ``--duration``:

  steady   0%-20%   background functions (Zipf) plus the future hot one at a trickle
  heating  20%-35%  the hot function's rate climbs linearly to ``hot_rate``
  hot      35%-70%  ``hot_rate``: more than one node can run; its wait rises, it spills
  cooling  70%-80%  the rate falls back to the trickle
  calm     80%-100% the trickle: spilled containers idle out, the function returns home

A node runs at most ``slots / hot_exec`` hot calls per second, so with the defaults of
``fnlb demo`` (8 slots, 200 ms) one node takes 40/s and a ``hot_rate`` of 70/s needs two
nodes, plus the third while cold starts are paid.
"""

from __future__ import annotations

import random

from fnlb.sim.zipf import Zipf

PHASES = (("steady", 0.0), ("heating", 0.20), ("hot", 0.35), ("cooling", 0.70), ("calm", 0.80))


class DemoScenario:
    def __init__(self, duration: float, base_rate: float = 20.0, hot_rate: float = 70.0,
                 trickle: float = 2.0, functions: int = 12, app: str = "demo",
                 base_exec_ms: float = 50.0, hot_exec_ms: float = 200.0):
        self.duration = duration
        self.base_rate = base_rate
        self.hot_rate_peak = hot_rate
        self.trickle = trickle
        self.paths = [f"/r/{app}/fn{i}" for i in range(1, functions + 1)]
        self.hot_path = f"/r/{app}/hot"
        self._zipf = Zipf(functions, 1.0)
        self._base_query = f"ms={base_exec_ms:g}"
        self._hot_query = f"ms={hot_exec_ms:g}"

    def phase(self, elapsed: float) -> str:
        frac = elapsed / self.duration if self.duration > 0 else 1.0
        name = PHASES[0][0]
        for phase, start in PHASES:
            if frac >= start:
                name = phase
        return name

    def hot_rate(self, elapsed: float) -> float:
        frac = elapsed / self.duration if self.duration > 0 else 1.0
        low, peak = self.trickle, self.hot_rate_peak
        if frac < 0.20 or frac >= 0.80:
            return low
        if frac < 0.35:
            return low + (peak - low) * (frac - 0.20) / 0.15
        if frac < 0.70:
            return peak
        return peak - (peak - low) * (frac - 0.70) / 0.10

    def rate(self, elapsed: float) -> float:
        return self.base_rate + self.hot_rate(elapsed)

    def choose(self, elapsed: float, rng: random.Random) -> tuple[str, str]:
        """One request: the hot function with its share of the current rate, else the mix."""
        if rng.random() * self.rate(elapsed) < self.hot_rate(elapsed):
            return self.hot_path, self._hot_query
        return self.paths[self._zipf.index(rng)], self._base_query
