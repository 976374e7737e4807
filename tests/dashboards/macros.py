"""Grafana's SQL macros and template variables, expanded as Grafana's PostgreSQL source does.

Grafana interpolates template variables (``$name``, ``${name}``; a multi-value variable
becomes a quoted, comma-separated list) and ``$__interval`` in the browser, then the
data source expands its macros on the server. ``timescaledb`` mirrors the data source's
TimescaleDB switch: ``$__timeGroup`` becomes ``time_bucket()`` instead of an epoch floor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Context:
    """What Grafana knows when it runs a panel: the range, the interval, the variables."""

    start: datetime
    end: datetime
    interval: str = "1h"
    variables: dict[str, str | list[str]] = field(default_factory=dict)
    timescaledb: bool = False


def seconds(interval: str) -> float:
    """``5m`` -> 300; also accepts the quoted form ``'5m'``."""
    match = re.fullmatch(r"'?(\d+(?:\.\d+)?)(ms|s|m|h|d|w)'?", interval.strip())
    if match is None:
        raise ValueError(f"not a Grafana interval: {interval!r}")
    return float(match[1]) * _UNITS[match[2]]


def _iso(moment: datetime) -> str:
    return "'" + moment.isoformat() + "'"


def _group(column: str, interval: str, ctx: Context) -> str:
    step = seconds(interval)
    if ctx.timescaledb:
        return f"time_bucket('{step:g}s', {column})"
    return f"floor(extract(epoch from {column})/{step:g})*{step:g}"


def _variable_text(value: str | list[str]) -> str:
    if isinstance(value, list):
        return ",".join("'" + item.replace("'", "''") + "'" for item in value)
    return value


def interpolate(sql: str, ctx: Context) -> str:
    """The SQL the database receives for ``sql`` under ``ctx``; unknown ``$…`` is an error."""
    text = sql.replace("$__interval", ctx.interval)
    for name, value in ctx.variables.items():
        text = re.sub(rf"\$\{{{name}\}}|\${name}\b", _variable_text(value), text)
    args = r"\(([^(),]+)(?:,\s*([^()]+?))?\)"
    text = re.sub(
        r"\$__timeGroupAlias" + args,
        lambda m: _group(m[1].strip(), m[2], ctx) + ' AS "time"',
        text,
    )
    text = re.sub(r"\$__timeGroup" + args, lambda m: _group(m[1].strip(), m[2], ctx), text)
    text = re.sub(
        r"\$__timeFilter\(([^()]+)\)",
        lambda m: f"{m[1].strip()} BETWEEN {_iso(ctx.start)} AND {_iso(ctx.end)}",
        text,
    )
    text = text.replace("$__timeFrom()", _iso(ctx.start)).replace("$__timeTo()", _iso(ctx.end))
    left = re.search(r"\$\{?\w+", text)
    if left is not None:
        raise ValueError(f"{left[0]} is not expanded in:\n{text}")
    return text
