"""What an SLA computation produces: figures per endpoint, day and agency, incidents, KPIs.

Seconds partition the period (up to now): ``maintenance + known + unknown``, where known
and unknown are measured outside maintenance; ``known = up + downtime``. Availability is
``up / known``, ``None`` when nothing is known (never 100 %).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class Tally:
    """Counters summed over rollup rows and raw stretches (outside maintenance)."""

    probes: int = 0
    failed: int = 0
    downtime: float = 0.0
    covered: float = 0.0

    def add(self, probes: int, ok: int, downtime: float, covered: float) -> None:
        self.probes += probes
        self.failed += probes - ok
        self.downtime += downtime
        self.covered += covered


def percent(up: float, known: float) -> float | None:
    """``up / known`` in percent, ``None`` (unknown) when nothing is known."""
    if known <= 0:
        return None
    return max(0.0, min(100.0, 100.0 * up / known))


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one endpoint, day or agency over some stretch of the period."""

    probes: int = 0
    failed: int = 0
    downtime_seconds: float = 0.0
    known_seconds: float = 0.0
    unknown_seconds: float = 0.0
    maintenance_seconds: float = 0.0

    @property
    def availability_percent(self) -> float | None:
        return percent(self.known_seconds - self.downtime_seconds, self.known_seconds)

    @classmethod
    def of(cls, tally: Tally, span: float, maintenance: float) -> Figures:
        """From a tally over ``span`` seconds of which ``maintenance`` were planned."""
        downtime = min(tally.downtime, tally.covered)
        return cls(
            probes=tally.probes,
            failed=tally.failed,
            downtime_seconds=downtime,
            known_seconds=tally.covered,
            unknown_seconds=max(0.0, span - maintenance - tally.covered),
            maintenance_seconds=maintenance,
        )

    @classmethod
    def sum(cls, parts: Iterable[Figures]) -> Figures:
        """Time-weighted total: seconds add up, so availability weighs by known time."""
        items = list(parts)
        return cls(
            probes=sum(p.probes for p in items),
            failed=sum(p.failed for p in items),
            downtime_seconds=sum(p.downtime_seconds for p in items),
            known_seconds=sum(p.known_seconds for p in items),
            unknown_seconds=sum(p.unknown_seconds for p in items),
            maintenance_seconds=sum(p.maintenance_seconds for p in items),
        )


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One local day of one endpoint (the cells of the report's daily strip)."""

    date: date
    figures: Figures


@dataclass(frozen=True, slots=True)
class Incident:
    """An outage: from an ``endpoint_down`` alert, or a run of failed probes."""

    endpoint: str
    agency: str
    start: datetime
    end: datetime | None
    source: str
    """``alert`` or ``probes``."""
    alert_id: int | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    failed_probes: int | None = None

    @property
    def duration_seconds(self) -> float | None:
        """Until resolution; ``None`` while still open."""
        return None if self.end is None else (self.end - self.start).total_seconds()

    @property
    def time_to_acknowledge_seconds(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return max(0.0, (self.acknowledged_at - self.start).total_seconds())


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the known values, ``None`` when there are none."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


@dataclass(frozen=True, slots=True)
class EndpointSla:
    id: str
    agency: str
    active: bool
    figures: Figures
    days: list[DayFigures]
    incidents: int = 0


@dataclass(frozen=True, slots=True)
class AgencySla:
    id: str
    name: str
    kind: str
    figures: Figures
    endpoints: list[EndpointSla]
    incidents: list[Incident] = field(default_factory=list)
    mtta_seconds: float | None = None
    """Mean time to acknowledge over the incidents that started in the period."""
    mttr_seconds: float | None = None
    """Mean time to resolve over the incidents that started in the period and ended."""


@dataclass(frozen=True, slots=True)
class SlaReport:
    """An SLA computation over ``[start, end)``, measured up to ``until`` (now, at most)."""

    start: datetime
    end: datetime
    until: datetime
    timezone: str
    agencies: list[AgencySla]
    incident_source: str
    """``alert`` when the alert history is used, ``probes`` for runs of failed probes."""
