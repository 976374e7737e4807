"""Periodic rule evaluation: every rule except ``endpoint_down`` over its subjects.

``endpoint_down`` runs on each probe result as it arrives (``alerts.rules.step``);
the other kinds look at windows of data and run on a timer. For each rule this
module asks `RuleInputs` for the data of all matched subjects in one query, then
calls the kind's pure evaluator once per subject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.rules import (
    AvailabilityParams,
    Direction,
    KpiForecastParams,
    KpiMinParams,
    LatencyParams,
    NoDataParams,
    RuleSpec,
    SubjectInfo,
    Verdict,
    VolumeDropParams,
    evaluate_availability,
    evaluate_kpi_forecast,
    evaluate_kpi_min,
    evaluate_latency,
    evaluate_no_data,
    evaluate_volume_drop,
)
from monitor_center.db.repositories.rule_inputs import RuleInputs

DEFAULT_INTERVAL = 60.0
"""Seconds between samples assumed for a subject whose interval was not given
(the config's default interval)."""

Evaluation = tuple[RuleSpec, SubjectInfo, Verdict]
_Pairs = list[tuple[SubjectInfo, Verdict]]


@dataclass(frozen=True, slots=True)
class SeriesMeta:
    """What the rules need to know about a series besides its samples.

    ``interval`` is the collection interval in seconds, ``counter`` False for a gauge,
    ``target``/``direction`` the series' own KPI target (used when a rule has none).
    """

    unit: str = ""
    target: float | None = None
    direction: Direction = "min"
    interval: float = DEFAULT_INTERVAL
    counter: bool = True


@dataclass(frozen=True, slots=True)
class _Context:
    inputs: RuleInputs
    now: datetime
    since: datetime
    series_meta: Mapping[str, SeriesMeta]
    endpoint_intervals: Mapping[str, float] = field(default_factory=dict)

    def meta(self, series_id: str) -> SeriesMeta:
        return self.series_meta.get(series_id) or SeriesMeta()

    def ago(self, seconds: float) -> datetime:
        return self.now - timedelta(seconds=seconds)


async def evaluate_periodic(
    specs: Sequence[RuleSpec],
    subjects: Sequence[SubjectInfo],
    series_meta: Mapping[str, SeriesMeta],
    inputs: RuleInputs,
    now: datetime,
    since: datetime,
    *,
    endpoint_intervals: Mapping[str, float] | None = None,
) -> list[Evaluation]:
    """A verdict for every periodic rule and every subject it matches, at `now`.

    `subjects` lists endpoints and series together (a rule takes those of its subject
    type). `series_meta` maps series ids to their unit, target, interval and kind;
    `endpoint_intervals` maps endpoint ids to their probe interval in seconds (for
    ``no_data`` on endpoints). Missing entries fall back to `SeriesMeta()` and
    `DEFAULT_INTERVAL`. `since` is when evaluation started (``no_data`` waits from
    then for subjects never seen). KPI rules skip series with no target at all.
    """
    context = _Context(inputs, now, since, series_meta, endpoint_intervals or {})
    results: list[Evaluation] = []
    for spec in specs:
        if spec.kind == "endpoint_down":
            continue
        matched = [s for s in subjects if s.type == spec.subject_type and spec.selector.matches(s)]
        if matched:
            pairs = await _evaluate(spec, matched, context)
            results.extend((spec, subject, verdict) for subject, verdict in pairs)
    return results


async def _evaluate(spec: RuleSpec, matched: list[SubjectInfo], ctx: _Context) -> _Pairs:
    ids = [subject.id for subject in matched]
    match spec.params:
        case LatencyParams() as p:
            latencies = await ctx.inputs.latencies(ids, ctx.ago(p.window))
            return [(s, evaluate_latency(latencies.get(s.id, []), p)) for s in matched]
        case AvailabilityParams() as p:
            counts = await ctx.inputs.window_counts(ids, ctx.now, p.window_lengths())
            return [(s, evaluate_availability(counts.get(s.id, {}), p)) for s in matched]
        case VolumeDropParams() as p:
            return await _volume_drop(p, matched, ctx)
        case KpiMinParams() as p:
            return await _kpi_min(p, matched, ctx)
        case KpiForecastParams() as p:
            return await _kpi_forecast(p, matched, ctx)
        case NoDataParams() as p:
            return await _no_data(p, matched, ctx)
    return []


async def _volume_drop(p: VolumeDropParams, matched: list[SubjectInfo], ctx: _Context) -> _Pairs:
    ids = [s.id for s in matched]
    current = await ctx.inputs.samples(ids, ctx.ago(p.window), ctx.now)
    shifted = ctx.ago(p.baseline_offset)
    baseline = await ctx.inputs.samples(ids, shifted - timedelta(seconds=p.window), shifted)
    pairs: _Pairs = []
    for s in matched:
        # Whether resets count is a property of the series, not of the rule.
        params = replace(p, counter=ctx.meta(s.id).counter)
        verdict = evaluate_volume_drop(current.get(s.id, []), baseline.get(s.id, []), params)
        pairs.append((s, verdict))
    return pairs


def _target(
    target: float | None, direction: Direction | None, meta: SeriesMeta
) -> tuple[float, Direction] | None:
    """The rule's target and direction, else the series' own; None without any target."""
    chosen = target if target is not None else meta.target
    return None if chosen is None else (chosen, direction or meta.direction)


async def _kpi_min(p: KpiMinParams, matched: list[SubjectInfo], ctx: _Context) -> _Pairs:
    latest = await ctx.inputs.latest_samples([s.id for s in matched])
    pairs: _Pairs = []
    for s in matched:
        meta = ctx.meta(s.id)
        goal = _target(p.target, p.direction, meta)
        if goal is not None:
            verdict = evaluate_kpi_min(latest.get(s.id), *goal, meta.unit, label=s.id)
            pairs.append((s, verdict))
    return pairs


async def _kpi_forecast(p: KpiForecastParams, matched: list[SubjectInfo], ctx: _Context) -> _Pairs:
    samples = await ctx.inputs.samples([s.id for s in matched], ctx.ago(p.window), ctx.now)
    pairs: _Pairs = []
    for s in matched:
        meta = ctx.meta(s.id)
        goal = _target(p.target, p.direction, meta)
        if goal is None:
            continue
        target, direction = goal
        verdict = evaluate_kpi_forecast(
            samples.get(s.id, []),
            target,
            direction,
            p.deadline,
            meta.unit,
            min_samples=p.min_samples,
            label=s.id,
        )
        pairs.append((s, verdict))
    return pairs


async def _no_data(p: NoDataParams, matched: list[SubjectInfo], ctx: _Context) -> _Pairs:
    ids = [s.id for s in matched]
    if p.subject == "endpoint":
        last = await ctx.inputs.last_probe_times(ids)
        intervals = {i: ctx.endpoint_intervals.get(i, DEFAULT_INTERVAL) for i in ids}
    else:
        last = await ctx.inputs.last_sample_times(ids)
        intervals = {i: ctx.meta(i).interval for i in ids}
    return [
        (s, evaluate_no_data(last.get(s.id), ctx.now, intervals[s.id], p, ctx.since))
        for s in matched
    ]
