"""Properties: durations round-trip, and no input makes the loader crash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor_center.config import (
    ConfigError,
    ConfigIssue,
    format_duration,
    parse_config_text,
    parse_duration,
)
from monitor_center.config.root import TOP_LEVEL_KEYS

# Includes would resolve against this directory, which does not exist: the
# fuzzer must never read real files.
FUZZ_FILE = "/nonexistent-monitor-center-fuzz/fleet.yaml"
ENV = {"IV": "30s", "URL": "https://ngsp.gov.vn/", "EMPTY": ""}


@given(st.timedeltas(min_value=timedelta(0)))
def test_a_formatted_duration_parses_back_to_the_same_value(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


@given(st.integers(min_value=0, max_value=10**9))
def test_a_whole_number_of_seconds_parses_as_seconds(seconds: int) -> None:
    assert parse_duration(seconds) == timedelta(seconds=seconds)
    assert parse_duration(str(seconds)) == timedelta(seconds=seconds)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_nothing_but_config_error(text: str) -> None:
    _load_or_config_error(text)


def _load_or_config_error(text: str) -> None:
    """Loading either succeeds or raises ConfigError with at least one issue."""
    try:
        parse_config_text(text, filename=FUZZ_FILE, env=ENV)
    except ConfigError as exc:
        issues = exc.issues
    else:
        return
    assert issues
    assert all(isinstance(issue, ConfigIssue) for issue in issues)


_WORDS = [
    *(key for key in TOP_LEVEL_KEYS if key != "include"),
    *("id", "agency", "url", "interval", "timeout", "kind", "name", "depends_on", "expect"),
    *("status", "json_path", "equals", "source", "type", "metric", "labels", "channels"),
    *("match", "escalate_to", "tokens", "token", "role", "start", "end", "timezone", "to"),
]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            *_WORDS,
            *("10s", "0s", "-1s", "https://a.gov.vn/", "json", "webhook", "ngsp", "$.x"),
            *("${IV}", "${URL}", "${UNSET}", "$${", "${", "2025-06-01T01:00:00"),
        ]
    ),
)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_WORDS), inner),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_WORDS), _DATA, max_size=6))
def test_arbitrary_yaml_structures_raise_nothing_but_config_error(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    _load_or_config_error(text)
