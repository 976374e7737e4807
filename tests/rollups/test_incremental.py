"""The periodic pass: late data re-rolls its bucket; twice, or after a crash, same numbers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import psycopg
import pytest

from monitor_center.db.repositories.rollups import BucketRow
from tests.rollups.helpers import SCOPE, Store, at, local, open_store

NOW = local("2026-03-10 02:20:00")
MINUTE = timedelta(minutes=1)


async def _history(store: Store, until: datetime = NOW) -> None:
    """Two endpoints and two series, every few minutes over the last day and a half."""
    await store.endpoint("ngsp-api", 60)
    await store.endpoint("dvcqg-portal", 120)
    t, i = until - timedelta(hours=36), 0
    results: dict[str, list[tuple[datetime, bool, float]]] = {"ngsp-api": [], "dvcqg-portal": []}
    tx: list[tuple[datetime, float]] = []
    while t < until:
        results["ngsp-api"].append((t, i % 13 != 5, 40.0 + i % 17))
        if i % 3 == 0:
            results["dvcqg-portal"].append((t, i % 29 > 3, 300.0 + i % 23))
        tx.append((t, float(i * 7 % 500)))  # resets now and then
        t, i = t + 4 * MINUTE + timedelta(seconds=i % 50), i + 1
    for endpoint, rows in results.items():
        await store.results(endpoint, rows)
    await store.samples("ngsp-tx", tx)
    await store.samples("level4-share", [(t, 15.0 + v / 100) for t, v in tx[::5]])


async def test_a_pass_rolls_all_new_history_and_a_second_pass_changes_nothing(
    store: Store,
) -> None:
    await _history(store)
    job = store.job()
    first = await job.run_pass(SCOPE, NOW)
    assert first is not None and first.buckets["probe", "hour"] >= 36
    once = await store.dump()
    second = await job.run_pass(SCOPE, NOW + MINUTE)
    # The current hour of each source; the current day waits for MONITOR_ROLLUP_DAY_REFRESH.
    assert second is not None and second.total == 2
    assert await store.dump() == once


async def test_late_data_re_rolls_its_bucket_and_only_the_buckets_it_touches(
    store: Store,
) -> None:
    await _history(store)
    job = store.job()
    await job.run_pass(SCOPE, NOW)
    before, days_before = await store.probe_rollups("hour"), await store.probe_rollups("day")
    rolled_at = dict(await store.rows("SELECT bucket, rolled_at FROM probe_rollups"))
    # A result replayed from the writer's spool, for an hour long rolled up.
    await store.results("ngsp-api", [(local("2026-03-09 09:31:00"), False, 0)])
    report = await job.run_pass(SCOPE, NOW + MINUTE)
    assert report is not None
    after = await store.probe_rollups("hour")
    key = ("ngsp-api", at("2026-03-09 09:00"))
    assert after[key][0] == before[key][0] + 1 and after[key][1] == before[key][1]
    assert after[key][2] > before[key][2]  # its span counts as downtime
    untouched = await store.rows(
        "SELECT bucket, rolled_at FROM probe_rollups WHERE resolution = 'hour' AND bucket = %s",
        (local("2026-03-09 05:00"),),
    )
    assert untouched and all(rolled_at[b] == r for b, r in untouched)
    day = ("ngsp-api", at("2026-03-09 00:00"))
    assert (await store.probe_rollups("day"))[day][0] == days_before[day][0] + 1


async def test_a_late_sample_re_rolls_its_bucket_and_the_next_ones_baseline(
    store: Store,
) -> None:
    await store.samples(
        "ngsp-tx", [(local("2026-03-09 10:10"), 100), (local("2026-03-09 11:10"), 160)]
    )
    job = store.job()
    await job.run_pass(SCOPE, NOW)
    assert (await store.series_rollups("hour"))["ngsp-tx", at("2026-03-09 11:00")][5] == 60
    await store.samples("ngsp-tx", [(local("2026-03-09 10:50"), 130)])
    await job.run_pass(SCOPE, NOW + MINUTE)
    hours = await store.series_rollups("hour")
    assert hours["ngsp-tx", at("2026-03-09 10:00")][5] == 30
    assert hours["ngsp-tx", at("2026-03-09 11:00")][5] == 30  # its baseline is now 130


class Crash(Exception):
    """Stands for the process dying between two buckets."""


async def test_a_pass_interrupted_half_way_then_run_again_gives_the_same_numbers(
    store: Store,
) -> None:
    await _history(store)
    async with open_store(store.template) as twin:
        await _history(twin)
        whole = await twin.job().run_pass(SCOPE, NOW)
        assert whole is not None and whole.total > 10
        expected = await twin.dump()

    committed: list[BucketRow] = []

    def die_after_the_third(done: int, total: int, bucket: BucketRow) -> None:
        committed.append(bucket)
        if done == 3:
            raise Crash

    with pytest.raises(Crash):
        await store.job().run_pass(SCOPE, NOW, die_after_the_third)
    assert len(committed) == 3
    partial = await store.dump()
    assert 0 < len(partial) < len(expected)
    owed = await store.rows("SELECT count(*) FROM rollup_pending")
    assert owed[0][0] == whole.total - 3
    # A new process (a new job) finishes the work.
    report = await store.job().run_pass(SCOPE, NOW)
    assert report is not None and report.total == whole.total - 3
    assert await store.dump() == expected


async def test_the_current_day_is_re_rolled_at_most_every_day_refresh(store: Store) -> None:
    await _history(store)
    job = store.job()
    await job.run_pass(SCOPE, NOW)
    soon = await job.run_pass(SCOPE, NOW + MINUTE)
    assert soon is not None and soon.buckets["probe", "day"] == 0
    assert soon.buckets["probe", "hour"] >= 1
    later = await job.run_pass(SCOPE, NOW + 16 * MINUTE)
    assert later is not None and later.buckets["probe", "day"] == 1


async def test_a_bucket_that_ended_since_the_last_pass_gets_a_final_roll(store: Store) -> None:
    await store.endpoint("ngsp-api", 60)
    await store.results("ngsp-api", [(local("2026-03-09 23:58:30"), True, 40)])
    job = store.job()
    await job.run_pass(SCOPE, local("2026-03-09 23:59:00"))
    assert (await store.probe_rollups("hour"))["ngsp-api", at("2026-03-09 23:00")][3] == 30
    # Past midnight with no new rows: the hour and the day are rolled once more, whole.
    after = await job.run_pass(SCOPE, local("2026-03-10 00:01:00"))
    assert after is not None and after.buckets["probe", "hour"] == 2
    assert after.buckets["probe", "day"] == 2  # yesterday, closed, and the new day
    assert (await store.probe_rollups("hour"))["ngsp-api", at("2026-03-09 23:00")][3] == 90
    assert (await store.probe_rollups("day"))["ngsp-api", at("2026-03-09 00:00")][3] == 90
    later = await job.run_pass(SCOPE, local("2026-03-10 00:02:00"))
    assert later is not None and later.buckets["probe", "day"] == 0


async def test_a_row_committed_while_the_pass_reads_the_marks_is_never_forgotten(
    store: Store,
) -> None:
    await store.endpoint("ngsp-api", 60)
    await store.results("ngsp-api", [(local("2026-03-09 09:00:00"), True, 40)])
    writer = await psycopg.AsyncConnection.connect(store.url)
    try:
        # A writer's batch for the same slot, its trigger run, not yet committed.
        await writer.execute(
            "INSERT INTO probe_results (time, endpoint_id, ok, total_ms)"
            " VALUES (%s, 'ngsp-api', false, 0)",
            (local("2026-03-09 09:01:00"),),
        )
        rolling = asyncio.create_task(store.job().run_pass(SCOPE, NOW))
        await asyncio.sleep(0.5)
        assert not rolling.done()  # the mark is the writer's until it commits
        await writer.commit()
        await rolling
    finally:
        await writer.close()
    # The mark was bumped while the pass read it: it stays, for the pass after.
    assert await store.rows("SELECT count(*) FROM rollup_marks") == [(1,)]
    await store.job().run_pass(SCOPE, NOW + MINUTE)
    assert (await store.probe_rollups("hour"))["ngsp-api", at("2026-03-09 09:00")][:2] == (2, 1)


async def test_a_second_process_skips_the_pass_while_one_is_rolling(store: Store) -> None:
    async with store.repo.session(wait=False) as holding:
        assert holding is not None
        assert await store.job().run_pass(SCOPE, NOW) is None
