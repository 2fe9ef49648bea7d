"""Request routing: which node runs a function call (docs/routing.md).

Pure objects only (no sockets, no clock, injected randomness), shared by the proxy,
``fnlb route``, ``GET /1/lb/route`` and the placement simulator. Start at ``router.py``
(the contract), then ``nodeset.py`` and ``hashing.py`` (where keys go when nothing is
loaded), ``waits.py`` and ``inflight.py`` (what is observed), ``policies.py`` /
``sticky.py`` (what is done with it), and ``failover.py`` (where a request goes when a node
fails it). ``GET /1/lb/route`` itself is ``fnlb.api.routing``.
"""
