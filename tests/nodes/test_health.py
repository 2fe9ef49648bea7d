"""The health state machine, event by event (no sockets, no event loop)."""

import pytest

from fnlb.nodes.health import (
    CHECK_FAILED,
    CHECK_OK,
    HEALTHY,
    PASSIVE_FAILED,
    TRANSITIONS,
    UNHEALTHY,
    UNKNOWN,
    Health,
    Thresholds,
)
from fnlb.nodes.options import NodesConfig

OK, FAIL, PFAIL = CHECK_OK, CHECK_FAILED, PASSIVE_FAILED


def run(events, thresholds=Thresholds(healthy_after=2, unhealthy_after=3, passive_unhealthy=2), start=None):
    h = Health(thresholds)
    if start is not None:
        h.state = start
    states = []
    for event in events:
        h.handle(event)
        states.append(h.state)
    return h, states


# (start state, events, state after each event) with healthy_after=2, unhealthy_after=3, passive=2
TABLE = [
    (UNKNOWN, [OK], [HEALTHY]),                                 # first success: healthy at once
    (UNKNOWN, [FAIL], [UNHEALTHY]),                             # first failure: unhealthy at once
    (UNKNOWN, [PFAIL, PFAIL, PFAIL], [UNKNOWN] * 3),            # passive ignored until checked
    (HEALTHY, [FAIL, FAIL, FAIL], [HEALTHY, HEALTHY, UNHEALTHY]),
    (HEALTHY, [FAIL, FAIL, OK, FAIL, FAIL], [HEALTHY] * 5),     # a success resets the failures
    (UNHEALTHY, [OK, OK], [UNHEALTHY, HEALTHY]),
    (UNHEALTHY, [OK, FAIL, OK, OK], [UNHEALTHY, UNHEALTHY, UNHEALTHY, HEALTHY]),
    (HEALTHY, [PFAIL, PFAIL], [HEALTHY, UNHEALTHY]),            # passive takes it offline
    (UNHEALTHY, [PFAIL, PFAIL], [UNHEALTHY, UNHEALTHY]),
]


@pytest.mark.parametrize("start, events, expected", TABLE)
def test_transition_table(start, events, expected):
    assert run(events, start=start)[1] == expected


def test_only_healthy_is_online_and_handle_reports_online_changes():
    h = Health(Thresholds(1, 1, 1))
    assert not h.online
    assert h.handle(FAIL) is False          # unknown -> unhealthy: was offline, still offline
    assert h.handle(OK) is True and h.online
    assert h.handle(OK) is False
    assert h.handle(FAIL) is True and not h.online


def test_passive_success_resets_the_passive_count():
    h, _ = run([OK], start=None)
    h.handle(PFAIL)
    h.passive_failures = 0      # a good request: what NodeRegistry.passive_success does
    h.handle(PFAIL)
    assert h.state == HEALTHY and h.passive_failures == 1


def test_after_passive_failure_node_needs_fresh_successes():
    # healthy with a long run of successes; the passive trip must not leave them counted
    h, _ = run([OK, OK, OK, OK, PFAIL, PFAIL])
    assert h.state == UNHEALTHY and h.successes == 0
    h.handle(OK)
    assert h.state == UNHEALTHY
    h.handle(OK)
    assert h.state == HEALTHY and h.passive_failures == 0


def test_counters_show_the_run_that_caused_a_change():
    h, _ = run([FAIL, OK, OK])
    assert (h.state, h.successes, h.failures) == (HEALTHY, 2, 0)
    h.handle(FAIL)
    assert (h.successes, h.failures) == (0, 1)


def test_default_thresholds_match_the_original():
    t = NodesConfig().thresholds
    assert (t.healthy_after, t.unhealthy_after) == (1, 2)


def test_table_covers_every_state_that_can_change():
    froms = {state for state, _ in TRANSITIONS}
    assert froms == {UNKNOWN, HEALTHY, UNHEALTHY}
    assert all(nxt in (HEALTHY, UNHEALTHY) for nxt, _ in TRANSITIONS.values())
