"""Turning a response body into one number: a JSON path or a Prometheus exposition.

Pure functions, no I/O: each returns a finite float or raises :class:`ValueFailure`
with a category (a label for metrics) and a message written for an operator. A value
that cannot be read is never turned into 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families as text_families

from collectors._http_body import JsonPathError, compile_json_path
from collectors._http_errors import shorten

_PREVIEW = 40
_HTML = frozenset({"text/html", "application/xhtml+xml"})
_OPENMETRICS = "application/openmetrics-text"


class ValueFailure(Exception):
    """The body holds no usable number; ``reason`` is a stable category."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(shorten(message))
        self.reason = reason
        self.message = shorten(message)


def media_type(content_type: str | None) -> str:
    """``text/html`` from ``text/html; charset=utf-8``; ``""`` when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def json_value(body: bytes, content_type: str | None, path: str) -> float:
    """The single number at ``path`` (``jsonpath_ng.ext`` syntax) in a JSON body.

    The body is parsed whatever its declared type (some servers send JSON as
    ``text/plain``); when it does not parse, the message names the declared type, so a
    login page reads "expected JSON, got text/html". The path must match exactly one
    value: several matches are an error rather than a silent pick of the first.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
        declared = media_type(content_type) or "no content type"
        if declared in _HTML or "json" not in declared:
            raise ValueFailure("not_json", f"expected JSON, got {declared}") from exc
        raise ValueFailure("not_json", f"invalid JSON: {exc}") from exc
    try:
        matches = compile_json_path(path).find(document)
    except JsonPathError as exc:
        raise ValueFailure("path_missing", str(exc)) from exc
    except Exception as exc:  # filters can fail on unexpected value types
        raise ValueFailure("path_missing", f"json path {path} failed: {exc}") from exc
    if not matches:
        raise ValueFailure("path_missing", f"json path {path} matched nothing")
    if len(matches) > 1:
        raise ValueFailure(
            "ambiguous", f"json path {path} matched {len(matches)} values; expected one"
        )
    return number(matches[0].value, f"value at {path}")


def number(value: object, where: str) -> float:
    """``value`` as a finite float: JSON numbers, or text holding a number (``"15.9"``).

    Booleans, null, objects, arrays and other text are refused: ``true`` is not 1 and a
    missing figure is not 0.
    """
    if isinstance(value, bool) or value is None:
        raise ValueFailure("not_numeric", f"{where} is {json.dumps(value)}, not a number")
    if isinstance(value, dict | list):
        kind = "an object" if isinstance(value, dict) else "an array"
        raise ValueFailure("not_numeric", f"{where} is {kind}, not a number")
    if isinstance(value, str):
        try:
            converted = float(value.strip())
        except ValueError:
            raise ValueFailure(
                "not_numeric", f"{where} is not a number: {shorten(repr(value), _PREVIEW)}"
            ) from None
    elif isinstance(value, int | float):
        try:
            converted = float(value)
        except OverflowError:  # an integer beyond a double's range
            raise ValueFailure("not_finite", f"{where} is too large for a number") from None
    else:
        raise ValueFailure("not_numeric", f"{where} is a {type(value).__name__}, not a number")
    return finite(converted, where)


def finite(value: float, where: str) -> float:
    """``value`` when it is finite; NaN and infinities are refused, never stored."""
    if not math.isfinite(value):
        raise ValueFailure("not_finite", f"{where} is not finite ({value})")
    return value


def prometheus_value(
    body: bytes, content_type: str | None, metric: str, labels: Mapping[str, str]
) -> float:
    """The sum of the samples named ``metric`` whose labels include ``labels``.

    Label matchers are exact equalities on the listed labels; other labels may differ,
    so ``{metric: http_requests_total, labels: {job: ngsp}}`` adds up every
    ``code``/``method`` child of that job. Several matching samples are summed (say one
    per instance), which suits counters and additive gauges; for a counter a reset in
    one child shows as a drop in the sum and is then read as a reset of the whole.
    Timestamps in the exposition are ignored: the value is as of the read.
    """
    declared = media_type(content_type)
    if declared in _HTML or "json" in declared:
        raise ValueFailure("not_exposition", f"expected Prometheus exposition text, got {declared}")
    text = body.decode("utf-8", errors="replace")
    parse = openmetrics_families if declared == _OPENMETRICS else text_families
    try:
        found = _matching(parse(text), metric, labels)
    except ValueError as exc:  # the parsers raise ValueError for any malformed line
        raise ValueFailure("not_exposition", f"invalid exposition: {exc}") from exc
    wanted = metric + _format_labels(labels)
    if not found:
        raise ValueFailure("metric_missing", f"no sample {wanted} in the exposition")
    for sample_labels, value in found:
        finite(value, f"sample {metric}{_format_labels(sample_labels)}")
    return finite(math.fsum(value for _, value in found), f"the sum of {wanted}")


def _matching(
    families: Iterable[Metric], metric: str, labels: Mapping[str, str]
) -> list[tuple[Mapping[str, str], float]]:
    found: list[tuple[Mapping[str, str], float]] = []
    for family in families:
        for sample in family.samples:
            if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items()):
                found.append((sample.labels, float(sample.value)))
    return found


def _format_labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"
