"""``endpoint_down`` runs on every probe result as it arrives, not at the next sweep."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from alerts.model import Alert, Condition, Observation
from alerts.rules import RuleSpec, SubjectInfo
from alerts.rules.endpoint_down import DownState, EndpointDownParams, step, summary
from core.results import ProbeResult


class EndpointDownTracker:
    """Consecutive-failure counting per (rule, endpoint); yields engine observations."""

    def __init__(self, specs: Sequence[RuleSpec], endpoints: Mapping[str, SubjectInfo]) -> None:
        self._specs = [s for s in specs if s.kind == "endpoint_down"]
        self._endpoints = dict(endpoints)
        self._states: dict[tuple[str, str], DownState] = {}
        self._matching: dict[str, list[RuleSpec]] = {}

    def resume(self, open_alerts: Iterable[Alert]) -> None:
        """After a restart a firing alert's endpoint counts as down until it recovers."""
        for alert in open_alerts:
            if alert.rule_kind == "endpoint_down" and alert.state == "firing":
                self._states[(alert.rule, alert.subject)] = DownState(active=True)

    def observe(self, result: ProbeResult) -> list[Observation]:
        subject = self._endpoints.get(result.endpoint_id)
        if subject is None:
            return []
        out = []
        for spec in self._rules_for(subject):
            key = (spec.id, subject.id)
            params = spec.params
            assert isinstance(params, EndpointDownParams)
            state = step(self._states.get(key, DownState()), result.ok, result.reason, params)
            self._states[key] = state
            condition: Condition = (
                "active" if state.active else "pending" if state.pending else "ok"
            )
            out.append(
                Observation(
                    rule=spec.id,
                    rule_kind=spec.kind,
                    subject=subject.id,
                    severity=spec.severity,
                    condition=condition,
                    time=result.time,
                    summary=summary(subject.id, state),
                    value=float(state.failures),
                    subject_type="endpoint",
                    agency=subject.agency,
                    agency_kind=subject.agency_kind,
                )
            )
        return out

    def _rules_for(self, subject: SubjectInfo) -> list[RuleSpec]:
        found = self._matching.get(subject.id)
        if found is None:
            found = [s for s in self._specs if s.selector.matches(subject)]
            self._matching[subject.id] = found
        return found
