"""STUB (to be replaced by the observability work): the StatsRecorder contract.

StatsRecorder(cfg) keeps per-second buckets per (node, function):
  record(node, func, status, latency, wait, spilled, now)   one finished request (hot path)
  count_retry(node)                                          a failed try that was retried
  count_invalid_wait(node)                                   an unparsable XXX-FXLB-WAIT
"""


class StatsRecorder:
    def __init__(self, cfg):
        pass

    def record(self, node, func, status, latency, wait, spilled, now) -> None:
        pass

    def count_retry(self, node) -> None:
        pass

    def count_invalid_wait(self, node) -> None:
        pass
