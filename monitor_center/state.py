"""Endpoint state as operators see it: up, down, or unknown.

``unknown`` until the first result arrives and again when no fresh result arrived within
two intervals: silence is never reported as health.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.clock import Clock
from core.results import ProbeResult

State = Literal["up", "down", "unknown"]

STALE_AFTER_INTERVALS = 2


@dataclass(frozen=True, slots=True)
class EndpointView:
    """What the API and the feed report for one endpoint."""

    id: str
    agency: str
    state: State
    interval: float
    last_result: ProbeResult | None

    @property
    def last_checked(self) -> datetime | None:
        return self.last_result.time if self.last_result else None


@dataclass(frozen=True, slots=True)
class StateChange:
    endpoint_id: str
    previous: State
    current: State
    result: ProbeResult | None


@dataclass(slots=True)
class _Entry:
    agency: str
    interval: float
    last: ProbeResult | None = None
    reported: State = "unknown"


class EndpointStates:
    """In-memory latest state per endpoint; cheap to read on every API call."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def register(self, endpoint_id: str, agency: str, interval: float) -> None:
        """Declare an endpoint (idempotent; keeps its last result across reloads)."""
        entry = self._entries.get(endpoint_id)
        if entry is None:
            self._entries[endpoint_id] = _Entry(agency=agency, interval=interval)
        else:
            entry.agency, entry.interval = agency, interval

    def forget_except(self, keep: Iterable[str]) -> None:
        kept = set(keep)
        for endpoint_id in [e for e in self._entries if e not in kept]:
            del self._entries[endpoint_id]

    def record(self, result: ProbeResult) -> StateChange | None:
        """Take a result in; return the change it caused, if any. Old results are ignored."""
        entry = self._entries.get(result.endpoint_id)
        if entry is None:
            return None
        if entry.last is not None and result.time <= entry.last.time:
            return None
        entry.last = result
        return self._transition(result.endpoint_id, entry)

    def sweep(self) -> list[StateChange]:
        """Report endpoints that went stale since the last look (called periodically)."""
        changes = []
        for endpoint_id, entry in self._entries.items():
            change = self._transition(endpoint_id, entry)
            if change:
                changes.append(change)
        return changes

    def view(self, endpoint_id: str) -> EndpointView | None:
        entry = self._entries.get(endpoint_id)
        return None if entry is None else self._view(endpoint_id, entry)

    def views(self) -> list[EndpointView]:
        return [self._view(i, e) for i, e in sorted(self._entries.items())]

    def _state(self, entry: _Entry) -> State:
        if entry.last is None:
            return "unknown"
        age = self._clock.now() - entry.last.time
        if age > timedelta(seconds=STALE_AFTER_INTERVALS * entry.interval):
            return "unknown"
        return "up" if entry.last.ok else "down"

    def _view(self, endpoint_id: str, entry: _Entry) -> EndpointView:
        return EndpointView(
            endpoint_id, entry.agency, self._state(entry), entry.interval, entry.last
        )

    def _transition(self, endpoint_id: str, entry: _Entry) -> StateChange | None:
        current = self._state(entry)
        if current == entry.reported:
            return None
        change = StateChange(endpoint_id, entry.reported, current, entry.last)
        entry.reported = current
        return change
