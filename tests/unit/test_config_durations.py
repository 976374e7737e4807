"""Durations as operators write them: 500ms, 10s, 5m, 1h, 1d, 1h30m, or seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor_center.config import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("10s", timedelta(seconds=10)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s5ms6us", timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5006)),
        ("1.5s", timedelta(seconds=1.5)),
        ("0.25h", timedelta(minutes=15)),
        ("30", timedelta(seconds=30)),
        ("2.5", timedelta(seconds=2.5)),
        (" 10s ", timedelta(seconds=10)),
        ("0s", timedelta(0)),
    ],
)
def test_it_parses_unit_strings_and_combinations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_plain_numbers_are_seconds() -> None:
    assert parse_duration(45) == timedelta(seconds=45)
    assert parse_duration(0.5) == timedelta(milliseconds=500)
    assert parse_duration(0.1) == timedelta(milliseconds=100)


def test_a_timedelta_is_accepted_as_is() -> None:
    assert parse_duration(timedelta(minutes=2)) == timedelta(minutes=2)


@pytest.mark.parametrize("text", ["ten", "", "10x", "1h 30m", "h", "1e3s", "10 s", "s10", "1,5s"])
def test_it_rejects_text_that_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 10s, 5m or 1h"):
        parse_duration(text)


@pytest.mark.parametrize("value", ["-5s", "-1h30m", -1, -0.5, timedelta(seconds=-1)])
def test_it_rejects_negative_durations(value: str | int | float | timedelta) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, float("nan"), float("inf")])
def test_it_rejects_booleans_and_non_finite_numbers(value: float) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["99999999999999d", 10**30, "9" * 5000 + "s"])
def test_it_rejects_durations_too_large_for_a_timedelta(value: str | int) -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=2, seconds=1), "2d1s"),
        (timedelta(microseconds=1500), "1ms500us"),
    ],
)
def test_it_formats_durations_in_the_shortest_unit_form(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_formatting_a_negative_duration_is_an_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))
