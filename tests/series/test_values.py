"""Reading one number out of a body: JSON paths and Prometheus expositions, no I/O."""

from __future__ import annotations

import json

import pytest

from collectors._series_values import ValueFailure, json_value, number, prometheus_value

EXPOSITION = """\
# HELP ngsp_transactions_total Transactions through NGSP.
# TYPE ngsp_transactions_total counter
ngsp_transactions_total{agency="ngsp",node="a",code="200"} 1200
ngsp_transactions_total{agency="ngsp",node="b",code="200"} 800
ngsp_transactions_total{agency="ngsp",node="b",code="500"} 7
ngsp_transactions_total{agency="lgsp-ha-noi",node="a",code="200"} 300
# TYPE level4_share_percent gauge
level4_share_percent{province="nghe-an"} 4.61
level4_share_percent{province="ha-noi"} 31.5
"""


def _failure(call: object) -> ValueFailure:
    assert callable(call)
    with pytest.raises(ValueFailure) as caught:
        call()
    return caught.value


def test_prometheus_exact_label_matchers_pick_one_sample() -> None:
    body = EXPOSITION.encode()
    value = prometheus_value(
        body, "text/plain; version=0.0.4", "level4_share_percent", {"province": "nghe-an"}
    )
    assert value == pytest.approx(4.61)


def test_prometheus_several_matching_samples_are_summed() -> None:
    body = EXPOSITION.encode()
    everything = prometheus_value(body, "text/plain", "ngsp_transactions_total", {"agency": "ngsp"})
    assert everything == 2007
    ok_only = prometheus_value(
        body, "text/plain", "ngsp_transactions_total", {"agency": "ngsp", "code": "200"}
    )
    assert ok_only == 2000


def test_prometheus_metric_or_labels_absent_is_an_error_not_zero() -> None:
    body = EXPOSITION.encode()
    missing = _failure(lambda: prometheus_value(body, "text/plain", "nope_total", {}))
    assert missing.reason == "metric_missing"
    assert "no sample nope_total" in missing.message
    wrong = _failure(
        lambda: prometheus_value(body, "text/plain", "level4_share_percent", {"province": "x"})
    )
    assert wrong.reason == "metric_missing"
    assert 'level4_share_percent{province="x"}' in wrong.message


def test_prometheus_nan_and_infinite_samples_are_refused() -> None:
    body = b'kpi{p="a"} NaN\nkpi{p="b"} +Inf\nkpi{p="c"} 3\n'
    nan = _failure(lambda: prometheus_value(body, "text/plain", "kpi", {"p": "a"}))
    assert (nan.reason, nan.message) == ("not_finite", 'sample kpi{p="a"} is not finite (nan)')
    inf = _failure(lambda: prometheus_value(body, "text/plain", "kpi", {}))
    assert inf.reason == "not_finite"
    assert prometheus_value(body, "text/plain", "kpi", {"p": "c"}) == 3


def test_prometheus_html_and_garbage_are_not_expositions() -> None:
    html = _failure(lambda: prometheus_value(b"<html></html>", "text/html", "up", {}))
    assert html.message == "expected Prometheus exposition text, got text/html"
    garbage = _failure(lambda: prometheus_value(b"up one two\n", "text/plain", "up", {}))
    assert garbage.reason == "not_exposition"


def test_openmetrics_is_parsed_with_its_own_parser() -> None:
    body = b'# TYPE tx counter\ntx_total{a="x"} 5\n# EOF\n'
    assert (
        prometheus_value(body, "application/openmetrics-text; version=1.0.0", "tx_total", {}) == 5
    )


def test_json_path_reads_numbers_and_numeric_text() -> None:
    doc = json.dumps({"kpi": {"level4": 15.9, "as_text": " 88.5 ", "count": 7600}}).encode()
    assert json_value(doc, "application/json", "$.kpi.level4") == 15.9
    assert json_value(doc, "application/json", "$.kpi.as_text") == 88.5
    assert json_value(doc, None, "kpi.count") == 7600.0


def test_html_instead_of_json_names_what_came_back() -> None:
    page = b"<!doctype html><html><body>Login</body></html>"
    failure = _failure(lambda: json_value(page, "text/html; charset=utf-8", "$.value"))
    assert (failure.reason, failure.message) == ("not_json", "expected JSON, got text/html")


def test_a_missing_json_path_is_an_error_never_zero() -> None:
    failure = _failure(lambda: json_value(b'{"other": 1}', "application/json", "$.value"))
    assert (failure.reason, failure.message) == (
        "path_missing",
        "json path $.value matched nothing",
    )


def test_several_matches_are_ambiguous() -> None:
    doc = b'{"items": [{"n": 1}, {"n": 2}]}'
    failure = _failure(lambda: json_value(doc, "application/json", "$.items[*].n"))
    assert failure.reason == "ambiguous"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("N/A", "not_numeric"),
        (None, "not_numeric"),
        (True, "not_numeric"),
        ({"a": 1}, "not_numeric"),
        ([1], "not_numeric"),
        (float("nan"), "not_finite"),
        (float("inf"), "not_finite"),
        ("-Infinity", "not_finite"),
        (10**400, "not_finite"),
    ],
)
def test_values_that_are_not_finite_numbers_are_refused(value: object, reason: str) -> None:
    assert _failure(lambda: number(value, "value at $.x")).reason == reason


def test_nan_and_infinity_literals_in_a_json_body_are_refused() -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"value": ' + literal + b"}"
        failure = _failure(lambda body=body: json_value(body, "application/json", "$.value"))
        assert failure.reason == "not_finite"
        assert failure.message.startswith("value at $.value is not finite")
