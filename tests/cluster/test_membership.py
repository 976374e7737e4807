"""Membership in one process against the real database: shares, hand-overs, the per-probe
gate when the event loop stalls, and a member cut off from the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr, ValidationError

from monitor_center.cluster import Membership, owner
from monitor_center.db import open_pool
from monitor_center.db.repositories.cluster import ClusterRepository, MemberInfo
from monitor_center.settings import Settings
from tests.waiting import wait_until

CLUSTER = "membership-test"
HEARTBEAT = 0.1
TTL = 0.4
INTERVALS = {f"e{n}": 0.5 for n in range(12)}


class Assigned:
    """Records what ``apply`` was told (the scheduler's side); with ``slow``, every call
    after the first waits for ``go`` (a scheduler restarting probe worker processes)."""

    def __init__(self, *, slow: bool = False) -> None:
        self.owned: frozenset[str] = frozenset()
        self.calls = 0
        self.waiting = False
        self.go = asyncio.Event()
        if not slow:
            self.go.set()

    async def __call__(self, owned: frozenset[str]) -> None:
        self.calls += 1
        if self.calls > 1:
            self.waiting = True
            await self.go.wait()
            self.waiting = False
        self.owned = owned


@asynccontextmanager
async def _member(
    pool: AsyncConnectionPool, name: str, role: str = "worker", assigned: Assigned | None = None
) -> AsyncIterator[tuple[Membership, Assigned]]:
    assigned = assigned or Assigned()
    member = Membership(
        ClusterRepository(pool),
        MemberInfo(name, role, "test-host", 1),
        assigned,
        heartbeat=HEARTBEAT,
        ttl=TTL,
    )
    await member.start(CLUSTER, INTERVALS)
    try:
        yield member, assigned
    finally:
        await member.stop()


def _stall_event_loop() -> None:
    """Block the loop past the leases' ttl: no round can run meanwhile."""
    time.sleep(TTL * 1.5)


async def _true(value: bool) -> bool:
    return value


async def test_a_lone_member_owns_everything_and_leads_after_its_first_round(
    pool: AsyncConnectionPool,
) -> None:
    async with _member(pool, "a") as (a, assigned):
        assert a.owned == assigned.owned == set(INTERVALS)
        assert a.leading and a.alone
        assert all(a.owns(e) for e in INTERVALS)


async def test_a_joining_member_gets_its_rendezvous_share_and_the_other_lets_it_go(
    pool: AsyncConnectionPool,
) -> None:
    b_share = {e for e in INTERVALS if owner(e, ["a", "b"]) == "b"}
    async with _member(pool, "a") as (a, _), _member(pool, "b") as (b, assigned_b):

        async def split() -> bool:
            return b.owned == b_share and a.owned == set(INTERVALS) - b_share

        await wait_until(split, timeout=5, what="the endpoints split between a and b")
        assert assigned_b.owned == b_share
        assert not any(a.owns(e) for e in b_share)
        assert not a.alone and not b.leading


async def test_the_last_probe_of_a_leaving_endpoint_closes_the_gate_at_once(
    pool: AsyncConnectionPool,
) -> None:
    b_share = {e for e in INTERVALS if owner(e, ["a", "b"]) == "b"}
    async with _member(pool, "a") as (a, _), _member(pool, "b") as (b, _):
        await wait_until(
            lambda: _true(a.leaving == b_share), timeout=5, what="b's share marked leaving"
        )
        endpoint = sorted(b_share)[0]
        assert a.owns(endpoint)
        a.probe_started(endpoint)  # its last probe here
        assert not a.owns(endpoint)
        await wait_until(lambda: _true(endpoint in b.owned), timeout=5, what="b claims it")


async def test_a_member_whose_event_loop_stalls_probes_nothing_until_a_round_renews(
    pool: AsyncConnectionPool,
) -> None:
    async with _member(pool, "a") as (a, _):
        _stall_event_loop()
        assert not any(a.owns(e) for e in INTERVALS)
        assert a.owned == set(INTERVALS), "still scheduled: the gate alone refuses"
        await wait_until(
            lambda: _true(all(a.owns(e) for e in INTERVALS)), timeout=5, what="renewed"
        )


async def test_a_member_cut_off_from_the_database_keeps_probing_what_it_holds(
    db_url: str,
) -> None:
    pool = await open_pool(db_url, min_size=1, max_size=2)
    async with _member(pool, "a") as (a, _):
        await pool.close()  # every round fails from now on
        await wait_until(lambda: _true(not a.reachable), timeout=5, what="a round to fail")
        _stall_event_loop()  # past the ttl: with the database away the leases stay
        assert all(a.owns(e) for e in INTERVALS)
        assert a.leading


def test_a_lease_ttl_shorter_than_two_heartbeats_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least twice"):
        Settings(
            database_url=SecretStr("postgresql://x/y"),
            cluster_heartbeat_interval=2,
            cluster_lease_ttl=3,
        )


async def test_a_member_whose_scheduler_is_slow_to_follow_stays_live_meanwhile(
    pool: AsyncConnectionPool,
) -> None:
    slow = Assigned(slow=True)
    async with _member(pool, "a", assigned=slow) as (a, _), _member(pool, "b") as (b, _):
        await wait_until(lambda: _true(slow.waiting), timeout=5, what="a's slow hand-over")
        loop = asyncio.get_running_loop()
        blocked_at = loop.time()
        await wait_until(
            lambda: _true(loop.time() - blocked_at > 3 * TTL), timeout=5, what="3 ttls"
        )
        assert "a" in {m.id for m in b.members}, "a heartbeats while its apply waits"
        assert a.leading and not b.leading
        slow.go.set()
        b_share = {e for e in INTERVALS if owner(e, ["a", "b"]) == "b"}
        await wait_until(lambda: _true(b.owned == b_share), timeout=5, what="the hand-over")
