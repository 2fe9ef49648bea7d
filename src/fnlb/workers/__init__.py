"""``--workers N``: N serving processes on one traffic port under one supervisor.

See ``supervisor.py`` for the architecture, ``ring.py`` and ``events.py`` for how the
processes share one routing state, ``dispatcher.py`` for a worker's routing calls.
"""
