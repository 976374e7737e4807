"""The rollup job: a pass rolls what changed, a rebuild rolls a whole period.

Work is found without touching the writers: triggers on the raw tables mark each
15-minute slot that received rows (``rollup_marks``). A pass turns marks into the buckets
they affect (``rollup_pending``, persisted), adds the buckets that time alone changes (the
current hour and day, and the ones that ended since the last pass), then rolls each bucket
in its own transaction, deleting its pending row in the same transaction. A pass that dies
half-way has committed whole buckets only and left the rest pending: the next pass
finishes them and the numbers equal those of an uninterrupted pass.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor_center.config import Config
from monitor_center.db.repositories.rollups import (
    SOURCES,
    BucketRow,
    Resolution,
    RollParams,
    RollupRepository,
    RollupSession,
    Source,
)
from monitor_center.rollups.buckets import (
    HOUR,
    RESOLUTIONS,
    bucket_end,
    bucket_start,
    buckets,
    covering,
)

log = logging.getLogger(__name__)

SLOT = timedelta(minutes=15)
# How far back a series bucket looks for its baseline (the sample its increase starts from):
# a sample is therefore the baseline of buckets starting up to a day after it.
SERIES_LOOKBACK = timedelta(days=1)

Progress = Callable[[int, int, BucketRow], None]
"""Called after each committed bucket with (buckets done, buckets in this run, bucket)."""


@dataclass(frozen=True, slots=True)
class RollupScope:
    """What the rollups depend on in the config: the zone and which series are counters."""

    zone: ZoneInfo
    series_kinds: Mapping[str, str] | None = None
    """``None``: keep the kinds remembered from the last run that had a config."""

    @classmethod
    def of(cls, config: Config) -> RollupScope:
        return cls(config.center.zone, {s.id: s.kind for s in config.series})


@dataclass
class RollupReport:
    """What a run did: buckets rolled per (source, resolution), rows written, skips."""

    buckets: Counter[tuple[Source, Resolution]] = field(default_factory=Counter)
    rows: int = 0
    skipped_final: int = 0
    empty: int = 0
    """Rebuild: buckets of days with neither raw rows nor rollups (nothing to do)."""
    final_before: dict[Source, datetime | None] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.buckets.values())

    def is_final(self, bucket: BucketRow) -> bool:
        """Whether retention made the bucket final (never re-rolled again)."""
        final = self.final_before.get(bucket.source)
        return final is not None and bucket.start < final


class RollupJob:
    """Rolls hourly and daily buckets of probe results and series samples."""

    def __init__(
        self, repo: RollupRepository, *, day_refresh: timedelta = timedelta(minutes=15)
    ) -> None:
        """``day_refresh``: the current day is re-rolled at most this often (it is the
        expensive bucket: a whole day of raw rows); hours are re-rolled every pass."""
        self._repo = repo
        self._day_refresh = day_refresh
        self._last_now: datetime | None = None
        self._days_rolled: dict[tuple[Source, datetime], datetime] = {}

    async def run_pass(
        self, scope: RollupScope, now: datetime, progress: Progress | None = None
    ) -> RollupReport | None:
        """Roll everything owed; ``None`` when another process is rolling right now."""
        async with self._repo.session(wait=False) as session:
            if session is None:
                return None
            return await self.pass_in(session, scope, now, progress)

    async def rebuild(
        self,
        scope: RollupScope,
        since: datetime,
        until: datetime,
        now: datetime,
        progress: Progress | None = None,
    ) -> RollupReport:
        """Re-roll every hour and day bucket overlapping [since, until) (none in the future).

        Buckets made final by retention are skipped: their raw rows are gone.
        """
        async with self._repo.session(wait=True) as session:
            assert session is not None
            await self._remember(session, scope)
            report = RollupReport(final_before=await session.final_before())
            todo: list[BucketRow] = []
            for resolution in RESOLUTIONS:
                for source in SOURCES:
                    for b in buckets(source, resolution, since, min(until, now), scope.zone):
                        if report.is_final(b):
                            report.skipped_final += 1
                        else:
                            todo.append(b)
            params = RollParams(now, await session.carry_seconds(), SERIES_LOOKBACK)
            empty = _EmptyDays(session, scope.zone, params.carry_seconds)
            await self._roll_all(session, todo, params, report, progress, empty)
            return report

    async def pass_in(
        self,
        session: RollupSession,
        scope: RollupScope,
        now: datetime,
        progress: Progress | None = None,
    ) -> RollupReport:
        """A pass inside a session the caller holds (retention rolls first, then drops)."""
        await self._remember(session, scope)
        carry = await session.carry_seconds()
        zone = scope.zone
        await session.absorb_marks(lambda source, slot: self._affected(source, slot, carry, zone))
        await session.add_pending(self._recent(now, zone))
        report = RollupReport(final_before=await session.final_before())
        todo, dropped = self._due(await session.pending(), report, now)
        await session.forget_pending(dropped)
        params = RollParams(now, carry, SERIES_LOOKBACK)
        await self._roll_all(session, todo, params, report, progress)
        self._last_now = now
        return report

    async def _remember(self, session: RollupSession, scope: RollupScope) -> None:
        before = await session.remember(scope.zone.key, scope.series_kinds)
        if before is not None and before != scope.zone.key:
            # Buckets already rolled are aligned on the old zone's hours and midnights.
            log.warning(
                "center time zone changed from %s to %s: run `monitor-center rollup rebuild"
                " --since DATE` to realign the rollups made before",
                before,
                scope.zone.key,
            )

    @staticmethod
    def _affected(source: Source, slot: datetime, carry: float, zone: ZoneInfo) -> set[BucketRow]:
        """Buckets whose numbers rows in ``slot`` can change.

        A probe result's span reaches ``carry`` seconds forward, and it shortens the span
        of the result before it; a series sample is the baseline of later buckets.
        """
        if source == "probe":
            reach = timedelta(seconds=carry)
            return covering(source, slot - reach, slot + SLOT + reach, zone)
        return covering(source, slot, slot + SLOT + SERIES_LOOKBACK, zone)

    def _recent(self, now: datetime, zone: ZoneInfo) -> Iterable[BucketRow]:
        """Buckets that time alone changes: spans are cut at ``now``, so the current
        bucket grows, and a bucket that ended since the last pass needs a final roll
        (readers trust a bucket rolled after its end). A first pass takes the last hour."""
        since = self._last_now if self._last_now is not None else now - HOUR
        return {b for source in SOURCES for b in covering(source, since, now, zone)}

    def _due(
        self, pending: list[BucketRow], report: RollupReport, now: datetime
    ) -> tuple[list[BucketRow], list[BucketRow]]:
        """Split pending buckets into (to roll now, to forget); the rest wait."""
        todo: list[BucketRow] = []
        dropped: list[BucketRow] = []
        for b in pending:
            if b.start >= now:
                dropped.append(b)  # not begun: its rows will mark it again
            elif report.is_final(b):
                report.skipped_final += 1
                dropped.append(b)
            elif not self._throttled(b, now):
                todo.append(b)
        return todo, dropped

    def _throttled(self, bucket: BucketRow, now: datetime) -> bool:
        if bucket.resolution != "day" or bucket.end <= now:
            return False
        rolled = self._days_rolled.get((bucket.source, bucket.start))
        return rolled is not None and now - rolled < self._day_refresh

    async def _roll_all(
        self,
        session: RollupSession,
        todo: list[BucketRow],
        params: RollParams,
        report: RollupReport,
        progress: Progress | None,
        empty: _EmptyDays | None = None,
    ) -> None:
        for done, bucket in enumerate(todo, 1):
            if empty is not None and await empty(bucket):
                report.empty += 1
            else:
                report.rows += await session.roll(bucket, params)
                report.buckets[bucket.source, bucket.resolution] += 1
            if bucket.resolution == "day":
                self._days_rolled[bucket.source, bucket.start] = params.now
            if progress is not None:
                progress(done, len(todo), bucket)
        # Only open days are throttled: forget the others.
        horizon = params.now - timedelta(days=2)
        for key in [k for k in self._days_rolled if k[1] < horizon]:
            del self._days_rolled[key]


class _EmptyDays:
    """Rebuild: whether a bucket's local day has neither raw rows nor rollups.

    A rebuild over months of which only some have data then costs one query per empty
    day, not one transaction per bucket.
    """

    def __init__(self, session: RollupSession, zone: ZoneInfo, carry: float) -> None:
        self._session = session
        self._zone = zone
        self._carry = carry
        self._known: dict[tuple[Source, datetime], bool] = {}

    async def __call__(self, bucket: BucketRow) -> bool:
        day = bucket_start(bucket.start, "day", self._zone)
        key = (bucket.source, day)
        if key not in self._known:
            # Probe spans reach in from before the day; series baselines add no rows.
            reach = timedelta(seconds=self._carry if bucket.source == "probe" else 0.0)
            end = bucket_end(day, "day", self._zone)
            self._known[key] = await self._session.nothing_between(bucket.source, day, end, reach)
        return self._known[key]
