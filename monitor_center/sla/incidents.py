"""Incidents, MTTA and MTTR.

The alert history is the source when endpoint_down alerting was in operation by the end
of the period (any such alert exists): an incident then runs from the alert's
``fired_at`` to its ``resolved_at`` (open: no end), and its time to acknowledge is
``acknowledged_at - fired_at``. Otherwise incidents are runs of at least ``min_failures``
consecutive failed probes (the endpoint_down rule's threshold), each ending at the next
successful probe; these have no acknowledgement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime

from monitor_center.db.repositories.sla import SlaRepository, Stretch
from monitor_center.sla.model import Incident, mean
from monitor_center.sla.periods import Day

DEFAULT_MIN_FAILURES = 3
"""The endpoint_down rule's default ``failures``: a shorter run is a blip, not an incident."""


def failing_stretches(
    endpoints: Sequence[str], days: Sequence[Day], failing: Sequence[Set[int]]
) -> list[Stretch]:
    """Per endpoint, the runs of consecutive days with a failed probe: only there can a
    run of failures be, so raw results are read for those days alone."""
    stretches: list[Stretch] = []
    for endpoint, failing_days in zip(endpoints, failing, strict=True):
        if not failing_days:
            continue
        open_lo: float | None = None
        for i, day in enumerate(days):
            failed = i in failing_days
            if failed and open_lo is None:
                open_lo = day.lo
            elif not failed and open_lo is not None:
                stretches.append(Stretch(endpoint, open_lo, day.lo))
                open_lo = None
        if open_lo is not None:
            stretches.append(Stretch(endpoint, open_lo, days[-1].hi))
    return stretches


async def find_incidents(
    repo: SlaRepository,
    agency_of: Mapping[str, str],
    failing: Sequence[Stretch] | None,
    start: datetime,
    end: datetime,
    min_failures: int = DEFAULT_MIN_FAILURES,
) -> tuple[str, list[Incident]]:
    """``(source, incidents)`` overlapping ``[start, end)`` for the given endpoints:
    from the alert history when ``failing`` is None (see ``alert_history_exists``), else
    from the runs of failed probes within the ``failing`` stretches."""
    if failing is None:
        rows = await repo.alert_incidents(list(agency_of), start, end)
        return "alert", [
            Incident(
                endpoint=r.endpoint_id,
                agency=agency_of[r.endpoint_id],
                start=r.fired_at,
                end=r.resolved_at,
                source="alert",
                alert_id=r.id,
                acknowledged_at=r.acknowledged_at,
                acknowledged_by=r.acknowledged_by,
            )
            for r in rows
        ]
    runs = await repo.failed_runs(failing, min_failures)
    return "probes", [
        Incident(
            endpoint=r.endpoint_id,
            agency=agency_of[r.endpoint_id],
            start=r.started,
            end=r.ended,
            source="probes",
            failed_probes=r.failures,
        )
        for r in runs
    ]


def mtta_mttr(
    incidents: Sequence[Incident], start: datetime, end: datetime
) -> tuple[float | None, float | None]:
    """Means over the incidents that started in ``[start, end)`` (one that began the month
    before is counted there, not twice); MTTR over those that ended."""
    started = [i for i in incidents if start <= i.start < end]
    return (
        mean(i.time_to_acknowledge_seconds for i in started),
        mean(i.duration_seconds for i in started),
    )
