"""``fnlb serve`` (the default command): run the balancer."""

from __future__ import annotations

from fnlb.config.serve import FLAGS, ServeConfig  # noqa: F401  (FLAGS: the command's flags)

SUMMARY = "Run the load balancer in front of function nodes."


# The original read LOG_LEVEL; it still works, below FNLB_LOG_LEVEL and the flag.
ENV_ALIASES = {"LOG_LEVEL": "FNLB_LOG_LEVEL"}


def run(cfg, args) -> int:
    serve = ServeConfig.from_namespace(cfg)
    if serve.workers.workers > 1:
        from fnlb.workers.supervisor import run_supervisor  # N processes under one supervisor

        return run_supervisor(serve)
    from fnlb.app import run_balancer  # heavy imports only once we really serve

    return run_balancer(serve)
