"""Typed alert rules in the config: defaults per kind, precise errors, references, specs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from alerts.rules import (
    AvailabilityParams,
    BurnWindow,
    EndpointDownParams,
    KpiForecastParams,
    KpiMinParams,
    LatencyParams,
    NoDataParams,
    Selector,
    VolumeDropParams,
)
from monitor_center.config import Config, ConfigError, parse_config_text
from monitor_center.config.rules import (
    AvailabilityRule,
    EndpointDownRule,
    KpiForecastRule,
    KpiMinRule,
    LatencyRule,
    NoDataRule,
    RuleMatch,
    VolumeDropRule,
)
from monitor_center.rule_specs import rule_spec, subject_type

# Eleven lines, so a rule list appended below starts at line 12 (its first rule at 13).
FLEET = """\
agencies:
  - {id: ngsp, name: NGSP, kind: platform}
  - {id: hanoi, name: Ha Noi, kind: province}
endpoints:
  - {id: ngsp-portal, agency: ngsp, url: "https://ngsp.gov.vn/"}
  - {id: hanoi-portal, agency: hanoi, url: "https://hanoi.gov.vn/", interval: 30s}
series:
  - {id: hanoi-dossiers, agency: hanoi, kind: counter, source: {type: json, url: "https://hanoi.gov.vn/s", path: "$.n"}}
  - {id: hanoi-level4, agency: hanoi, kind: gauge, unit: "%", target: 30, source: {type: json, url: "https://hanoi.gov.vn/k", path: "$.k"}}
  - {id: ngsp-calls, agency: ngsp, kind: gauge, source: {type: json, url: "https://ngsp.gov.vn/k", path: "$.k"}}
center: {name: Test}
"""  # noqa: E501


def load(rules: str) -> Config:
    return parse_config_text(FLEET + "rules:\n" + dedent(rules), filename="fleet.yaml", env={})


def issues(rules: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(rules)
    return [str(issue) for issue in caught.value.issues]


# --- kinds and their defaults -------------------------------------------------------


def test_an_endpoint_down_rule_defaults_to_three_failures_one_recovery_and_warning() -> None:
    [rule] = load("  - {id: down, kind: endpoint_down}\n").rules
    assert rule == EndpointDownRule(id="down", kind="endpoint_down", failures=3, recoveries=1)
    assert (rule.severity, rule.for_, rule.match) == ("warning", timedelta(0), RuleMatch())


def test_the_demo_fleets_down_rule_loads() -> None:
    # The rule monitor_center.demo.fleet_config writes into the demo config.
    [rule] = load(
        "  - {id: endpoint-down, kind: endpoint_down, severity: critical, failures: 2}\n"
    ).rules
    assert isinstance(rule, EndpointDownRule)
    assert (rule.severity, rule.failures, rule.recoveries) == ("critical", 2, 1)


def test_a_latency_rule_takes_a_duration_or_milliseconds_and_has_defaults() -> None:
    slow, slower = load("""\
          - {id: slow, kind: latency, threshold: 800ms}
          - {id: slower, kind: latency, threshold: 1500, percentile: 99, window: 10m}
        """).rules
    assert isinstance(slow, LatencyRule) and isinstance(slower, LatencyRule)
    assert (slow.threshold, slow.percentile, slow.window, slow.min_samples) == (
        timedelta(milliseconds=800),
        95,
        timedelta(minutes=5),
        3,
    )
    assert (slower.threshold, slower.percentile) == (timedelta(seconds=1.5), 99)


def test_an_availability_rule_defaults_to_the_fast_and_slow_burn_windows() -> None:
    [rule] = load("  - {id: slo, kind: availability, objective: 99.5}\n").rules
    assert isinstance(rule, AvailabilityRule)
    assert (rule.objective, rule.windows) == (99.5, None)
    assert rule_spec(rule).params == AvailabilityParams(99.5)


def test_availability_windows_can_be_configured() -> None:
    [rule] = load("""\
          - id: slo
            kind: availability
            objective: 99.9
            windows: [{long: 2h, short: 10m, factor: 10}]
        """).rules
    assert rule_spec(rule).params == AvailabilityParams(99.9, (BurnWindow(7200, 600, 10),))


def test_a_volume_drop_rule_defaults_to_an_hour_against_the_same_hour_last_week() -> None:
    [rule] = load(
        "  - {id: drop, kind: volume_drop, drop_percent: 40, series: hanoi-dossiers}\n"
    ).rules
    assert isinstance(rule, VolumeDropRule)
    assert (rule.window, rule.baseline, rule.min_volume) == (
        timedelta(hours=1),
        timedelta(days=7),
        0,
    )
    assert rule.match.id == ["hanoi-dossiers"]


def test_kpi_rules_take_the_series_target_and_direction_unless_given() -> None:
    low, trend = load("""\
          - {id: low, kind: kpi_min, match: {agency: hanoi}}
          - {id: trend, kind: kpi_forecast, deadline: 2026-12-31, target: 50, direction: max}
        """).rules
    assert isinstance(low, KpiMinRule) and isinstance(trend, KpiForecastRule)
    assert (low.target, low.direction) == (None, None)
    assert (trend.target, trend.direction, trend.window, trend.min_samples) == (
        50,
        "max",
        timedelta(days=30),
        5,
    )


def test_a_forecast_deadline_date_is_midnight_in_the_centers_time_zone() -> None:
    [trend] = load("  - {id: trend, kind: kpi_forecast, deadline: 2026-12-31, target: 50}\n").rules
    assert isinstance(trend, KpiForecastRule)
    assert trend.deadline == datetime(2026, 12, 31, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_a_forecast_deadline_with_an_offset_keeps_it() -> None:
    [trend] = load(
        "  - {id: t, kind: kpi_forecast, deadline: 2026-12-31T12:00:00Z, target: 5}\n"
    ).rules
    assert isinstance(trend, KpiForecastRule)
    assert trend.deadline == datetime(2026, 12, 31, 12, tzinfo=UTC)


def test_a_no_data_rule_watches_series_three_intervals_by_default() -> None:
    stale, dark = load("""\
          - {id: stale, kind: no_data}
          - {id: dark, kind: no_data, subject: endpoint, intervals: 5, endpoint: ngsp-portal}
        """).rules
    assert isinstance(stale, NoDataRule) and isinstance(dark, NoDataRule)
    assert (stale.intervals, stale.subject_type) == (3, "series")
    assert (dark.intervals, dark.subject_type, dark.match.id) == (5, "endpoint", ["ngsp-portal"])


def test_match_takes_single_values_or_lists_and_globs() -> None:
    [rule] = load("""\
          - id: down
            kind: endpoint_down
            severity: critical
            for: 2m
            match: {id: ["*-portal", ngsp-portal], agency: hanoi, agency_kind: [province]}
        """).rules
    assert rule.match == RuleMatch(
        id=["*-portal", "ngsp-portal"], agency=["hanoi"], agency_kind=["province"]
    )
    assert (rule.severity, rule.for_) == ("critical", timedelta(minutes=2))


# --- errors ------------------------------------------------------------------------


def test_an_unknown_key_is_named_with_its_line_and_the_keys_the_kind_takes() -> None:
    assert issues("""\
          - id: slow
            kind: latency
            thresold: 800ms
        """) == [
        "fleet.yaml:15: rules[0].thresold: unknown key 'thresold' for a latency rule;"
        " did you mean 'threshold'? (expected one of endpoint, for, id, kind, match,"
        " min_samples, percentile, severity, threshold, window)"
    ]


def test_a_key_of_another_kind_is_unknown_too() -> None:
    [issue] = issues("  - {id: down, kind: endpoint_down, threshold: 800ms}\n")
    assert issue.startswith(
        "fleet.yaml:13: rules[0].threshold: unknown key 'threshold' for a endpoint_down rule"
    )
    assert "failures, for, id, kind, match, recoveries, severity" in issue


def test_the_series_shorthand_is_unknown_on_an_endpoint_rule() -> None:
    [issue] = issues("  - {id: slow, kind: latency, threshold: 1s, series: hanoi-level4}\n")
    assert issue.startswith("fleet.yaml:13: rules[0].series: unknown key 'series'")


@pytest.mark.parametrize(
    ("threshold", "shown"),
    [("fast", "'fast'"), ("0ms", "'0ms'"), ("-5", "-5"), ("[1]", "[1]"), ("yes", "True")],
)
def test_a_bad_latency_threshold_is_explained(threshold: str, shown: str) -> None:
    [issue] = issues(f"  - {{id: slow, kind: latency, threshold: {threshold}}}\n")
    assert issue.startswith("fleet.yaml:13: rules[0].threshold: expected a duration like 800ms")
    assert issue.endswith(f"got {shown}")


def test_a_latency_rule_without_threshold_is_refused() -> None:
    assert issues("  - {id: slow, kind: latency}\n") == [
        "fleet.yaml:13: rules[0].threshold: required key is missing"
    ]


@pytest.mark.parametrize("objective", ["0", "100", "150", "-1"])
def test_an_availability_objective_must_be_strictly_between_0_and_100(objective: str) -> None:
    [issue] = issues(f"  - {{id: slo, kind: availability, objective: {objective}}}\n")
    assert issue.startswith(
        "fleet.yaml:13: rules[0].objective: expected a percentage above 0 (100 excluded)"
    )


def test_a_burn_factor_that_can_never_fire_is_pointed_at() -> None:
    [issue] = issues("""\
          - id: slo
            kind: availability
            objective: 90
            windows:
              - {long: 1h, short: 5m, factor: 14.4}
        """)
    assert issue.startswith("fleet.yaml:17: rules[0].windows[0].factor: a burn factor of 14.4")


def test_a_burn_window_needs_short_below_long() -> None:
    assert issues("""\
          - id: slo
            kind: availability
            objective: 99
            windows: [{long: 5m, short: 1h, factor: 2}]
        """) == [
        "fleet.yaml:16: rules[0].windows[0]: 'short' (1h) must be shorter than 'long' (5m)"
    ]


def test_a_volume_drop_needs_a_drop_percent_and_a_baseline_past_the_window() -> None:
    assert issues("""\
          - {id: a, kind: volume_drop}
          - {id: b, kind: volume_drop, drop_percent: 120}
          - {id: c, kind: volume_drop, drop_percent: 50, window: 2h, baseline: 1h}
        """) == [
        "fleet.yaml:13: rules[0].drop_percent: required key is missing",
        "fleet.yaml:14: rules[1].drop_percent: expected a percentage above 0 (100 included),"
        " e.g. 50; got 120",
        "fleet.yaml:15: rules[2].baseline: 'baseline' (1h) must be at least 'window' (2h)"
        " so the two windows do not overlap",
    ]


def test_an_unknown_kind_lists_the_kinds() -> None:
    [issue] = issues("  - {id: x, kind: latncy}\n")
    assert issue.startswith("fleet.yaml:13: rules[0]: unknown kind 'latncy'; expected one of")
    assert "'kpi_forecast'" in issue


def test_a_bad_glob_and_a_doubled_id_are_refused() -> None:
    assert issues("""\
          - {id: a, kind: endpoint_down, match: {id: "Portal *"}}
          - {id: b, kind: endpoint_down, endpoint: ngsp-portal, match: {id: hanoi-portal}}
        """) == [
        "fleet.yaml:13: rules[0].match.id[0]: expected an id or a glob like 'hanoi-*',"
        " got 'Portal *'",
        "fleet.yaml:14: rules[1].endpoint: give the ids either in 'endpoint' or in 'match.id',"
        " not both",
    ]


# --- references --------------------------------------------------------------------


def test_an_unknown_endpoint_or_agency_in_a_match_is_named_with_file_and_line() -> None:
    assert issues("""\
          - id: down
            kind: endpoint_down
            match: {id: [ngsp-portl, "hanoi-*"], agency: hanoii}
        """) == [
        "fleet.yaml:15: rules[0].match.id[0]: unknown endpoint 'ngsp-portl';"
        " did you mean 'ngsp-portal'?",
        "fleet.yaml:15: rules[0].match.agency: unknown agency 'hanoii'; did you mean 'hanoi'?",
    ]


def test_series_rules_reference_series_and_endpoint_rules_endpoints() -> None:
    assert issues("""\
          - {id: a, kind: volume_drop, drop_percent: 50, series: ngsp-portal}
          - {id: b, kind: no_data, subject: endpoint, match: {id: hanoi-dossiers}}
          - {id: c, kind: no_data, endpoint: ngsp-portal, subject: endpoint}
        """) == [
        "fleet.yaml:13: rules[0].series: unknown series 'ngsp-portal'; did you mean 'ngsp-calls'?",
        "fleet.yaml:14: rules[1].match.id: unknown endpoint 'hanoi-dossiers';"
        " did you mean 'hanoi-portal'?",
    ]


def test_a_kpi_rule_without_target_needs_a_matched_series_with_one() -> None:
    load("  - {id: ok, kind: kpi_min, match: {agency: hanoi}}\n")
    assert issues("""\
          - {id: ngsp-low, kind: kpi_min, match: {agency_kind: platform}}
          - {id: trend, kind: kpi_forecast, deadline: 2027-01-01, series: hanoi-dossiers}
        """) == [
        "fleet.yaml:13: rules[0]: set 'target': none of the series this kpi_min rule matches"
        " has a target of its own",
        "fleet.yaml:14: rules[1]: set 'target': none of the series this kpi_forecast rule"
        " matches has a target of its own",
    ]


# --- specs -------------------------------------------------------------------------


def test_each_kind_becomes_a_spec_with_seconds_and_its_params() -> None:
    config = load("""\
          - {id: down, kind: endpoint_down, failures: 2, for: 30s, severity: critical}
          - {id: slow, kind: latency, threshold: 1.2s, window: 10m, match: {agency: ngsp}}
          - {id: drop, kind: volume_drop, drop_percent: 40, baseline: 1d, min_volume: 50}
          - {id: low, kind: kpi_min, target: 25}
          - {id: trend, kind: kpi_forecast, deadline: 2027-01-01T00:00:00Z, window: 7d}
          - {id: dark, kind: no_data, subject: endpoint, intervals: 4}
        """)
    specs = [rule_spec(rule) for rule in config.rules]
    down = specs[0]
    assert (down.id, down.kind, down.severity, down.for_seconds) == (
        "down",
        "endpoint_down",
        "critical",
        30,
    )
    assert [s.params for s in specs] == [
        EndpointDownParams(failures=2, recoveries=1),
        LatencyParams(threshold_ms=1200, percentile=95, window=600, min_samples=3),
        VolumeDropParams(drop_percent=40, window=3600, baseline_offset=86400, min_volume=50),
        KpiMinParams(target=25),
        KpiForecastParams(deadline=datetime(2027, 1, 1, tzinfo=UTC), window=604800),
        NoDataParams(intervals=4, subject="endpoint"),
    ]
    assert specs[1].selector == Selector(agencies=("ngsp",))
    assert [s.subject_type for s in specs] == [
        "endpoint",
        "endpoint",
        "series",
        "series",
        "series",
        "endpoint",
    ]


def test_the_subject_type_of_a_kind_without_params() -> None:
    assert subject_type("availability") == "endpoint"
    assert subject_type("kpi_min") == "series"
