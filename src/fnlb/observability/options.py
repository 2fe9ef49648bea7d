"""Flags of stats, metrics and logs."""

from fnlb.cli.flags import Flag, boolean, choice, duration, integer

_level = choice("debug", "info", "warning", "error")

FLAGS = [
    Flag("stats", True, "record per-request statistics (on by default; --stats=false leaves /1/lb/stats, the "
         "dashboard and the request metrics empty, to measure what they cost)", boolean, is_bool=True),
    Flag("stats-window", 300.0, "how much per-second history /1/lb/stats and the dashboard keep",
         duration, "DURATION"),
    Flag("stats-series", 1000, "(node, function) series kept per second; the excess is folded into "
         "function 'other' of its node", integer(1), "N"),
    Flag("metrics-top-functions", 20, "busiest functions (by recent rate) given their own func label in /metrics",
         integer(0), "N"),
    Flag("log-level", "info", "debug, info, warning or error (also LOG_LEVEL)",
         lambda text: _level(text.strip().lower()), "LEVEL"),
    Flag("log-format", "text", "text or json", choice("text", "json"), "FORMAT"),
]
