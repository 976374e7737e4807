"""Retention: raw rows past N days are dropped once rolled up; rollups stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor_center.rollups import enforce_retention
from monitor_center.rollups.retention import drop_raw
from tests.rollups.helpers import SCOPE, ZONE, Store, local

NOW = local("2026-06-20 10:00:00")
DAY = timedelta(days=1)


async def _old_and_new(store: Store) -> None:
    """Results and samples 100 and more days old, and recent ones."""
    await store.endpoint("ngsp-api", 60)
    for age in (105, 100, 10, 0):
        start = NOW - age * DAY - timedelta(hours=2)
        await store.results(
            "ngsp-api", [(start + i * timedelta(minutes=1), i % 9 != 0, 50.0) for i in range(90)]
        )
        await store.samples(
            "ngsp-tx", [(start + i * timedelta(minutes=5), i * 10.0) for i in range(18)]
        )


async def _count(store: Store, table: str, older_than: datetime) -> int:
    rows = await store.rows(f"SELECT count(*) FROM {table} WHERE time < %s", (older_than,))
    return int(rows[0][0])


async def test_old_raw_rows_go_and_their_rollups_stay(store: Store) -> None:
    await _old_and_new(store)
    report = await enforce_retention(store.repo, store.job(), SCOPE, NOW, days=90)
    # Rolled first (no pass had run), then dropped.
    assert report.rolled.buckets["probe", "day"] >= 4
    # Only the two recent groups are left (10 days old and today).
    for table, recent in (("probe_results", 180), ("series_samples", 36)):
        assert await _count(store, table, NOW - 97 * DAY) == 0
        assert await _count(store, table, NOW + DAY) == recent
    days = await store.probe_rollups("day")
    old = [v for (e, d), v in days.items() if d < (NOW - 99 * DAY).replace(tzinfo=None)]
    assert sorted(v[0] for v in old) == [90, 90]  # 100 and 105 days ago, 90 probes each
    dropped = {d.source: d for d in report.dropped}
    assert dropped["probe"].before == local("2026-03-22 00:00")
    assert (dropped["probe"].rows or 0) + (dropped["probe"].chunks or 0) > 0
    finals = dict(await store.rows("SELECT source, final_before FROM rollup_state"))
    assert finals == {"probe": local("2026-03-23 00:00"), "series": local("2026-03-23 00:00")}


async def test_a_rebuild_keeps_the_rollups_whose_raw_rows_are_gone(store: Store) -> None:
    await _old_and_new(store)
    await enforce_retention(store.repo, store.job(), SCOPE, NOW, days=90)
    kept = await store.dump()
    report = await store.job().rebuild(SCOPE, NOW - 110 * DAY, NOW - 80 * DAY, NOW)
    assert report.skipped_final > 0
    assert await store.dump() == kept
    # A sample pushed late for a final bucket changes nothing either.
    await store.samples("ngsp-tx", [(NOW - 100 * DAY, 1e6)])
    late = await store.job().run_pass(SCOPE, NOW)
    assert late is not None and late.skipped_final > 0
    assert await store.dump() == kept


async def test_rows_still_owed_a_rollup_are_never_dropped(store: Store) -> None:
    await _old_and_new(store)
    # No pass has run: every slot is still marked, so nothing may go.
    async with store.repo.session(wait=True) as session:
        assert session is not None
        await drop_raw(session, ZONE, NOW, days=90)
    assert await _count(store, "probe_results", NOW - 97 * DAY) == 180
    assert await _count(store, "series_samples", NOW - 97 * DAY) == 36
    assert await store.rows("SELECT count(*) FROM probe_rollups") == [(0,)]
