"""Which data answers which stretch of time: day rollups for whole local days, hour
rollups for whole hours, raw results for the rest.

Each endpoint's period (up to now) minus its maintenance is cut into pieces, one or more
per local day. Whole days untouched by maintenance are summed from the day rollups (in
SQL: one row per endpoint); what they cannot answer (a partial day at an edge, a day
touched by maintenance, a day not yet rolled up) is cut into whole hours for the hour
rollups; what those cannot answer (the edges of a piece inside an hour, the newest hour,
hours never rolled up) is read from raw results, each of which holds until the next
result or for ``STALE_AFTER_INTERVALS`` intervals. A rollup row counts only when it was
rolled after its bucket ended, so a bucket rolled while in progress is never taken for a
complete one.
"""

from __future__ import annotations

import asyncio
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from monitor_center.db.repositories.sla import DayRequest, SlaRepository, Stretch
from monitor_center.sla.intervals import Interval, clip, subtract
from monitor_center.sla.model import Tally
from monitor_center.sla.periods import Day
from monitor_center.state import STALE_AFTER_INTERVALS

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to account for, with its maintenance time in the period."""

    id: str
    agency: str
    maintenance: list[Interval]


class Piece(NamedTuple):
    """A stretch of one target's time outside maintenance, within one local day."""

    target: int
    day: int
    lo: float
    hi: float


@dataclass(slots=True)
class Accounts:
    """Per target: the totals, the days with a failed probe, and (for reports) the
    figures of each day."""

    totals: list[Tally]
    failing: list[set[int]]
    days: list[dict[int, Tally]] | None = field(default=None)

    @classmethod
    def empty(cls, targets: int, per_day: bool) -> Accounts:
        days: list[dict[int, Tally]] | None = [{} for _ in range(targets)] if per_day else None
        return cls([Tally() for _ in range(targets)], [set() for _ in range(targets)], days)

    def add(self, t: int, d: int, total: int, ok: int, downtime: float, covered: float) -> None:
        self.totals[t].add(total, ok, downtime, covered)
        if ok < total:
            self.failing[t].add(d)
        if self.days is not None:
            self.days[t].setdefault(d, Tally()).add(total, ok, downtime, covered)


def touched_days(days: Sequence[Day], maintenance: Sequence[Interval]) -> set[int]:
    """The indexes of the days that some maintenance overlaps."""
    starts = [d.lo for d in days]
    touched: set[int] = set()
    for lo, hi in maintenance:
        first = max(0, bisect_right(starts, lo) - 1)
        touched.update(i for i in range(first, bisect_left(starts, hi)) if days[i].hi > lo)
    return touched


def _rest(
    t: int, target: Target, days: Sequence[Day], done: set[int], touched: set[int]
) -> list[Piece]:
    """The pieces of one target's days not answered yet, maintenance cut out."""
    pieces: list[Piece] = []
    for i, day in enumerate(days):
        if i in done:
            continue
        if i not in touched:
            pieces.append(Piece(t, i, day.lo, day.hi))
            continue
        holes = clip(target.maintenance, day.lo, day.hi)
        pieces.extend(Piece(t, i, lo, hi) for lo, hi in subtract((day.lo, day.hi), holes))
    return pieces


def _day_request(
    days: Sequence[Day],
    targets: Sequence[Target],
    touched: Sequence[set[int]],
    timezone: str,
    per_day: bool,
) -> DayRequest:
    whole = [i for i, d in enumerate(days) if d.whole]
    return DayRequest(
        endpoint_ids=[t.id for t in targets],
        excluded=[(t.id, days[i].midnight) for t, skip in zip(targets, touched, strict=True)
                  for i in skip if days[i].whole],
        # Only the first and the last day can be partial: the whole ones are contiguous.
        lo=days[whole[0]].midnight,
        hi=days[whole[-1]].next_midnight,
        timezone=timezone,
        per_day=per_day,
    )  # fmt: skip


async def _from_days(
    repo: SlaRepository,
    days: Sequence[Day],
    targets: Sequence[Target],
    touched: Sequence[set[int]],
    accounts: Accounts,
    timezone: str,
) -> list[set[int]]:
    """Answer whole days untouched by maintenance from day rollups; return, per target,
    the days answered."""
    whole = {d.midnight: i for i, d in enumerate(days) if d.whole}
    done: list[set[int]] = [set() for _ in targets]
    if not whole:
        return done
    index = {t.id: i for i, t in enumerate(targets)}
    request = _day_request(days, targets, touched, timezone, accounts.days is not None)
    for row in await repo.day_totals(request):
        t = index[row.endpoint_id]
        done[t].update(whole[b] for b in row.present)
        accounts.totals[t].add(row.total, row.ok, row.downtime, row.covered)
        accounts.failing[t].update(whole[b] for b in row.failing)
        if accounts.days is not None and row.day is not None:
            day = accounts.days[t].setdefault(whole[row.day], Tally())
            day.add(row.total, row.ok, row.downtime, row.covered)
    return done


def _hour_split(days: Sequence[Day], pieces: Sequence[Piece]) -> tuple[list[Piece], list[Piece]]:
    """Split pieces into spans of whole local hours (counted from the day's midnight, as
    the hour buckets are) and the raw remainders at their edges."""
    spans: list[Piece] = []
    raw: list[Piece] = []
    for p in pieces:
        base = days[p.day].midnight
        first = base + math.ceil((p.lo - base) / HOUR) * HOUR
        last = base + math.floor((p.hi - base) / HOUR) * HOUR
        if first >= last:
            raw.append(p)
            continue
        if p.lo < first:
            raw.append(Piece(p.target, p.day, p.lo, first))
        spans.append(Piece(p.target, p.day, first, last))
        if last < p.hi:
            raw.append(Piece(p.target, p.day, last, p.hi))
    return spans, raw


def _missing(span: Piece, found: int) -> list[Piece]:
    """The hours of ``span`` without a rollup row (bit ``k``: hour ``k`` found),
    consecutive ones merged."""
    result: list[Piece] = []
    hour, k = span.lo, 0
    while hour < span.hi:
        if not found >> k & 1:
            if result and result[-1].hi == hour:
                result[-1] = Piece(span.target, span.day, result[-1].lo, hour + HOUR)
            else:
                result.append(Piece(span.target, span.day, hour, hour + HOUR))
        hour, k = hour + HOUR, k + 1
    return result


async def _from_hours(
    repo: SlaRepository, targets: Sequence[Target], spans: list[Piece], accounts: Accounts
) -> list[Piece]:
    """Answer hour-aligned spans from hour rollups; return the hours they lack."""
    if not spans:
        return []
    missing: list[Piece] = []
    answered = [False] * len(spans)
    for row in await repo.hour_totals([Stretch(targets[s.target].id, s.lo, s.hi) for s in spans]):
        span = spans[row.position]
        answered[row.position] = True
        accounts.add(span.target, span.day, row.total, row.ok, row.downtime, row.covered)
        hours = round((span.hi - span.lo) / HOUR)
        if row.hours is not None and row.hours != (1 << hours) - 1:
            missing.extend(_missing(span, row.hours))
    missing.extend(span for span, found in zip(spans, answered, strict=True) if not found)
    return missing


async def _from_raw(
    repo: SlaRepository, targets: Sequence[Target], pieces: list[Piece], accounts: Accounts
) -> None:
    if not pieces:
        return
    stretches = [Stretch(targets[p.target].id, p.lo, p.hi) for p in pieces]
    for row in await repo.raw_totals(stretches, STALE_AFTER_INTERVALS):
        piece = pieces[row.position]
        accounts.add(piece.target, piece.day, row.total, row.ok, row.downtime, row.covered)


async def account(
    repo: SlaRepository,
    days: Sequence[Day],
    targets: Sequence[Target],
    timezone: str,
    per_day: bool,
) -> Accounts:
    """Every target's time outside maintenance, from the cheapest data that answers it.

    What can be known up front is read at once, on three connections: the day rollups,
    the hours of the days they cannot answer (edges, maintenance) and the raw results of
    the parts of hours (the newest one). Then come the days and hours found missing."""
    accounts = Accounts.empty(len(targets), per_day)
    if not days or not targets:
        return accounts
    touched = [touched_days(days, t.maintenance) if t.maintenance else set() for t in targets]
    whole = {i for i, d in enumerate(days) if d.whole}
    wanted = [whole - skip if skip else whole for skip in touched]
    other = [p for t, tg in enumerate(targets) for p in _rest(t, tg, days, wanted[t], touched[t])]
    spans, raw = _hour_split(days, other)
    done, hours_missing, _ = await asyncio.gather(
        _from_days(repo, days, targets, touched, accounts, timezone),
        _from_hours(repo, targets, spans, accounts),
        _from_raw(repo, targets, raw, accounts),
    )
    days_missing = [
        Piece(t, i, days[i].lo, days[i].hi)
        for t in range(len(targets))
        for i in sorted(wanted[t] - done[t])
    ]
    spans, raw = _hour_split(days, days_missing)
    raw += hours_missing + await _from_hours(repo, targets, spans, accounts)
    await _from_raw(repo, targets, raw, accounts)
    return accounts
