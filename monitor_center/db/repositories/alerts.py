"""Alerts and their events: an engine change is written in one transaction, together
with the outbox rows it asks for (see ``notifications.py`` for the dispatcher's side)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from alerts.model import Alert, Change, Event
from alerts.notice import notice_payload

_FIELDS = (
    "rule_id", "rule_kind", "subject", "subject_type", "agency_id", "agency_kind", "severity",
    "state", "summary", "value", "started_at", "fired_at", "resolved_at", "acknowledged_by",
    "acknowledged_at", "ack_comment", "silenced", "inhibited", "in_maintenance", "flapping",
    "notified", "escalated", "notified_at", "last_notified_at", "notified_channels",
    "updated_at",
)  # fmt: skip
_ATTRS = {"rule_id": "rule", "agency_id": "agency"}


def _values(alert: Alert) -> list[Any]:
    values = [getattr(alert, _ATTRS.get(f, f)) for f in _FIELDS]
    return [list(v) if isinstance(v, tuple) else v for v in values]


def alert_from_row(row: dict[str, Any]) -> Alert:
    fields = {_ATTRS.get(f, f): row[f] for f in _FIELDS}
    fields["notified_channels"] = tuple(fields["notified_channels"])
    return Alert(id=row["id"], **fields)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """``GET /alerts`` filters; ``agencies`` restricts an agency-scoped token."""

    state: str | None = None
    agency: str | None = None
    rule: str | None = None
    severity: str | None = None
    since: datetime | None = None
    limit: int = 500


class AlertRepository:
    """Reads and writes ``alerts`` and ``alert_events``."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def save(self, change: Change) -> Alert:
        """Persist one change atomically: the alert row, its events, its notifications.

        A new alert gets its id here; the notices written to the outbox carry it.
        """
        async with self._pool.connection() as conn, conn.transaction():
            alert = change.alert
            if alert.id is None:
                alert.id = await self._insert(conn, alert)
            else:
                sets = ", ".join(f"{f} = %s" for f in _FIELDS)
                await conn.execute(
                    f"UPDATE alerts SET {sets} WHERE id = %s", [*_values(alert), alert.id]
                )
            await self._events(conn, alert.id, change.events)
            for out in change.outgoing:
                notice = out.notice.stored_as(alert.id)
                await conn.execute(
                    "INSERT INTO notifications (alert_id, channel_id, status, reason, payload,"
                    " created_at, due_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        alert.id,
                        out.channel_id,
                        notice.status,
                        notice.reason,
                        Jsonb(notice_payload(notice)),
                        alert.updated_at,
                        out.due_at,
                    ),
                )
        return alert

    async def _insert(self, conn: AsyncConnection[Any], alert: Alert) -> int:
        cols = ", ".join(_FIELDS)
        marks = ", ".join(["%s"] * len(_FIELDS))
        cur = await conn.execute(
            f"INSERT INTO alerts ({cols}) VALUES ({marks}) RETURNING id", _values(alert)
        )
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def _events(
        self, conn: AsyncConnection[Any], alert_id: int, events: Sequence[Event]
    ) -> None:
        if not events:
            return
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO alert_events (alert_id, time, event, detail) VALUES (%s, %s, %s, %s)",
                [(alert_id, e.time, e.event, Jsonb(e.detail)) for e in events],
            )

    async def load_open(self) -> list[Alert]:
        return await self._select("WHERE state IN ('pending', 'firing')", ())

    async def load_resolved_since(self, since: datetime) -> list[Alert]:
        """Alerts that fired and resolved at or after ``since``, and every resolved alert
        still marked flapping (its final "resolved" may be owed): the engine rebuilds its
        flapping state from them."""
        return await self._select(
            "WHERE state = 'resolved' AND fired_at IS NOT NULL AND (resolved_at >= %s OR flapping)",
            (since,),
        )

    async def get(self, alert_id: int) -> Alert | None:
        found = await self._select("WHERE id = %s", (alert_id,))
        return found[0] if found else None

    async def find(self, f: AlertFilter, agencies: Sequence[str] | None = None) -> list[Alert]:
        """Newest first; ``since`` keeps alerts still open or ended after it."""
        where: list[str] = ["TRUE"]
        args: list[Any] = []
        for column, value in (
            ("state", f.state),
            ("agency_id", f.agency),
            ("rule_id", f.rule),
            ("severity", f.severity),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        if f.since is not None:
            where.append("(resolved_at IS NULL OR resolved_at >= %s)")
            args.append(f.since)
        if agencies is not None:
            where.append("agency_id = ANY(%s)")
            args.append(list(agencies))
        args.append(f.limit)
        return await self._select(
            f"WHERE {' AND '.join(where)} ORDER BY started_at DESC, id DESC LIMIT %s", args
        )

    async def events(self, alert_id: int) -> list[Event]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT time, event, detail FROM alert_events WHERE alert_id = %s ORDER BY id",
                (alert_id,),
            )
            return [Event(t, e, d) for t, e, d in await cur.fetchall()]

    async def _select(self, tail: str, args: Sequence[Any]) -> list[Alert]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT id, {', '.join(_FIELDS)} FROM alerts {tail}", args)
            return [alert_from_row(r) for r in await cur.fetchall()]
