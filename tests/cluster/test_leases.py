"""The lease repository against the real database: compare-and-set claims, leases that
last as long as their holder's heartbeat, the leader lease and a clean leave."""

from __future__ import annotations

import asyncio

from psycopg_pool import AsyncConnectionPool

from monitor_center.db.repositories.cluster import ClusterRepository, MemberInfo
from tests.waiting import wait_until

CLUSTER = "c0ffee"
LONG = 60.0
SHORT = 0.3
XMINS = "SELECT xmin::text FROM endpoint_leases ORDER BY endpoint_id"


def _member(name: str, role: str = "worker") -> MemberInfo:
    return MemberInfo(name, role, "test-host", 1)


async def _expired(repo: ClusterRepository, name: str) -> None:
    """Wait until ``name``'s heartbeat has expired (as another member sees it)."""

    async def gone() -> bool:
        view = await repo.beat(_member("observer"), CLUSTER, LONG)
        return name not in {m.id for m in view.members}

    await wait_until(gone, timeout=5, what=f"{name}'s heartbeat to expire")


async def _race_for_each(
    repo: ClusterRepository, ids: list[str], dead: list[str] | None = None
) -> None:
    """Two claimers race for each lease in turn: exactly one wins each race."""
    for endpoint_id in ids:
        a, b = await asyncio.gather(
            repo.claim("a", CLUSTER, [endpoint_id], dead=dead or []),
            repo.claim("b", CLUSTER, [endpoint_id], dead=dead or []),
        )
        assert len(a) + len(b) == 1, (endpoint_id, a, b)


async def test_two_claimers_of_one_free_lease_one_wins(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    ids = [f"e{n}" for n in range(20)]
    await repo.ensure_leases(CLUSTER, ids)
    await _race_for_each(repo, ids)


async def test_claimers_of_many_leases_at_once_split_them_without_overlap(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    ids = [f"e{n}" for n in range(300)]
    await repo.ensure_leases(CLUSTER, ids)
    won = await asyncio.gather(*(repo.claim(m, CLUSTER, ids) for m in "abc"))
    assert sum(len(w) for w in won) == len(ids)
    assert set().union(*won) == set(ids)


async def test_two_claimers_of_a_dead_members_lease_one_wins(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    ids = [f"e{n}" for n in range(20)]
    await repo.ensure_leases(CLUSTER, ids)
    await repo.beat(_member("dead"), CLUSTER, SHORT)
    await repo.claim("dead", CLUSTER, ids)
    await _expired(repo, "dead")
    await _race_for_each(repo, ids, dead=["dead"])


async def test_a_lease_is_taken_only_once_its_holders_heartbeat_expires(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1"])
    await repo.beat(_member("a"), CLUSTER, SHORT)
    assert await repo.claim("a", CLUSTER, ["e1"]) == {"e1"}
    assert await repo.claim("b", CLUSTER, ["e1"]) == frozenset()
    assert await repo.claim("b", CLUSTER, ["e1"], dead=["a"]) == frozenset(), "a is live"
    await _expired(repo, "a")
    assert await repo.claim("b", CLUSTER, ["e1"], dead=["a"]) == {"e1"}
    view = await repo.beat(_member("a"), CLUSTER, LONG)  # a is back: e1 is not its
    assert view.held == frozenset() and view.taken == {"e1": "b"}


async def test_a_holder_that_heartbeats_again_before_the_claim_keeps_its_leases(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1"])
    await repo.beat(_member("a"), CLUSTER, SHORT)
    await repo.claim("a", CLUSTER, ["e1"])
    await _expired(repo, "a")
    await repo.beat(_member("a"), CLUSTER, LONG)  # late, but before b's claim
    assert await repo.claim("b", CLUSTER, ["e1"], dead=["a"]) == frozenset()
    assert (await repo.beat(_member("a"), CLUSTER, LONG)).held == {"e1"}


async def test_a_heartbeat_keeps_every_lease_with_one_row_written(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    ids = [f"e{n}" for n in range(50)]
    await repo.ensure_leases(CLUSTER, ids)
    await repo.beat(_member("a"), CLUSTER, LONG)
    await repo.claim("a", CLUSTER, ids)
    async with pool.connection() as conn:
        before = await (await conn.execute(XMINS)).fetchall()
        for _ in range(3):
            view = await repo.beat(_member("a"), CLUSTER, LONG)
        after = await (await conn.execute(XMINS)).fetchall()
    assert view.held == set(ids)
    assert after == before, "no lease row rewritten by a heartbeat"


async def test_a_released_lease_is_free_at_once(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1"])
    await repo.claim("a", CLUSTER, ["e1"])
    await repo.release("b", CLUSTER, ["e1"])  # not b's to release: nothing happens
    assert await repo.claim("b", CLUSTER, ["e1"]) == frozenset()
    await repo.release("a", CLUSTER, ["e1"])
    assert await repo.claim("b", CLUSTER, ["e1"]) == {"e1"}


async def test_a_member_is_live_while_its_heartbeat_is_fresh(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.beat(_member("a"), CLUSTER, SHORT)
    view = await repo.beat(_member("b", "serve"), CLUSTER, LONG)
    assert [(m.id, m.role) for m in view.members] == [("a", "worker"), ("b", "serve")]
    await _expired(repo, "a")


async def test_members_of_another_cluster_are_not_seen(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.beat(_member("a"), "other", LONG)
    view = await repo.beat(_member("b"), CLUSTER, LONG)
    assert [m.id for m in view.members] == ["b"]


async def test_the_leader_lease_has_one_holder_and_fails_over_when_it_expires(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    terms = await asyncio.gather(
        repo.claim_leader("a", CLUSTER, SHORT), repo.claim_leader("b", CLUSTER, SHORT)
    )
    assert sorted(t is None for t in terms) == [False, True], terms
    holder, other = ("a", "b") if terms[0] is not None else ("b", "a")
    first = next(t for t in terms if t is not None)
    assert await repo.claim_leader(holder, CLUSTER, SHORT) == first  # renewal: same term

    async def other_leads() -> int | None:
        return await repo.claim_leader(other, CLUSTER, LONG)

    term = await wait_until(other_leads, timeout=5, what="the leader lease to fail over")
    assert term == first + 1
    assert await repo.claim_leader(holder, CLUSTER, LONG) is None


async def test_leaving_frees_every_lease_and_the_leader_lease(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1", "e2"])
    await repo.beat(_member("a"), CLUSTER, LONG)
    await repo.claim("a", CLUSTER, ["e1", "e2"])
    await repo.claim_leader("a", CLUSTER, LONG)
    await repo.leave("a")
    view = await repo.beat(_member("b"), CLUSTER, LONG)
    assert (view.taken, view.leader, [m.id for m in view.members]) == ({}, None, ["b"])
    assert await repo.claim("b", CLUSTER, ["e1", "e2"]) == {"e1", "e2"}
    assert await repo.claim_leader("b", CLUSTER, LONG) is not None


async def test_a_heartbeat_in_a_new_cluster_gives_back_the_old_clusters_leases(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases("old", ["e1"])
    await repo.claim("a", "old", ["e1"])
    await repo.beat(_member("a"), "new", LONG)
    assert await repo.claim("b", "old", ["e1"]) == {"e1"}
