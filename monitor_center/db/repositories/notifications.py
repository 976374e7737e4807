"""The outbox: the dispatcher claims due rows under a lease and records every attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from alerts.notice import notice_from_payload
from alerts.outbox import Attempt, Claimed

# A firing notice is no longer wanted once its alert stopped firing or is held back.
_CANCEL_FIRING = """
UPDATE notifications n
   SET state = 'cancelled', finished_at = %(now)s, lease_until = NULL,
       last_error = CASE WHEN a.state <> 'firing' THEN 'alert no longer firing'
                         ELSE 'suppressed (silence, maintenance or inhibition)' END
  FROM alerts a
 WHERE a.id = n.alert_id AND n.state = 'pending' AND n.status = 'firing'
   AND n.due_at <= %(now)s AND (n.lease_until IS NULL OR n.lease_until <= %(now)s)
   AND (a.state <> 'firing' OR a.silenced OR a.inhibited OR a.in_maintenance)
"""

# A resolution is pointless to a channel whose firing notice was dropped untried
# (the alert resolved within group_wait, or was suppressed before its turn).
_CANCEL_RESOLVED = """
UPDATE notifications n
   SET state = 'cancelled', finished_at = %(now)s, lease_until = NULL,
       last_error = 'the firing notice was never sent to this channel'
 WHERE n.state = 'pending' AND n.status = 'resolved' AND n.due_at <= %(now)s
   AND EXISTS (SELECT 1 FROM notifications f
                WHERE f.alert_id = n.alert_id AND f.channel_id = n.channel_id
                  AND f.status = 'firing' AND f.state = 'cancelled' AND f.attempts = 0)
   AND NOT EXISTS (SELECT 1 FROM notifications f
                    WHERE f.alert_id = n.alert_id AND f.channel_id = n.channel_id
                      AND f.status = 'firing' AND f.attempts > 0)
"""

# Per (alert, channel) rows go out in order: a "resolved" waits behind its "firing".
_CLAIM = """
WITH due AS (
    SELECT n.id FROM notifications n
     WHERE n.state = 'pending' AND n.due_at <= %(now)s
       AND (n.lease_until IS NULL OR n.lease_until <= %(now)s)
       AND NOT EXISTS (SELECT 1 FROM notifications e
                        WHERE e.alert_id = n.alert_id AND e.channel_id = n.channel_id
                          AND e.id < n.id AND e.state = 'pending')
     ORDER BY n.due_at, n.id
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED
)
UPDATE notifications n SET lease_until = %(lease)s, attempts = n.attempts + 1
  FROM due WHERE n.id = due.id
RETURNING n.id, n.channel_id, n.payload, n.attempts, n.created_at
"""

_FINAL = {"sent": "sent", "permanent": "failed", "expired": "failed", "retry": "pending"}


@dataclass(frozen=True, slots=True)
class NotificationFilter:
    alert_id: int | None = None
    state: str | None = None
    channel: str | None = None
    agency: str | None = None
    """Only notifications about this agency's alerts (agency-scoped tokens)."""
    limit: int = 200


class NotificationRepository:
    """Implements the dispatcher's ``OutboxStore`` and the API's listing."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        args = {"now": now, "lease": lease_until, "limit": limit}
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(_CANCEL_FIRING, args)
            await conn.execute(_CANCEL_RESOLVED, args)
            cur = await conn.execute(_CLAIM, args)
            rows = await cur.fetchall()
        return [
            Claimed(int(i), str(ch), notice_from_payload(p), int(n), created)
            for i, ch, p, n, created in sorted(rows, key=lambda r: int(r[0]))
        ]

    async def record(self, attempt: Attempt) -> None:
        state = _FINAL[attempt.outcome]
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO notification_attempts (notification_id, started_at, duration_ms,"
                " outcome, status_code, error) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    attempt.notification_id,
                    attempt.started_at,
                    attempt.duration_ms,
                    attempt.outcome,
                    attempt.status_code,
                    attempt.error,
                ),
            )
            await conn.execute(
                "UPDATE notifications SET state = %s, lease_until = NULL, last_error = %s,"
                " due_at = COALESCE(%s, due_at),"
                " sent_at = CASE WHEN %s = 'sent' THEN %s ELSE sent_at END,"
                " finished_at = CASE WHEN %s <> 'pending' THEN %s ELSE NULL END"
                " WHERE id = %s",
                (
                    state,
                    attempt.error,
                    attempt.next_due,
                    state,
                    attempt.started_at,
                    state,
                    attempt.started_at,
                    attempt.notification_id,
                ),
            )

    async def next_due(self) -> datetime | None:
        """When the earliest pending row becomes claimable (its lease counts)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT min(GREATEST(due_at, COALESCE(lease_until, due_at)))"
                " FROM notifications WHERE state = 'pending'"
            )
            row = await cur.fetchone()
            return row[0] if row else None

    async def depth(self, now: datetime) -> tuple[int, float]:
        """Pending rows and the age in seconds of the oldest (outbox metrics)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM %s - min(created_at)), 0)"
                " FROM notifications WHERE state = 'pending'",
                (now,),
            )
            row = await cur.fetchone()
            return (int(row[0]), float(row[1])) if row else (0, 0.0)

    async def find(self, f: NotificationFilter) -> list[dict[str, Any]]:
        """Notifications newest first, each with its attempts (oldest first)."""
        where: list[str] = ["TRUE"]
        args: list[Any] = []
        for column, value in (
            ("alert_id", f.alert_id),
            ("state", f.state),
            ("channel_id", f.channel),
        ):
            if value is not None:
                where.append(f"n.{column} = %s")
                args.append(value)
        if f.agency is not None:
            where.append("n.alert_id IN (SELECT id FROM alerts WHERE agency_id = %s)")
            args.append(f.agency)
        args.append(f.limit)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT n.id, n.alert_id, n.channel_id, n.status, n.reason, n.state,"
                " n.created_at, n.due_at, n.attempts, n.last_error, n.sent_at"
                f" FROM notifications n WHERE {' AND '.join(where)}"
                " ORDER BY n.id DESC LIMIT %s",
                args,
            )
            rows = await cur.fetchall()
            await self._attach_attempts(conn, rows)
        return rows

    async def _attach_attempts(
        self, conn: AsyncConnection[Any], rows: list[dict[str, Any]]
    ) -> None:
        ids = [r["id"] for r in rows]
        by_id: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "SELECT notification_id, started_at, duration_ms, outcome, status_code, error"
            " FROM notification_attempts WHERE notification_id = ANY(%s) ORDER BY id",
            (ids,),
        )
        for a in await cur.fetchall():
            by_id[a.pop("notification_id")].append(a)
        for r in rows:
            r["attempt_log"] = by_id[r["id"]]
