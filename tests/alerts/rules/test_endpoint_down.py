"""endpoint_down: consecutive failures fire, consecutive successes resolve."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from alerts.rules import DownState, EndpointDownParams, step, summary

THREE = EndpointDownParams(failures=3, recoveries=1)


def run(outcomes: Iterable[bool], params: EndpointDownParams = THREE) -> DownState:
    state = DownState()
    for ok in outcomes:
        state = step(state, ok, None if ok else "HTTP 503", params)
    return state


def test_it_fires_on_the_third_consecutive_failure_not_before() -> None:
    assert run([False, False]).pending
    assert not run([False, False]).active
    state = run([False, False, False])
    assert state.active and not state.pending
    assert state.failures == 3


def test_a_success_while_pending_resets_the_count() -> None:
    state = run([False, False, True, False, False])
    assert state.pending and not state.active
    assert state.failures == 2


def test_one_success_resolves_by_default() -> None:
    state = run([False, False, False, True])
    assert state == DownState()


def test_it_needs_the_configured_number_of_consecutive_recoveries() -> None:
    params = EndpointDownParams(failures=2, recoveries=3)
    assert run([False, False, True, True], params).active
    assert run([False, False, True, True, False, True, True], params).active
    assert not run([False, False, True, True, True], params).active


def test_a_failure_during_recovery_keeps_it_active_and_counting() -> None:
    state = run([False, False, False, False])
    assert state.active and state.failures == 4


def test_the_latest_failure_reason_is_kept() -> None:
    state = step(run([False, False]), False, "timeout", THREE)
    assert state.reason == "timeout"
    assert step(DownState(), False, None, THREE).reason == "probe failed"


def test_step_does_not_change_the_state_it_is_given() -> None:
    before = DownState(failures=1, reason="HTTP 503")
    step(before, False, "HTTP 503", THREE)
    assert before == DownState(failures=1, reason="HTTP 503")


def test_the_summary_names_the_endpoint_and_the_cause() -> None:
    assert summary("ngsp-portal", run([False] * 3)) == (
        "ngsp-portal is down: HTTP 503 (3 failed probes)"
    )
    assert (
        summary("ngsp-portal", run([False])) == "ngsp-portal is failing: HTTP 503 (1 failed probe)"
    )
    assert summary("ngsp-portal", DownState()) == "ngsp-portal is up"


def test_the_summary_while_recovering_counts_the_good_probes() -> None:
    state = run([False, False, True], EndpointDownParams(failures=2, recoveries=2))
    assert summary("p", state) == "p is down: HTTP 503 (2 failed probes, 1 good probe since)"


def test_params_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EndpointDownParams(failures=0)
