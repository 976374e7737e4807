"""What every rule kind shares: subjects, selectors, verdicts and text formatting."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

RuleKind = Literal[
    "endpoint_down", "latency", "availability", "volume_drop", "kpi_min", "kpi_forecast", "no_data"
]
Severity = Literal["critical", "warning", "info"]
SubjectType = Literal["endpoint", "series"]
Direction = Literal["min", "max"]
"""``min``: the value should stay at or above its target; ``max``: at or below."""

ENDPOINT_KINDS: frozenset[str] = frozenset({"endpoint_down", "latency", "availability"})
"""Kinds whose subjects are endpoints; the others watch series (``no_data`` chooses)."""


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    """Something a rule can watch: an endpoint or a series, with its agency."""

    id: str
    type: SubjectType
    agency: str | None = None
    agency_kind: str | None = None


@dataclass(frozen=True, slots=True)
class Selector:
    """Which subjects a rule applies to.

    Each non-empty dimension must match; an empty selector matches everything.
    ``ids`` are exact ids or shell-style globs (``hanoi-*``); agencies and agency
    kinds are compared exactly.
    """

    ids: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    agency_kinds: tuple[str, ...] = ()

    def matches(self, subject: SubjectInfo) -> bool:
        """True when `subject` is selected."""
        if self.ids and not any(fnmatchcase(subject.id, pattern) for pattern in self.ids):
            return False
        if self.agencies and subject.agency not in self.agencies:
            return False
        return not self.agency_kinds or subject.agency_kind in self.agency_kinds


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of evaluating one rule for one subject at one moment.

    ``active`` says the condition holds (the engine applies ``for`` and dedup).
    ``value`` is the measured figure (a percentile, a burn rate...) and ``None``
    when there was not enough data to judge; ``summary`` says why, for humans.
    """

    active: bool
    value: float | None
    summary: str

    @classmethod
    def insufficient(cls, summary: str) -> Verdict:
        """Not enough data to judge: never active, no value."""
        return cls(active=False, value=None, summary=summary)


def format_number(value: float) -> str:
    """A figure for a summary: whole numbers grouped, others with at most two decimals."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) < 1:
        return f"{value:.3g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_quantity(value: float, unit: str) -> str:
    """A figure with its unit: ``15.9 %``, ``1,200 dossiers``, ``42`` without a unit."""
    return f"{format_number(value)} {unit}" if unit else format_number(value)


_UNITS = (("d", 86_400.0), ("h", 3_600.0), ("m", 60.0), ("s", 1.0))


def format_seconds(seconds: float) -> str:
    """A duration the way the config writes it: ``5m``, ``1h30m``, ``7d``, ``250ms``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    parts: list[str] = []
    remaining = round(seconds)
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, int(size))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
