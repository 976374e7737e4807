"""``endpoint_down``: N consecutive failed probes fire, M consecutive good ones resolve.

A state machine fed one probe outcome at a time, so the engine can run it on every
result as it arrives (detection in ``failures x interval``, not at the next sweep).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class EndpointDownParams:
    """``failures`` consecutive failed probes fire; ``recoveries`` good ones resolve."""

    failures: int = 3
    recoveries: int = 1

    def __post_init__(self) -> None:
        if self.failures < 1 or self.recoveries < 1:
            raise ValueError("failures and recoveries must be at least 1")


@dataclass(frozen=True, slots=True)
class DownState:
    """Where one endpoint stands for one rule.

    ``failures`` counts consecutive failed probes (kept while recovering, for the
    summary), ``successes`` consecutive good probes since the rule fired, ``reason``
    the latest failure's reason.
    """

    failures: int = 0
    successes: int = 0
    active: bool = False
    reason: str | None = None

    @property
    def pending(self) -> bool:
        """Failing, but not yet for long enough to fire."""
        return self.failures > 0 and not self.active


_UP = DownState()


def step(state: DownState, ok: bool, reason: str | None, params: EndpointDownParams) -> DownState:
    """The state after one more probe outcome (pure; `state` is not changed).

    A success while pending resets the count: the failures were not consecutive.
    A success while active counts towards ``recoveries``; a failure in between
    starts the recovery count over.
    """
    if ok:
        if not state.active:
            return _UP
        successes = state.successes + 1
        return _UP if successes >= params.recoveries else replace(state, successes=successes)
    failures = state.failures + 1
    return DownState(
        failures=failures,
        successes=0,
        active=state.active or failures >= params.failures,
        reason=reason or "probe failed",
    )


def _probes(count: int, word: str) -> str:
    return f"{count} {word} probe" + ("" if count == 1 else "s")


def summary(endpoint_id: str, state: DownState) -> str:
    """One line for people, naming the cause.

    For example ``ngsp-portal is down: HTTP 503 (3 failed probes)``.
    """
    if state.active:
        text = f"{endpoint_id} is down: {state.reason} ({_probes(state.failures, 'failed')}"
        if state.successes:
            text += f", {_probes(state.successes, 'good')} since"
        return text + ")"
    if state.pending:
        return f"{endpoint_id} is failing: {state.reason} ({_probes(state.failures, 'failed')})"
    return f"{endpoint_id} is up"
