"""Endpoint state: unknown until a fresh result, up/down from it, unknown when stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import FrozenClock
from core.results import Latency, ProbeResult
from monitor_center.state import EndpointStates

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _result(ok: bool, at: datetime, endpoint: str = "ngsp-portal") -> ProbeResult:
    return ProbeResult(
        endpoint_id=endpoint,
        time=at,
        ok=ok,
        latency=Latency(total=0.05),
        status=200 if ok else 503,
        reason=None if ok else "status 503",
    )


def _states(clock: FrozenClock) -> EndpointStates:
    states = EndpointStates(clock)
    states.register("ngsp-portal", "ngsp", interval=10.0)
    return states


def test_an_endpoint_is_unknown_before_its_first_result() -> None:
    states = _states(FrozenClock(T0))
    view = states.view("ngsp-portal")
    assert view is not None and view.state == "unknown" and view.last_checked is None


def test_a_result_makes_it_up_or_down_and_reports_the_change() -> None:
    clock = FrozenClock(T0)
    states = _states(clock)
    change = states.record(_result(True, T0))
    assert change is not None and (change.previous, change.current) == ("unknown", "up")
    clock.advance(10)
    change = states.record(_result(False, clock.now()))
    assert change is not None and (change.previous, change.current) == ("up", "down")
    assert states.record(_result(False, clock.now() + timedelta(seconds=10))) is None


def test_it_turns_unknown_when_no_result_arrived_within_two_intervals() -> None:
    clock = FrozenClock(T0)
    states = _states(clock)
    states.record(_result(True, T0))
    clock.advance(20)
    assert states.sweep() == []
    clock.advance(0.5)
    changes = states.sweep()
    assert [(c.endpoint_id, c.current) for c in changes] == [("ngsp-portal", "unknown")]
    view = states.view("ngsp-portal")
    assert view is not None and view.state == "unknown"


def test_an_older_result_arriving_late_does_not_override_a_newer_one() -> None:
    clock = FrozenClock(T0 + timedelta(seconds=10))
    states = _states(clock)
    states.record(_result(False, T0 + timedelta(seconds=10)))
    assert states.record(_result(True, T0)) is None
    view = states.view("ngsp-portal")
    assert view is not None and view.state == "down"


def test_results_for_unregistered_endpoints_are_ignored() -> None:
    states = _states(FrozenClock(T0))
    assert states.record(_result(True, T0, endpoint="nobody")) is None
    assert [v.id for v in states.views()] == ["ngsp-portal"]
