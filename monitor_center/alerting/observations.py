"""The periodic rules' verdicts, turned into engine observations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerts.model import Observation
from alerts.rules import RuleSpec
from monitor_center.alerting.periodic import SeriesMeta, evaluate_periodic
from monitor_center.alerting.policy import endpoint_subjects, series_subjects
from monitor_center.config import Config
from monitor_center.db.repositories.rule_inputs import RuleInputs


def series_meta(config: Config) -> dict[str, SeriesMeta]:
    return {
        s.id: SeriesMeta(
            unit=s.unit,
            target=s.target,
            direction=s.target_direction,
            interval=s.interval.total_seconds(),
            counter=s.kind == "counter",
        )
        for s in config.series
    }


async def periodic_observations(
    specs: Sequence[RuleSpec], config: Config, inputs: RuleInputs, now: datetime, since: datetime
) -> list[Observation]:
    """One observation per (periodic rule, matched subject) at ``now``."""
    if all(spec.kind == "endpoint_down" for spec in specs):
        return []
    subjects = [*endpoint_subjects(config).values(), *series_subjects(config).values()]
    evaluations = await evaluate_periodic(
        specs,
        subjects,
        series_meta(config),
        inputs,
        now,
        since,
        endpoint_intervals={e.id: e.interval.total_seconds() for e in config.endpoints},
    )
    return [
        Observation(
            rule=spec.id,
            rule_kind=spec.kind,
            subject=subject.id,
            severity=spec.severity,
            condition="active" if verdict.active else "ok",
            time=now,
            summary=verdict.summary,
            value=verdict.value,
            subject_type=subject.type,
            agency=subject.agency,
            agency_kind=subject.agency_kind,
            for_seconds=spec.for_seconds,
        )
        for spec, subject, verdict in evaluations
    ]
