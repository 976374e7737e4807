"""Simulated history of the demo fleet: probe results with a few incidents, and series
samples from the same curves the live fleet serves. Pure: rows as COPY text, no I/O.

Incidents are drawn per local day from the seed, so any window of history shows the
same ones: a province portal down for twenty minutes, a ministry timing out, a portal
serving a maintenance page, and the National Public Service Portal's weekly deploy in
its maintenance window (Sunday 01:00-02:00, which the demo config declares).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor_center.demo.catalog import SimSeries, TelemetryModel
from monitor_center.demo.telemetry import DAY, HOUR, WEEK

MAINTENANCE_AGENCY = "dvcqg"
# A Sunday 01:00 local; the window repeats weekly from it (see ``maintenance_entries``).
MAINTENANCE_START = "2024-01-07T01:00:00+07:00"
MAINTENANCE_END = "2024-01-07T02:00:00+07:00"
_MAINTENANCE_EPOCH = datetime.fromisoformat(MAINTENANCE_START).timestamp()
# How outages are spread: provincial portals are the least well provisioned.
_KIND_WEIGHT = {"platform": 1.0, "ministry": 2.0, "province": 3.0}
_OUTAGES_PER_DAY = (0.62, 0.3, 0.08)  # chance of 0, 1, 2 outages on a given day
_OUTAGE_SECONDS = (120.0, 3600.0)  # two minutes to an hour, log-uniform
_FAILURES = (("down", 0.6), ("timeout", 0.25), ("wrong_content", 0.15))
_LATENCY_VARIANTS = 256
_NULL = "\\N"


@dataclass(frozen=True, slots=True)
class HistoryEndpoint:
    """What history needs to know of an endpoint: its kind of agency and usual latency."""

    id: str
    agency_id: str
    agency_kind: str
    kind: str
    base_latency: float


@dataclass(frozen=True, slots=True)
class Outage:
    """``endpoint_id`` failing over ``[start, end)`` (epoch seconds) in ``mode``."""

    endpoint_id: str
    start: float
    end: float
    mode: str


def maintenance_entries(agency_ids: Iterable[str]) -> list[dict[str, object]]:
    """The config's ``maintenance[]``: the portal's weekly deploy window, when present."""
    if MAINTENANCE_AGENCY not in set(agency_ids):
        return []
    return [
        {
            "id": "dvcqg-weekly-deploy",
            "agency": MAINTENANCE_AGENCY,
            "start": MAINTENANCE_START,
            "end": MAINTENANCE_END,
            "recurring": "weekly",
            "comment": "Weekly deploy of the National Public Service Portal",
        }
    ]


def plan_outages(
    endpoints: Sequence[HistoryEndpoint], seed: int, lo: float, hi: float
) -> list[Outage]:
    """Every outage that overlaps ``[lo, hi)``, drawn per local day from ``seed``."""
    if not endpoints:
        return []
    weights = [_KIND_WEIGHT.get(e.agency_kind, 1.0) for e in endpoints]
    found: list[Outage] = []
    first = math.floor((lo + 7 * HOUR) / DAY) - 1  # the day before: outages run past midnight
    for day in range(first, math.floor((hi + 7 * HOUR) / DAY) + 1):
        rng = random.Random(f"{seed}:outages:{day}")
        count = rng.choices(range(len(_OUTAGES_PER_DAY)), _OUTAGES_PER_DAY)[0]
        for _ in range(count):
            endpoint = rng.choices(endpoints, weights)[0]
            start = day * DAY - 7 * HOUR + rng.uniform(0, DAY)
            low, high = _OUTAGE_SECONDS
            length = math.exp(rng.uniform(math.log(low), math.log(high)))
            mode = rng.choices([m for m, _ in _FAILURES], [w for _, w in _FAILURES])[0]
            found.append(Outage(endpoint.id, start, start + length, mode))
    found.extend(_deploys(endpoints, seed, lo, hi))
    return [o for o in found if o.start < hi and o.end > lo]


def _deploys(endpoints: Sequence[HistoryEndpoint], seed: int, lo: float, hi: float) -> list[Outage]:
    """Every other week the portal is down for part of its maintenance window."""
    mine = [e for e in endpoints if e.agency_id == MAINTENANCE_AGENCY]
    found: list[Outage] = []
    first = math.floor((lo - _MAINTENANCE_EPOCH) / WEEK)
    for week in range(first, math.ceil((hi - _MAINTENANCE_EPOCH) / WEEK)):
        if week % 2:
            continue
        rng = random.Random(f"{seed}:deploy:{week}")
        start = _MAINTENANCE_EPOCH + week * WEEK + rng.uniform(120, 600)
        end = start + rng.uniform(600, 2400)
        found.extend(Outage(e.id, start, end, "maintenance") for e in mine)
    return found


def stamps(lo: float, hi: float, step: float) -> tuple[list[float], list[str]]:
    """Grid times in ``[lo, hi)`` that are multiples of ``step``, and their COPY text.

    A fixed grid is what makes a second backfill a no-op: the same rows, same keys.
    """
    first = math.ceil(lo / step) * step
    times = [first + i * step for i in range(max(0, math.ceil((hi - first) / step)))]
    return times, [time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(t)) for t in times]


def _latency_texts(endpoint: HistoryEndpoint, seed: int) -> list[str]:
    """Pre-formatted ``total, connect, tls, first_byte, cert`` columns of good probes:
    formatting once and picking per row keeps a month of history fast."""
    rng = random.Random(f"{seed}:{endpoint.id}:history-latency")
    base = endpoint.base_latency * 1000
    texts = []
    for _ in range(_LATENCY_VARIANTS):
        total = base * (0.85 + 0.15 * rng.lognormvariate(0.0, 0.8))
        connect = base * 0.3
        texts.append(f"{total:.1f}\t{connect:.1f}\t{_NULL}\t{total - 0.4:.1f}\t{_NULL}\n")
    return texts


def _failure_text(mode: str, endpoint: HistoryEndpoint, timeout_ms: float) -> str:
    """``ok, status, reason, latencies...`` of a failed probe, as the prober writes them."""
    base = f"{endpoint.base_latency * 1000:.1f}"
    if mode == "timeout":
        return f"f\t{_NULL}\ttimeout\t{timeout_ms:.1f}\t{_NULL}\t{_NULL}\t{_NULL}\t{_NULL}"
    if mode == "wrong_content" or (mode == "maintenance" and endpoint.kind == "portal"):
        return f"f\t200\tbody mismatch\t{base}\t{_NULL}\t{_NULL}\t{base}\t{_NULL}"
    return f"f\t503\tstatus 503\t{base}\t{_NULL}\t{_NULL}\t{base}\t{_NULL}"


def probe_lines(
    endpoint: HistoryEndpoint,
    grid: tuple[list[float], list[str]],
    outages: Sequence[Outage],
    *,
    seed: int,
    timeout: float,
) -> list[str]:
    """COPY text lines for ``probe_results`` (see ``PROBE_COLUMNS``) at each grid time."""
    times, texts = grid
    if not times:
        return []
    rng = random.Random(f"{seed}:{endpoint.id}:history:{times[0]}")
    good = rng.choices(_latency_texts(endpoint, seed), k=len(times))
    eid = endpoint.id
    middle = f"\t{eid}\tt\t200\t{_NULL}\t"
    lines = [ts + middle + lat for ts, lat in zip(texts, good, strict=True)]
    for outage in outages:
        if outage.endpoint_id != eid:
            continue
        failed = _failure_text(outage.mode, endpoint, timeout * 1000)
        for index, t in enumerate(times):
            if outage.start <= t < outage.end:
                lines[index] = f"{texts[index]}\t{eid}\t{failed}\n"
    return lines


PROBE_COLUMNS = (
    "time, endpoint_id, ok, status, reason, total_ms, connect_ms, tls_ms, first_byte_ms,"
    " cert_expiry_days"
)
SAMPLE_COLUMNS = "series_id, time, value"


def sample_lines(
    series: SimSeries, model: TelemetryModel, grid: tuple[list[float], list[str]]
) -> list[str]:
    """COPY text lines for ``series_samples``: the value the fleet serves at each time."""
    times, texts = grid
    sid = series.id
    counter = model.counters.get(sid)
    if counter is not None:
        counts = counter.values(times)
        return [f"{sid}\t{ts}\t{math.floor(c)}\n" for ts, c in zip(texts, counts, strict=True)]
    value = model.value
    return [f"{sid}\t{ts}\t{value(sid, t)!r}\n" for t, ts in zip(times, texts, strict=True)]
