"""The lease repository against the real database: compare-and-set claims, expiry,
renewal by heartbeat, the leader lease and a clean leave."""

from __future__ import annotations

import asyncio

from psycopg_pool import AsyncConnectionPool

from monitor_center.db.repositories.cluster import ClusterRepository, MemberInfo
from tests.waiting import wait_until

CLUSTER = "c0ffee"
LONG = 60.0
SHORT = 0.3


def _member(name: str, role: str = "worker") -> MemberInfo:
    return MemberInfo(name, role, "test-host", 1)


async def test_two_claimers_of_one_free_lease_one_wins(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    ids = [f"e{n}" for n in range(20)]
    await repo.ensure_leases(CLUSTER, ids)
    for endpoint_id in ids:  # twenty races, each on one row
        a, b = await asyncio.gather(
            repo.claim("a", CLUSTER, [endpoint_id], LONG),
            repo.claim("b", CLUSTER, [endpoint_id], LONG),
        )
        assert len(a) + len(b) == 1, (endpoint_id, a, b)


async def test_claimers_of_many_leases_at_once_split_them_without_overlap(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    ids = [f"e{n}" for n in range(300)]
    await repo.ensure_leases(CLUSTER, ids)
    won = await asyncio.gather(*(repo.claim(m, CLUSTER, ids, LONG) for m in "abc"))
    assert sum(len(w) for w in won) == len(ids)
    assert set().union(*won) == set(ids)


async def test_a_held_lease_is_taken_only_once_it_expires(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1"])
    assert await repo.claim("a", CLUSTER, ["e1"], SHORT) == {"e1"}
    assert await repo.claim("b", CLUSTER, ["e1"], LONG) == frozenset()

    async def b_takes_it() -> bool:
        return await repo.claim("b", CLUSTER, ["e1"], LONG) == {"e1"}

    await wait_until(b_takes_it, timeout=5, what="the expired lease taken")
    assert await repo.claim("a", CLUSTER, ["e1"], LONG) == frozenset()


async def test_a_heartbeat_renews_what_the_member_holds(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1", "e2"])
    await repo.claim("a", CLUSTER, ["e1"], SHORT)
    view = await repo.beat(_member("a"), CLUSTER, LONG)
    assert view.held == {"e1"}
    assert view.taken == {"e1": "a"}
    assert [m.id for m in view.members] == ["a"]
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT expires_at - now() FROM endpoint_leases WHERE endpoint_id = 'e1'"
        )
        row = await cur.fetchone()
    assert row is not None and row[0].total_seconds() > LONG - 5, "renewed for LONG"


async def test_a_released_lease_is_free_at_once(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases(CLUSTER, ["e1"])
    await repo.claim("a", CLUSTER, ["e1"], LONG)
    await repo.release("b", CLUSTER, ["e1"])  # not b's to release: nothing happens
    assert await repo.claim("b", CLUSTER, ["e1"], LONG) == frozenset()
    await repo.release("a", CLUSTER, ["e1"])
    assert await repo.claim("b", CLUSTER, ["e1"], LONG) == {"e1"}


async def test_a_member_is_live_while_its_heartbeat_is_fresh(pool: AsyncConnectionPool) -> None:
    repo = ClusterRepository(pool)
    await repo.beat(_member("a"), CLUSTER, SHORT)
    view = await repo.beat(_member("b", "serve"), CLUSTER, LONG)
    assert [(m.id, m.role) for m in view.members] == [("a", "worker"), ("b", "serve")]

    async def a_gone() -> bool:
        view = await repo.beat(_member("b", "serve"), CLUSTER, LONG)
        return [m.id for m in view.members] == ["b"]

    await wait_until(a_gone, timeout=5, what="a's heartbeat to expire")


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
    await repo.claim("a", CLUSTER, ["e1", "e2"], LONG)
    await repo.claim_leader("a", CLUSTER, LONG)
    await repo.leave("a")
    view = await repo.beat(_member("b"), CLUSTER, LONG)
    assert (view.taken, view.leader, [m.id for m in view.members]) == ({}, None, ["b"])
    assert await repo.claim("b", CLUSTER, ["e1", "e2"], LONG) == {"e1", "e2"}
    assert await repo.claim_leader("b", CLUSTER, LONG) is not None


async def test_a_heartbeat_in_a_new_cluster_gives_back_the_old_clusters_leases(
    pool: AsyncConnectionPool,
) -> None:
    repo = ClusterRepository(pool)
    await repo.ensure_leases("old", ["e1"])
    await repo.claim("a", "old", ["e1"], LONG)
    await repo.beat(_member("a"), "new", LONG)
    assert await repo.claim("b", "old", ["e1"], LONG) == {"e1"}
