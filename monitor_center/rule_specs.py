"""Config rules → the pure `RuleSpec` the alert rules and engine work with.

The config speaks YAML (durations, optional keys, kind-specific models); the rules
speak seconds and frozen dataclasses. This is the one place that translates.
"""

from __future__ import annotations

from alerts.rules import (
    AvailabilityParams,
    BurnWindow,
    EndpointDownParams,
    KpiForecastParams,
    KpiMinParams,
    LatencyParams,
    NoDataParams,
    RuleParams,
    RuleSpec,
    Selector,
    SubjectType,
    VolumeDropParams,
)
from alerts.rules import subject_type as _subject_type
from monitor_center.config.rules import (
    AvailabilityRule,
    EndpointDownRule,
    KpiForecastRule,
    KpiMinRule,
    LatencyRule,
    NoDataRule,
    Rule,
    RuleMatch,
    VolumeDropRule,
)

__all__ = ["rule_spec", "rule_specs", "selector", "subject_type"]


def subject_type(kind: str, params: RuleParams | None = None) -> SubjectType:
    """Whether a rule of `kind` watches endpoints or series (``no_data``: its params say)."""
    return _subject_type(kind, params)


def selector(match: RuleMatch) -> Selector:
    """The pure selector for a rule's ``match``."""
    return Selector(
        ids=tuple(match.id), agencies=tuple(match.agency), agency_kinds=tuple(match.agency_kind)
    )


def _availability(rule: AvailabilityRule) -> AvailabilityParams:
    if rule.windows is None:
        return AvailabilityParams(objective=rule.objective)
    windows = tuple(
        BurnWindow(w.long.total_seconds(), w.short.total_seconds(), w.factor) for w in rule.windows
    )
    return AvailabilityParams(objective=rule.objective, windows=windows)


def _params(rule: Rule) -> RuleParams:
    match rule:
        case EndpointDownRule():
            return EndpointDownParams(failures=rule.failures, recoveries=rule.recoveries)
        case LatencyRule():
            return LatencyParams(
                threshold_ms=rule.threshold.total_seconds() * 1000,
                percentile=rule.percentile,
                window=rule.window.total_seconds(),
                min_samples=rule.min_samples,
            )
        case AvailabilityRule():
            return _availability(rule)
        case VolumeDropRule():
            # `counter` is the series' kind; evaluate_periodic sets it per series.
            return VolumeDropParams(
                drop_percent=rule.drop_percent,
                window=rule.window.total_seconds(),
                baseline_offset=rule.baseline.total_seconds(),
                min_volume=rule.min_volume,
            )
        case KpiMinRule():
            return KpiMinParams(target=rule.target, direction=rule.direction)
        case KpiForecastRule():
            return KpiForecastParams(
                deadline=rule.deadline,
                window=rule.window.total_seconds(),
                min_samples=rule.min_samples,
                target=rule.target,
                direction=rule.direction,
            )
        case NoDataRule():
            return NoDataParams(intervals=rule.intervals, subject=rule.subject)


def rule_spec(rule: Rule) -> RuleSpec:
    """The pure spec of one validated config rule (durations in seconds)."""
    return RuleSpec(
        id=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        selector=selector(rule.match),
        for_seconds=rule.for_.total_seconds(),
        params=_params(rule),
    )


def rule_specs(rules: list[Rule]) -> list[RuleSpec]:
    """`rule_spec` for each rule, in config order."""
    return [rule_spec(rule) for rule in rules]
