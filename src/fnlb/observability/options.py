"""Flags and config of stats, metrics and logs."""

from __future__ import annotations

from dataclasses import dataclass

from fnlb.config.flags import Flag, boolean, choice, duration, integer
from fnlb.config.typed import Config


@dataclass(frozen=True)
class ObservabilityConfig(Config):
    """What the stats recorder (``stats.make_recorder``) and ``logs.setup_logging`` take."""

    stats: bool = True                 # False: a NullRecorder (measures what stats cost)
    stats_window: float = 300.0        # seconds of per-second history
    stats_series: int = 1000           # (node, function) series per second
    metrics_top_functions: int = 20
    log_level: str = "info"            # lower case, as the flag normalizes it
    log_format: str = "text"


_D = ObservabilityConfig()
_level = choice("debug", "info", "warning", "error")

FLAGS = [
    Flag("stats", _D.stats, "record per-request statistics (on by default; --stats=false leaves /1/lb/stats, the "
         "dashboard and the request metrics empty, to measure what they cost)", boolean, is_bool=True),
    Flag("stats-window", _D.stats_window, "how much per-second history /1/lb/stats and the dashboard keep",
         duration, "DURATION"),
    Flag("stats-series", _D.stats_series, "(node, function) series kept per second; the excess is folded into "
         "function 'other' of its node", integer(1), "N"),
    Flag("metrics-top-functions", _D.metrics_top_functions,
         "busiest functions (by recent rate) given their own func label in /metrics", integer(0), "N"),
    Flag("log-level", _D.log_level, "debug, info, warning or error (also LOG_LEVEL)",
         lambda text: _level(text.strip().lower()), "LEVEL"),
    Flag("log-format", _D.log_format, "text or json", choice("text", "json"), "FORMAT"),
]
