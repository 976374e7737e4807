"""``monitor-center demo`` history: weeks of probe results and series samples, written
with COPY before the center starts, so SLA reports and the scorecard have a past.

Spacing (documented in the README): probe results every two probe intervals, at least
20 s (the SLA holds a result for two intervals, so history at that spacing leaves no
time unknown, with half the rows of the live rate); counters every minute (their live
interval: the volume_drop rule compares 10-minute windows with a week before); KPI
gauges every 15 minutes (they move daily).

Idempotent: rows sit on a fixed time grid; a 6-hour chunk that already holds its rows
is skipped, an empty one is COPied straight in, anything between goes through a staging
table and ``INSERT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.catalog import SimSeries, TelemetryModel
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.history import (
    PROBE_COLUMNS,
    SAMPLE_COLUMNS,
    HistoryEndpoint,
    Outage,
    plan_outages,
    probe_lines,
    sample_lines,
    stamps,
)

CHUNK_SECONDS = 6 * 3600.0
MIN_PROBE_STEP = 20.0
COUNTER_STEP = 60.0
GAUGE_STEP = 900.0
DEFAULT_WORKERS = 2  # one COPY per connection at a time: two keep the server busy
_COPY_BLOCK = 1 << 20

Connection = psycopg.AsyncConnection[tuple[object, ...]]


def probe_step_for(interval: float) -> float:
    """History spacing of probe results for a live probe ``interval`` (seconds)."""
    return max(MIN_PROBE_STEP, 2 * interval)


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """What to backfill: the fleet's endpoints and series, and how densely."""

    endpoints: Sequence[HistoryEndpoint]
    series: Sequence[SimSeries]
    model: TelemetryModel
    seed: int
    probe_step: float
    timeout: float


def plan_for_fleet(
    fleet: FleetSimulator,
    agencies: Sequence[AgencyInfo],
    *,
    interval: float,
    timeout: float,
    seed: int,
) -> HistoryPlan:
    """The history of ``fleet``: its endpoints with their usual latency, its series."""
    kinds = {agency.id: agency.kind for agency in agencies}
    endpoints = [
        HistoryEndpoint(
            id=ep.id,
            agency_id=ep.agency_id,
            agency_kind=kinds[ep.agency_id],
            kind=ep.kind,
            base_latency=fleet.base_latency(ep.id),
        )
        for ep in fleet.endpoints("http://history.invalid")
    ]
    return HistoryPlan(
        endpoints=endpoints,
        series=fleet.telemetry.model.series,
        model=fleet.telemetry.model,
        seed=seed,
        probe_step=probe_step_for(interval),
        timeout=timeout,
    )


@dataclass(slots=True)
class BackfillReport:
    """What a backfill did; ``seconds`` is its wall time."""

    rows: int = 0
    probes_new: int = 0
    samples_new: int = 0
    chunks_skipped: int = 0
    seconds: float = 0.0
    outages: list[Outage] = field(default_factory=list)

    @property
    def new(self) -> int:
        """Rows that were not in the database before."""
        return self.probes_new + self.samples_new


@dataclass(frozen=True, slots=True)
class _Chunk:
    lo: float
    hi: float
    outages: tuple[Outage, ...]


def chunks(lo: float, hi: float, outages: Sequence[Outage]) -> list[_Chunk]:
    """``[lo, hi)`` cut at multiples of ``CHUNK_SECONDS``, each with its outages."""
    found: list[_Chunk] = []
    edge = math.floor(lo / CHUNK_SECONDS) * CHUNK_SECONDS
    while edge < hi:
        a, b = max(lo, edge), min(hi, edge + CHUNK_SECONDS)
        mine = tuple(o for o in outages if o.start < b and o.end > a)
        found.append(_Chunk(a, b, mine))
        edge += CHUNK_SECONDS
    return found


def _probe_payload(plan: HistoryPlan, chunk: _Chunk) -> tuple[bytes, int]:
    grid = stamps(chunk.lo, chunk.hi, plan.probe_step)
    lines: list[str] = []
    for endpoint in plan.endpoints:
        lines += probe_lines(endpoint, grid, chunk.outages, seed=plan.seed, timeout=plan.timeout)
    return "".join(lines).encode(), len(lines)


def _sample_payload(plan: HistoryPlan, chunk: _Chunk) -> tuple[bytes, int]:
    grids = {
        kind: stamps(chunk.lo, chunk.hi, step)
        for kind, step in (("counter", COUNTER_STEP), ("gauge", GAUGE_STEP))
    }
    lines: list[str] = []
    for series in plan.series:
        lines += sample_lines(series, plan.model, grids[series.kind])
    return "".join(lines).encode(), len(lines)


def expected_rows(plan: HistoryPlan, lo: float, hi: float) -> tuple[int, int]:
    """Probe rows and sample rows a complete ``[lo, hi)`` holds."""

    def count(step: float) -> int:
        return len(stamps(lo, hi, step)[0])

    counters = sum(1 for s in plan.series if s.kind == "counter")
    gauges = len(plan.series) - counters
    probes = count(plan.probe_step) * len(plan.endpoints)
    return probes, counters * count(COUNTER_STEP) + gauges * count(GAUGE_STEP)


async def _existing(conn: Connection, table: str, key: str, ids: list[str], chunk: _Chunk) -> int:
    cur = await conn.execute(
        f"SELECT count(*) FROM {table} WHERE {key} = ANY(%s)"
        " AND time >= to_timestamp(%s) AND time < to_timestamp(%s)",
        (ids, chunk.lo, chunk.hi),
    )
    row = await cur.fetchone()
    return int(str(row[0])) if row else 0


async def copy_rows(
    conn: Connection, table: str, columns: str, payload: bytes, *, fresh: bool
) -> int:
    """COPY text rows into ``table``; rows already there are kept (ON CONFLICT DO NOTHING).

    ``fresh`` says the rows' range was empty a moment ago: they go straight in, and only
    if someone wrote there meanwhile (a unique violation) through the staging table.
    """
    if fresh:
        with contextlib.suppress(psycopg.errors.UniqueViolation):
            async with conn.transaction():
                await _copy(conn, f"{table} ({columns})", payload)
            return payload.count(b"\n")
    stage = f"backfill_{table}"
    async with conn.transaction():
        await conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS"
        )
        await _copy(conn, f"{stage} ({columns})", payload)
        cur = await conn.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT DO NOTHING"
        )
        return cur.rowcount


async def _copy(conn: Connection, target: str, payload: bytes) -> None:
    async with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        for offset in range(0, len(payload), _COPY_BLOCK):
            await copy.write(payload[offset : offset + _COPY_BLOCK])


async def _fill(conn: Connection, plan: HistoryPlan, chunk: _Chunk, report: BackfillReport) -> int:
    """Write one chunk's missing rows; returns how many rows the chunk holds in all."""
    want_probes, want_samples = expected_rows(plan, chunk.lo, chunk.hi)
    probe_ids = [e.id for e in plan.endpoints]
    have = await _existing(conn, "probe_results", "endpoint_id", probe_ids, chunk)
    if have < want_probes:
        payload, _ = await asyncio.to_thread(_probe_payload, plan, chunk)
        new = await copy_rows(conn, "probe_results", PROBE_COLUMNS, payload, fresh=have == 0)
        report.probes_new += new  # after the await: workers share the report
    series_ids = [s.id for s in plan.series]
    have_samples = await _existing(conn, "series_samples", "series_id", series_ids, chunk)
    if have_samples < want_samples:
        payload, _ = await asyncio.to_thread(_sample_payload, plan, chunk)
        new = await copy_rows(
            conn, "series_samples", SAMPLE_COLUMNS, payload, fresh=have_samples == 0
        )
        report.samples_new += new
    if have >= want_probes and have_samples >= want_samples:
        report.chunks_skipped += 1
    return want_probes + want_samples


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]history[/bold] {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"),
        TextColumn("[green]{task.fields[new]:,} new"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


async def backfill(
    url: str,
    plan: HistoryPlan,
    *,
    start: datetime,
    end: datetime,
    console: Console | None = None,
    workers: int = DEFAULT_WORKERS,
) -> BackfillReport:
    """Write the fleet's history over ``[start, end)`` into the database at ``url``.

    Shows a progress bar on ``console`` (none when it is None). Running it again over the
    same range writes nothing.
    """
    began = time.perf_counter()
    lo, hi = start.timestamp(), end.timestamp()
    report = BackfillReport(outages=plan_outages(plan.endpoints, plan.seed, lo, hi))
    todo = chunks(lo, hi, report.outages)
    probes, samples = expected_rows(plan, lo, hi)
    queue: asyncio.Queue[_Chunk] = asyncio.Queue()
    for chunk in todo:
        queue.put_nowait(chunk)
    with _progress(console or Console(quiet=True)) as progress:
        days = f"{(hi - lo) / 86400:g} days"
        task = progress.add_task(days, total=probes + samples, new=0)

        async def work() -> None:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                while not queue.empty():
                    rows = await _fill(conn, plan, queue.get_nowait(), report)
                    report.rows += rows
                    progress.update(task, advance=rows, new=report.new)

        await asyncio.gather(*(work() for _ in range(max(1, min(workers, len(todo))))))
    report.seconds = time.perf_counter() - began
    return report
