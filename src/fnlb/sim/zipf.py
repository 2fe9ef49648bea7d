"""Zipf-distributed choice among N items: item i (1-based) has weight 1 / i**s.

Pure and seedable: the caller passes its own random.Random, so a run with --seed replays.
"""

from __future__ import annotations

import bisect
import itertools
import random
from typing import Sequence


class Zipf:
    def __init__(self, n: int, s: float):
        if n < 1:
            raise ValueError("Zipf needs at least one item")
        weights = [1.0 / (i ** s) for i in range(1, n + 1)]
        total = sum(weights)
        self.probabilities = [w / total for w in weights]
        self._cumulative = list(itertools.accumulate(self.probabilities))

    def index(self, rng: random.Random) -> int:
        """A 0-based index; 0 is the most frequent."""
        i = bisect.bisect_left(self._cumulative, rng.random())
        return min(i, len(self._cumulative) - 1)  # rounding may leave the sum a hair under 1


class Weighted:
    """Choice among items with explicit weights (e.g. the execution-time mix)."""

    def __init__(self, items: Sequence, weights: Sequence[float]):
        if not items or len(items) != len(weights) or sum(weights) <= 0 or min(weights) < 0:
            raise ValueError("weights must be non-negative, one per item, not all zero")
        self.items = list(items)
        self._cumulative = list(itertools.accumulate(weights))

    def choose(self, rng: random.Random):
        i = bisect.bisect_left(self._cumulative, rng.random() * self._cumulative[-1])
        return self.items[min(i, len(self.items) - 1)]
