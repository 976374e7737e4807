"""Cluster membership, endpoint leases and the leader lease (``monitor_center/cluster/``).

Every time comparison uses the database's clock (``now()``), never a process's own, so
processes on hosts whose clocks disagree still agree on who holds what.

An endpoint lease lasts as long as its holder's heartbeat, so a heartbeat writes one row
(its member row) however many endpoints the member holds. A claim is a compare-and-set
update: it takes a lease that is free, already the claimer's, or held by a member whose
heartbeat has expired. Two processes claiming one row at once are serialized by its row
lock and the second re-checks the condition against the first one's commit, so exactly
one wins. A dead holder is confirmed under a lock on its member row (``FOR UPDATE``), the
row its own heartbeat writes: a holder that heartbeats again either does so first (the
claim then sees it live and leaves its leases alone) or waits for the claim to commit
(and its heartbeat then reads its leases without the ones just taken), so a holder never
renews a lease another member took.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """What a process says about itself in its heartbeat."""

    id: str
    role: str
    """``serve`` or ``worker``."""
    host: str
    pid: int
    api_url: str | None = None


@dataclass(frozen=True, slots=True)
class ClusterView:
    """One heartbeat's outcome: what this member holds and who else is live."""

    members: tuple[MemberInfo, ...]
    """The live members of the cluster (this one included), ordered by id."""
    held: frozenset[str]
    """The endpoints whose lease this member holds (just renewed)."""
    taken: dict[str, str]
    """Endpoint -> holder, for every held lease of the cluster (live holder or not)."""
    leader: str | None
    """The live holder of the leader lease, if any (this member when it renewed it)."""


_UPSERT_MEMBER = """
INSERT INTO cluster_members (id, cluster, role, host, pid, api_url, expires_at)
VALUES (%(id)s, %(cluster)s, %(role)s, %(host)s, %(pid)s, %(api_url)s, now() + %(ttl)s)
ON CONFLICT (id) DO UPDATE SET
    cluster = EXCLUDED.cluster, role = EXCLUDED.role, api_url = EXCLUDED.api_url,
    heartbeat_at = now(), expires_at = EXCLUDED.expires_at
"""
_HELD = """
SELECT endpoint_id FROM endpoint_leases WHERE cluster = %(cluster)s AND holder = %(id)s
"""
# Leases of another cluster (this member ran another config before a reload) go back.
_DROP_OTHER_CLUSTERS = """
UPDATE endpoint_leases SET holder = NULL WHERE holder = %(id)s AND cluster <> %(cluster)s
"""
_LIVE_MEMBERS = """
SELECT id, role, host, pid, api_url FROM cluster_members
WHERE cluster = %(cluster)s AND expires_at > now() ORDER BY id
"""
_TAKEN = """
SELECT endpoint_id, holder FROM endpoint_leases
WHERE cluster = %(cluster)s AND holder IS NOT NULL
"""
_RENEW_LEADER = """
UPDATE leader_leases SET expires_at = now() + %(ttl)s
WHERE cluster = %(cluster)s AND holder = %(id)s
"""
_LEADER = """
SELECT holder FROM leader_leases
WHERE cluster = %(cluster)s AND holder IS NOT NULL AND expires_at > now()
"""
_ENSURE = """
INSERT INTO endpoint_leases (cluster, endpoint_id)
SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING
"""
# Locked in id order, so that two claimers never wait on each other in a cycle.
_CONFIRM_DEAD = """
SELECT id FROM cluster_members WHERE id = ANY(%(dead)s) AND expires_at <= now()
ORDER BY id FOR UPDATE
"""
# A holder without a member row was pruned (its leases were freed then) or never was.
_VANISHED = """
SELECT h FROM unnest(%(dead)s::text[]) AS h
WHERE NOT EXISTS (SELECT 1 FROM cluster_members m WHERE m.id = h)
"""
_CLAIM = """
UPDATE endpoint_leases SET holder = %(id)s, claimed_at = now()
WHERE cluster = %(cluster)s AND endpoint_id = ANY(%(ids)s)
  AND (holder IS NULL OR holder = %(id)s OR holder = ANY(%(dead)s))
RETURNING endpoint_id
"""
_RELEASE = """
UPDATE endpoint_leases SET holder = NULL
WHERE cluster = %(cluster)s AND holder = %(id)s AND endpoint_id = ANY(%(ids)s)
"""
_CLAIM_LEADER = """
INSERT INTO leader_leases AS l (cluster, holder, expires_at)
VALUES (%(cluster)s, %(id)s, now() + %(ttl)s)
ON CONFLICT (cluster) DO UPDATE
SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
    term = l.term + CASE WHEN l.holder IS NOT DISTINCT FROM EXCLUDED.holder THEN 0 ELSE 1 END
WHERE l.holder IS NULL OR l.holder = EXCLUDED.holder OR l.expires_at <= now()
RETURNING term
"""
_RELEASE_LEADER = """
UPDATE leader_leases SET holder = NULL, expires_at = '-infinity'
WHERE holder = %(id)s AND (%(cluster)s::text IS NULL OR cluster = %(cluster)s)
"""


class ClusterRepository:
    """The ``cluster_members``, ``endpoint_leases`` and ``leader_leases`` tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def beat(self, member: MemberInfo, cluster: str, ttl: float) -> ClusterView:
        """Heartbeat and renew everything ``member`` holds, in one transaction; return
        the cluster as the database sees it now."""
        args = _args(member, cluster, ttl)
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(_UPSERT_MEMBER, args)
            held = frozenset(await _column(conn, _HELD, args))
            await conn.execute(_DROP_OTHER_CLUSTERS, args)
            await conn.execute(_RENEW_LEADER, args)
            cur = await conn.execute(_LIVE_MEMBERS, args)
            members = tuple(
                MemberInfo(str(i), str(r), str(h), int(str(p)), None if u is None else str(u))
                for i, r, h, p, u in await cur.fetchall()
            )
            cur = await conn.execute(_TAKEN, args)
            taken = {str(e): str(h) for e, h in await cur.fetchall()}
            leaders = await _column(conn, _LEADER, args)
        return ClusterView(members, held, taken, leaders[0] if leaders else None)

    async def ensure_leases(self, cluster: str, endpoint_ids: Collection[str]) -> None:
        """Create the (free) lease rows of endpoints that have none yet."""
        async with self._pool.connection() as conn:
            await conn.execute(_ENSURE, (cluster, list(endpoint_ids)))

    async def claim(
        self,
        member_id: str,
        cluster: str,
        endpoint_ids: Collection[str],
        dead: Collection[str] = (),
    ) -> frozenset[str]:
        """Take the leases among ``endpoint_ids`` that are free, already ours, or held by
        one of ``dead`` (members the caller saw expire: each is confirmed under a lock on
        its member row); return the ones this member holds now."""
        if not endpoint_ids:
            return frozenset()
        args: dict[str, object] = {
            "id": member_id,
            "cluster": cluster,
            "ids": list(endpoint_ids),
            "dead": sorted(dead),
        }
        async with self._pool.connection() as conn, conn.transaction():
            if dead:
                confirmed = await _column(conn, _CONFIRM_DEAD, args)
                args["dead"] = confirmed + await _column(conn, _VANISHED, args)
            return frozenset(await _column(conn, _CLAIM, args))

    async def release(self, member_id: str, cluster: str, endpoint_ids: Collection[str]) -> None:
        """Give up leases (only those this member still holds): free for the next claim."""
        if not endpoint_ids:
            return
        args = {"id": member_id, "cluster": cluster, "ids": list(endpoint_ids)}
        async with self._pool.connection() as conn:
            await conn.execute(_RELEASE, args)

    async def claim_leader(self, member_id: str, cluster: str, ttl: float) -> int | None:
        """Take the leader lease when it is free, expired or ours; the term, or None
        when another member holds it."""
        args = {"id": member_id, "cluster": cluster, "ttl": _td(ttl)}
        async with self._pool.connection() as conn:
            terms = await _column(conn, _CLAIM_LEADER, args)
        return int(terms[0]) if terms else None

    async def release_leader(self, member_id: str, cluster: str | None = None) -> None:
        """Give up the leader lease (of ``cluster``, or of any cluster)."""
        async with self._pool.connection() as conn:
            await conn.execute(_RELEASE_LEADER, {"id": member_id, "cluster": cluster})

    async def leave(self, member_id: str) -> None:
        """A clean exit: every lease back at once, the member row gone."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE endpoint_leases SET holder = NULL WHERE holder = %s", (member_id,)
            )
            await conn.execute(_RELEASE_LEADER, {"id": member_id, "cluster": None})
            await conn.execute("DELETE FROM cluster_members WHERE id = %s", (member_id,))

    async def prune(self, keep_for: float) -> None:
        """Forget members dead for ``keep_for`` seconds (freeing what they still held) and
        the lease rows of clusters nobody runs any more (left by config changes)."""
        nobody_runs = (
            " NOT EXISTS (SELECT 1 FROM cluster_members m"
            "  WHERE m.cluster = t.cluster AND m.expires_at > now())"
        )
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "WITH gone AS (DELETE FROM cluster_members WHERE expires_at < now() - %s"
                " RETURNING id)"
                " UPDATE endpoint_leases SET holder = NULL WHERE holder IN (SELECT id FROM gone)",
                (_td(keep_for),),
            )
            await conn.execute(f"DELETE FROM endpoint_leases t WHERE {nobody_runs}")
            await conn.execute(
                "DELETE FROM leader_leases t WHERE (t.holder IS NULL OR t.expires_at <= now())"
                f" AND {nobody_runs}"
            )

    async def notify(self, channel: str, payloads: Sequence[str]) -> None:
        """``pg_notify`` each payload on ``channel``, in order, in one statement."""
        if not payloads:
            return
        async with self._pool.connection() as conn:
            await conn.execute(
                "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (channel, list(payloads))
            )


def _td(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _args(member: MemberInfo, cluster: str, ttl: float) -> dict[str, object]:
    return {
        "id": member.id,
        "cluster": cluster,
        "role": member.role,
        "host": member.host,
        "pid": member.pid,
        "api_url": member.api_url,
        "ttl": _td(ttl),
    }


async def _column(
    conn: AsyncConnection[tuple[object, ...]], sql: str, args: Mapping[str, Any] | Sequence[Any]
) -> list[str]:
    cur = await conn.execute(sql, args)
    return [str(row[0]) for row in await cur.fetchall()]
