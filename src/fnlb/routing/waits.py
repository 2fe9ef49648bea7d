"""The wait table: a bounded, time-aware moving average of each (node, key)'s reported wait.

Theory of operation
-------------------
Nodes report in ``XXX-FXLB-WAIT`` how long a call waited before its function started
(queueing plus any cold start). For each (node, key) pair the table keeps the reference's
exponentially weighted moving average, ``new = ALPHA * sample + (1 - ALPHA) * old`` with
ALPHA = 0.1 (about the last ten samples); the first sample initialises it.

Unlike the reference, an average also ages with *time*, not only with new samples: a node
that traffic spilled away from gets no samples, and its high average would otherwise
repel the key forever (reference defect 6). The value used (``get``) is

* the stored average while its last sample is at most ``grace`` seconds old;
* then fading linearly to 0 over the next ``fade`` seconds;
* 0 once ``grace + fade`` seconds have passed: the entry is *forgotten*.

A new sample blends into the faded value (so a recovered node is not pulled back up by
its stale past); a sample for a forgotten entry initialises it afresh. With the defaults
(grace 1 s, fade 3 s) any stale wait, however large, stops counting after 4 s.
``grace = inf`` turns ageing off (the reference's behaviour).

Memory is bounded: at most ``capacity`` entries, the least recently *updated* evicted
first (an OrderedDict moved-to-end on each sample, so eviction is O(1)). Reads do not
refresh an entry: reading is the hot path, and a pair with no new samples fades anyway.
Time is always passed in (``now``, seconds); the table never reads a clock.
"""

from __future__ import annotations

from collections import OrderedDict

ALPHA = 0.1
_KEEP = 1.0 - ALPHA  # the old average's weight (the same float as computing it each time)


class WaitTable:
    __slots__ = ("capacity", "grace", "fade", "entries")

    def __init__(self, capacity: int = 100_000, grace: float = 1.0, fade: float = 3.0):
        if capacity < 1:
            raise ValueError("wait table capacity must be at least 1")
        self.capacity = capacity
        self.grace = grace
        self.fade = fade
        # (node, key) -> [average seconds, time of last sample]. Policies may read it on
        # their hot path: the stored average is an upper bound of what get() returns.
        self.entries: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    def _value(self, entry: list[float], now: float) -> float:
        age = now - entry[1]
        if age <= self.grace:
            return entry[0]
        over = age - self.grace
        if over >= self.fade:
            return 0.0
        return entry[0] * (1.0 - over / self.fade)

    def get(self, node: str, key: str, now: float) -> float:
        """The current (faded) average wait in seconds; 0.0 when unknown or forgotten."""
        entry = self.entries.get((node, key))
        if entry is None:
            return 0.0
        if now - entry[1] <= self.grace:  # the common case, inline
            return entry[0]
        return self._value(entry, now)

    def known(self, node: str, key: str, now: float) -> bool:
        """True if the pair has a sample that is not yet forgotten."""
        entry = self.entries.get((node, key))
        return entry is not None and now - entry[1] < self.grace + self.fade

    def add(self, node: str, key: str, seconds: float, now: float) -> None:
        """Blend one sample (seconds >= 0) into the pair's average."""
        pair = (node, key)
        entries = self.entries
        entry = entries.get(pair)
        if entry is not None and now - entry[1] <= self.grace:  # the common case first
            entry[0] = ALPHA * seconds + _KEEP * entry[0]
            entry[1] = now
            entries.move_to_end(pair)
            return
        if entry is None:
            entries[pair] = [seconds, now]
            if len(entries) > self.capacity:
                entries.popitem(last=False)
            return
        if now - entry[1] < self.grace + self.fade:
            entry[0] = ALPHA * seconds + _KEEP * self._value(entry, now)
        else:
            entry[0] = seconds  # forgotten: the sample starts a new average
        entry[1] = now
        entries.move_to_end(pair)

    def snapshot(self, now: float) -> list[tuple[str, str, float]]:
        """(node, key, seconds) for every pair not yet forgotten, most recent first."""
        out = []
        horizon = self.grace + self.fade
        for (node, key), entry in reversed(self.entries.items()):
            if now - entry[1] >= horizon:
                break  # entries are in update order: all older ones are forgotten too
            out.append((node, key, self._value(entry, now)))
        return out

    def __len__(self) -> int:
        return len(self.entries)
