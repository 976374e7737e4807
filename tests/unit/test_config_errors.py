"""Every broken configuration gives a clear error naming file, line and key path."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from textwrap import dedent

import pytest

from monitor_center.config import ConfigError, ConfigIssue, load_config, parse_config_text

# Four lines, so the snippets appended below start at line 5.
FLEET = """\
agencies:
  - id: ngsp
    name: NGSP
    kind: platform
"""

GOOD_TOKEN = "a-perfectly-long-token-value"


def issues_of(text: str, env: Mapping[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, filename="fleet.yaml", env=env or {})
    return [str(issue) for issue in caught.value.issues]


def file_issues(path: Path, env: Mapping[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return [str(issue) for issue in caught.value.issues]


def endpoint(**fields: str) -> str:
    """An endpoints section (lines 5..) with one endpoint; `fields` override."""
    values = {"id": "portal", "agency": "ngsp", "url": "https://dichvucong.gov.vn/", **fields}
    lines = [f"    {key}: {value}" for key, value in values.items()]
    return "endpoints:\n" + "\n".join(lines).replace("    ", "  - ", 1) + "\n"


# --- values ------------------------------------------------------------------


def test_it_names_the_file_line_and_path_of_a_bad_duration() -> None:
    assert issues_of(FLEET + endpoint(interval="ten")) == [
        "fleet.yaml:9: endpoints[0].interval: expected a duration like 10s, 5m or 1h, got 'ten'"
    ]


def test_it_rejects_a_zero_interval() -> None:
    assert issues_of(FLEET + endpoint(interval="0s")) == [
        "fleet.yaml:9: endpoints[0].interval: expected a duration greater than zero"
    ]


@pytest.mark.parametrize(
    "url", ["ftp://ngsp.gov.vn/", "ngsp.gov.vn/health", "http://", "file:///etc/passwd"]
)
def test_it_rejects_a_url_that_is_not_http_or_https(url: str) -> None:
    assert issues_of(FLEET + endpoint(url=url)) == [
        f"fleet.yaml:8: endpoints[0].url: expected an http:// or https:// URL, got '{url}'"
    ]


def test_it_rejects_a_timeout_longer_than_the_interval() -> None:
    assert issues_of(FLEET + endpoint(interval="5s", timeout="10s")) == [
        "fleet.yaml:10: endpoints[0].timeout: timeout (10s) must not exceed interval (5s)"
    ]


def test_it_rejects_equals_without_json_path() -> None:
    assert issues_of(FLEET + endpoint(expect="{equals: UP}")) == [
        "fleet.yaml:9: endpoints[0].expect.equals: "
        "'equals' needs a 'json_path' that selects the value to compare"
    ]


def test_it_rejects_a_json_path_that_does_not_compile() -> None:
    [issue] = issues_of(FLEET + endpoint(expect='{json_path: "$.data[", equals: 1}'))
    assert issue.startswith(
        "fleet.yaml:9: endpoints[0].expect.json_path: invalid JSONPath '$.data['"
    )


def test_it_rejects_an_enum_value_and_lists_the_allowed_ones() -> None:
    text = FLEET.replace("kind: platform", "kind: agency")
    assert issues_of(text) == [
        "fleet.yaml:4: agencies[0].kind: expected 'platform', 'ministry' or 'province', "
        "got 'agency'"
    ]


def test_it_rejects_an_id_that_is_not_a_slug() -> None:
    [issue] = issues_of(FLEET.replace("id: ngsp", "id: Hà Nội"))
    assert issue.startswith("fleet.yaml:2: agencies[0].id: expected an id made of lowercase")


def test_it_reports_a_required_key_that_is_missing() -> None:
    assert issues_of(FLEET + "endpoints:\n  - id: portal\n    agency: ngsp\n") == [
        "fleet.yaml:6: endpoints[0].url: required key is missing"
    ]


def test_it_reports_a_date_yaml_cannot_read() -> None:
    text = FLEET + "maintenance:\n  - agency: ngsp\n    start: 2025-13-45\n    end: 2025-06-01\n"
    [issue] = issues_of(text)
    assert issue.startswith("fleet.yaml:7: maintenance[0].start: cannot read value '2025-13-45'")


def test_it_rejects_an_unknown_time_zone() -> None:
    assert issues_of("center:\n  timezone: Asia/Hanoi_City\n") == [
        "fleet.yaml:2: center.timezone: unknown time zone 'Asia/Hanoi_City'; "
        "expected an IANA name like Asia/Ho_Chi_Minh"
    ]


def test_an_allowed_origin_is_scheme_host_and_port_only() -> None:
    [issue] = issues_of("center:\n  allowed_origins: [https://monitor.gov.vn/wall]\n")
    assert issue.startswith("fleet.yaml:2: center.allowed_origins[0]: expected an origin like")


# --- ${VAR} --------------------------------------------------------------------


def test_it_names_the_unset_variable_with_file_line_and_path() -> None:
    # Exactly one error: no follow-up "bad duration" for the unexpanded text.
    assert issues_of(FLEET + endpoint(interval="${PROBE_INTERVAL}")) == [
        "fleet.yaml:9: endpoints[0].interval: environment variable 'PROBE_INTERVAL' is not set"
    ]


def test_it_reports_a_malformed_variable_reference() -> None:
    [issue] = issues_of(FLEET + endpoint(url="https://x.gov.vn/${bad-name}"))
    assert issue.startswith("fleet.yaml:8: endpoints[0].url: malformed '${'")


def test_load_config_ignores_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_INTERVAL", "30s")
    [issue] = issues_of(FLEET + endpoint(interval="${PROBE_INTERVAL}"), env={})
    assert "'PROBE_INTERVAL' is not set" in issue


# --- references between objects ----------------------------------------------


def test_it_rejects_an_endpoint_of_an_unknown_agency() -> None:
    assert issues_of(FLEET + endpoint(agency="ngps")) == [
        "fleet.yaml:7: endpoints[0].agency: unknown agency 'ngps'; did you mean 'ngsp'?"
    ]


def test_it_rejects_a_series_of_an_unknown_agency() -> None:
    text = FLEET + dedent("""\
        series:
          - id: online-rate
            agency: danang
            kind: gauge
            source: {type: json, url: https://kpi.gov.vn/, path: $.rate}
        """)
    assert issues_of(text) == ["fleet.yaml:7: series[0].agency: unknown agency 'danang'"]


def test_it_rejects_depends_on_an_unknown_agency() -> None:
    text = FLEET + "  - {id: hanoi, name: Ha Noi, kind: province, depends_on: [ngsp, lgsp]}\n"
    assert issues_of(text) == [
        "fleet.yaml:5: agencies[1].depends_on[1]: unknown agency 'lgsp'; did you mean 'ngsp'?"
    ]


def test_it_reports_a_dependency_cycle_among_agencies() -> None:
    text = dedent("""\
        agencies:
          - {id: ngsp, name: NGSP, kind: platform, depends_on: [hanoi]}
          - {id: hanoi, name: Ha Noi, kind: province, depends_on: [lgsp]}
          - {id: lgsp, name: LGSP, kind: platform, depends_on: [ngsp]}
          - {id: mof, name: MOF, kind: ministry, depends_on: [mof]}
        """)
    assert issues_of(text) == [
        "fleet.yaml:3: agencies[1].depends_on: dependency cycle: hanoi -> lgsp -> ngsp -> hanoi",
        "fleet.yaml:5: agencies[3].depends_on: dependency cycle: mof -> mof",
    ]


_ITEMS = {
    "agencies": "{id: same, name: X, kind: ministry}",
    "endpoints": "{id: same, agency: ngsp, url: https://a.gov.vn/}",
    "series": "{id: same, agency: ngsp, kind: gauge, "
    "source: {type: prometheus, url: https://p.gov.vn, metric: up}}",
    "rules": "{id: same, kind: endpoint_down}",
    "channels": "{id: same, kind: slack, url: https://hooks.slack.com/x}",
}


@pytest.mark.parametrize("key", list(_ITEMS))
def test_it_names_both_lines_of_a_duplicate_id(key: str) -> None:
    item = _ITEMS[key]
    if key == "agencies":
        text = FLEET + f"  - {item}\n  - {item}\n"
    else:
        text = FLEET + f"{key}:\n  - {item}\n  - {item}\n"
    # FLEET already holds one agency, so the duplicate agencies are items 1 and 2.
    first, second, index = (5, 6, 2) if key == "agencies" else (6, 7, 1)
    label = {"agencies": "agency", "series": "series"}.get(key, key.removesuffix("s"))
    assert issues_of(text) == [
        f"fleet.yaml:{second}: {key}[{index}].id: duplicate {label} id 'same'; "
        f"first defined at fleet.yaml:{first}"
    ]


def test_it_rejects_an_unknown_channel_in_a_route() -> None:
    text = dedent("""\
        channels:
          - {id: ops-webhook, kind: webhook, url: https://alerts.gov.vn/hook}
        routes:
          - channels: [ops-webhook, ops-email]
            escalate_after: 15m
            escalate_to: [ops-phone]
        """)
    assert issues_of(text) == [
        "fleet.yaml:4: routes[0].channels[1]: unknown channel 'ops-email'",
        "fleet.yaml:6: routes[0].escalate_to[0]: unknown channel 'ops-phone'; "
        "did you mean 'ops-webhook'?",
    ]


def test_a_route_match_naming_an_unknown_agency_or_rule_is_rejected() -> None:
    text = FLEET + dedent("""\
        channels: [{id: ops, kind: slack, url: https://hooks.slack.com/x}]
        routes:
          - match: {agency: hanoi, rule: portal-down}
            channels: [ops]
        """)
    assert issues_of(text) == [
        "fleet.yaml:7: routes[0].match.agency: unknown agency 'hanoi'",
        "fleet.yaml:7: routes[0].match.rule: unknown rule 'portal-down' (no rules are defined)",
    ]


def test_escalation_needs_both_a_delay_and_channels() -> None:
    text = "channels: [{id: ops, kind: slack, url: https://hooks.slack.com/x}]\n"
    text += "routes:\n  - channels: [ops]\n    escalate_after: 15m\n"
    assert issues_of(text) == [
        "fleet.yaml:3: routes[0]: 'escalate_after' needs 'escalate_to' "
        "(the channels to escalate to)"
    ]


def test_a_route_needs_at_least_one_channel() -> None:
    assert issues_of("routes:\n  - channels: []\n") == [
        "fleet.yaml:2: routes[0].channels: a route needs at least one channel"
    ]


def test_a_maintenance_window_must_end_after_it_starts_and_name_a_target() -> None:
    text = FLEET + dedent("""\
        maintenance:
          - {agency: ngsp, start: 2025-06-01T03:00:00, end: 2025-06-01T01:00:00}
          - {start: 2025-06-01T01:00:00, end: 2025-06-01T03:00:00}
          - {endpoint: portal, start: 2025-06-01T01:00:00, end: 2025-06-01T03:00:00}
        """)
    assert issues_of(text) == [
        "fleet.yaml:6: maintenance[0]: 'end' must be after 'start'",
        "fleet.yaml:7: maintenance[1]: a maintenance window needs an 'agency' or an 'endpoint'",
        "fleet.yaml:8: maintenance[2].endpoint: unknown endpoint 'portal' "
        "(no endpoints are defined)",
    ]


# --- secrets and channels -----------------------------------------------------


def test_it_rejects_a_short_token_and_says_how_long_it_must_be() -> None:
    text = "auth:\n  tokens:\n    - {name: wall, token: hunter2, role: viewer}\n"
    [issue] = issues_of(text)
    assert issue == (
        "fleet.yaml:3: auth.tokens[0].token: "
        "a token must be at least 16 characters long (this one has 7)"
    )
    assert "hunter2" not in issue


def test_duplicate_token_names_and_values_are_reported_without_the_value() -> None:
    text = dedent(f"""\
        auth:
          tokens:
            - {{name: wall, token: {GOOD_TOKEN}, role: viewer}}
            - {{name: wall, token: {GOOD_TOKEN}, role: admin}}
        """)
    issues = issues_of(text)
    assert issues == [
        "fleet.yaml:4: auth.tokens[1].name: duplicate token name 'wall'; "
        "first defined at fleet.yaml:3",
        "fleet.yaml:4: auth.tokens[1].token: this token value is already used at "
        "fleet.yaml:3; tokens must be unique",
    ]
    assert not any(GOOD_TOKEN in issue for issue in issues)


def test_a_token_with_a_bad_role_does_not_reveal_its_value() -> None:
    text = f"auth:\n  tokens:\n    - {{name: wall, token: {GOOD_TOKEN}, role: root}}\n"
    assert issues_of(text) == [
        "fleet.yaml:3: auth.tokens[0].role: expected 'viewer', 'operator' or 'admin', got 'root'"
    ]


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ("{id: c, kind: webhook}", "a webhook channel needs 'url' (missing: url)"),
        ("{id: c, kind: slack}", "a slack channel needs 'url' (missing: url)"),
        ("{id: c, kind: alertmanager}", "an alertmanager channel needs 'url' (missing: url)"),
        (
            "{id: c, kind: email, to: ops@monitor.gov.vn}",
            "an email channel needs 'to' and 'smtp_host' (missing: smtp_host)",
        ),
        (
            "{id: c, kind: telegram, chat_id: -1001234}",
            "a telegram channel needs 'bot_token' and 'chat_id' (missing: bot_token)",
        ),
    ],
)
def test_it_lists_missing_required_channel_fields(channel: str, message: str) -> None:
    assert issues_of(f"channels:\n  - {channel}\n") == [f"fleet.yaml:2: channels[0]: {message}"]


def test_a_webhook_url_must_be_http_or_https() -> None:
    [issue] = issues_of("channels:\n  - {id: c, kind: webhook, url: 'mailto:ops@gov.vn'}\n")
    assert issue.startswith("fleet.yaml:2: channels[0].url: expected an http:// or https:// URL")


def test_a_series_source_needs_a_known_type() -> None:
    text = FLEET + dedent("""\
        series:
          - id: rate
            agency: ngsp
            kind: gauge
            source: {type: csv, url: https://kpi.gov.vn/}
        """)
    assert issues_of(text) == [
        "fleet.yaml:9: series[0].source: unknown type 'csv'; expected one of 'json', 'prometheus'"
    ]


# --- the error objects ----------------------------------------------------------


def test_an_issue_reads_file_line_path_and_message() -> None:
    issue = ConfigIssue("fleet.yaml", 12, "endpoints[3].interval", "bad")
    assert str(issue) == "fleet.yaml:12: endpoints[3].interval: bad"
    assert str(ConfigIssue("fleet.yaml", None, "", "gone")) == "fleet.yaml: gone"


def test_a_config_error_prints_one_issue_per_line() -> None:
    error = ConfigError([ConfigIssue("a.yaml", 1, "x", "one"), ConfigIssue("a.yaml", 2, "", "two")])
    assert str(error) == "a.yaml:1: x: one\na.yaml:2: two"
    assert len(error.issues) == 2


def test_a_config_error_survives_pickling_with_its_issues() -> None:
    error = ConfigError([ConfigIssue("a.yaml", 1, "x", "one")])
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert copy.issues == error.issues
