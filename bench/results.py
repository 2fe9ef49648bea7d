"""Writes a benchmark's generated block into bench/RESULTS.md without touching the prose.

Each benchmark owns one block inside its section, between ``<!-- bench/NAME:begin -->``
and ``<!-- bench/NAME:end -->``. Only that block is replaced on a re-run, so the analysis
written around it (what the numbers mean, earlier runs, open questions) survives.
"""

from __future__ import annotations

import os

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def write_block(section: str, name: str, body: str, path: str = RESULTS) -> None:
    """Put ``body`` in the block ``name`` of ``## section``: replacing the block if there is
    one, else right under the section's heading, else in a new section at the end."""
    begin, end = f"<!-- bench/{name}:begin -->", f"<!-- bench/{name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    try:
        with open(path) as fh:
            doc = fh.read()
    except FileNotFoundError:
        doc = "# Benchmark results\n"
    heading = f"\n## {section}\n"
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    elif heading in doc:
        head, _, rest = doc.partition(heading)
        doc = head + heading + "\n" + block + "\n" + rest
    else:
        doc = doc.rstrip("\n") + "\n" + heading + "\n" + block + "\n"
    with open(path, "w") as fh:
        fh.write(doc)
