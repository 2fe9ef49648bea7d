"""STUB: logging setup from --log-level / --log-format."""

import logging
import sys


def setup_logging(cfg) -> None:
    logging.basicConfig(level=cfg.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
