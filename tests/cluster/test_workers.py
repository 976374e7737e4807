"""``monitor-center worker`` processes sharing 30 endpoints on one database, as operators
run them: SIGKILL one, add one, kill the leader. After each, probe_results must show
every endpoint on its grid with no slot probed twice and no endpoint without a result for
more than two intervals; an alert must still fire, once.

One set of workers serves the module (starting Python processes is the slow part); each
test brings it to the number of workers it needs and checks its own window.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import pytest
import pytest_asyncio

from monitor_center.cluster import share_of
from tests.cluster.harness import (
    ENDPOINTS,
    INTERVAL,
    RULE,
    VICTIM,
    Cluster,
    Worker,
    fleet_yaml,
    grid_problems,
)
from tests.dbutil import scratch_database
from tests.receivers import Receiver
from tests.running import Backend, loopback_backend
from tests.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

START_TIMEOUT = 30.0
"""Python processes starting on a busy 2-core machine: generous, it is not measured."""


@dataclass
class Scene:
    cluster: Cluster
    backend: Backend
    hook: Receiver


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scene]:
    folder = tmp_path_factory.mktemp("cluster")
    with scratch_database(template=migrated_template) as db_url:
        async with (
            loopback_backend() as backend,
            Receiver() as hook,
            await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn,
        ):
            config = folder / "fleet.yaml"
            config.write_text(fleet_yaml(backend.url, hook.url), encoding="utf-8")
            cluster = Cluster(db_url, config, folder, conn)
            try:
                yield Scene(cluster, backend, hook)
            finally:
                cluster.stop_all()


async def _with_workers(scene: Scene, count: int) -> dict[str, str]:
    """Start workers until ``count`` run; wait until their shares are settled."""
    cluster = scene.cluster
    while len(cluster.running) < count:
        cluster.spawn()
    try:
        return await wait_until(cluster.settled, timeout=START_TIMEOUT, what="leases settled")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.logs()}") from None


async def _check_grid(scene: Scene, start: datetime) -> None:
    """Every endpoint on its grid from ``start`` until one interval ago."""
    cluster = scene.cluster
    end = await cluster.db_now() - timedelta(seconds=INTERVAL)
    problems = grid_problems(await cluster.results(start), start, end)
    assert problems == [], f"{problems}\n{cluster.logs()}"


async def test_a_killed_workers_endpoints_are_probed_again_within_two_intervals(
    scene: Scene,
) -> None:
    cluster = scene.cluster
    holders = await _with_workers(scene, 3)
    start = await cluster.db_now()
    await wait_until(lambda: cluster.each_probed(start, 3), timeout=15, what="3 probes each")
    leader = await cluster.leader()
    members = await cluster.members()
    victim = next(w for w in cluster.running if members[w.pid] != leader)
    orphans = {e for e, h in holders.items() if h == members[victim.pid]}
    assert orphans, "the victim held a share"
    cluster.kill(victim)
    killed_at = await cluster.db_now()

    async def taken_over() -> bool:
        holders = await cluster.holders()
        return all(holders.get(e) not in (None, members[victim.pid]) for e in orphans)

    await wait_until(taken_over, timeout=10, what="the dead worker's endpoints taken over")
    claimed = (await cluster.db_now() - killed_at).total_seconds()
    await wait_until(lambda: cluster.each_probed(killed_at, 3), timeout=15, what="probes")
    await _check_grid(scene, start)
    gaps = _longest_gaps(await cluster.results(start), orphans)
    print(f"\nSIGKILL -> {len(orphans)} endpoints claimed {claimed:.2f} s; longest gap {gaps}")


def _longest_gaps(results: dict[str, list[datetime]], endpoints: set[str]) -> str:
    """The longest time without a result among ``endpoints``, in intervals."""
    worst = max(
        (b - a).total_seconds()
        for e in endpoints
        for a, b in zip(results[e], results[e][1:], strict=False)
    )
    return f"{worst:.2f} s ({worst / INTERVAL:.2f} intervals)"


async def test_a_joining_worker_takes_its_share_without_double_probes(scene: Scene) -> None:
    cluster = scene.cluster
    before = await _with_workers(scene, 2)
    start = await cluster.db_now()
    newcomer: Worker = cluster.spawn()
    holders = await _with_workers(scene, 3)
    members = await cluster.members()
    mine = {e for e, h in holders.items() if h == members[newcomer.pid]}
    assert mine == share_of(members[newcomer.pid], ENDPOINTS, sorted(members.values()))
    assert mine, "the newcomer holds endpoints"
    assert all(before[e] != holders[e] for e in mine), "each of them moved to it"
    settled_at = await cluster.db_now()
    await wait_until(lambda: cluster.each_probed(settled_at, 2), timeout=15, what="probes")
    await _check_grid(scene, start)


async def test_the_leader_lease_fails_over_and_a_later_outage_alerts_once(
    scene: Scene,
) -> None:
    cluster = scene.cluster
    await _with_workers(scene, 3)
    leader = await wait_until(cluster.leader, timeout=10, what="a leader")
    members = await cluster.members()
    old = next(w for w in cluster.running if members[w.pid] == leader)
    start = await cluster.db_now()
    cluster.kill(old)
    scene.hook.reset()
    scene.backend.failing.add(VICTIM)

    async def new_leader() -> str | None:
        current = await cluster.leader()
        return current if current not in (None, leader) else None

    await wait_until(new_leader, timeout=10, what="another leader")
    led = (await cluster.db_now() - start).total_seconds()
    try:
        firing = await scene.hook.wait_for_requests(1, timeout=8 * INTERVAL)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await _alerts(cluster)}\n{cluster.logs()}") from None
    # A few more intervals of failures: still one alert, one notification.
    outage = await cluster.db_now()
    hooked = (outage - start).total_seconds()
    print(f"\nleader SIGKILL -> new leader {led:.2f} s, outage -> webhook within {hooked:.2f} s")
    await wait_until(lambda: cluster.each_probed(outage, 3), timeout=15, what="probes")
    assert await _alerts(cluster) == [(RULE, VICTIM, "firing")]
    statuses = [(r.json or {}).get("status") for r in scene.hook.requests]
    assert statuses == ["firing"], [json.dumps(r.json) for r in scene.hook.requests]
    assert (firing[0].json or {})["alerts"][0]["labels"]["subject"] == VICTIM
    await _check_grid(scene, start)


async def _alerts(cluster: Cluster) -> list[tuple[object, ...]]:
    cur = await cluster.conn.execute("SELECT rule_id, subject, state FROM alerts ORDER BY id")
    return await cur.fetchall()


async def test_stopped_workers_leave_no_lease_behind(scene: Scene) -> None:
    cluster = scene.cluster
    await _with_workers(scene, 2)
    stopping = cluster.running
    cluster.stop_all()
    assert [w.proc.returncode for w in stopping] == [0] * len(stopping), cluster.logs()
    assert await cluster.holders() == {}
    assert await cluster.members() == {}
