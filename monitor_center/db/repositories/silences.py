"""Silences and maintenance windows (the config's windows are mirrored here so SLA
reports can exclude them alongside those created through the API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True, slots=True)
class SilenceRow:
    id: int
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    author: str
    comment: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MaintenanceRow:
    id: int
    name: str | None
    source: str
    agency_id: str | None
    endpoint_id: str | None
    starts_at: datetime
    ends_at: datetime
    recurring: str | None
    author: str
    comment: str
    created_at: datetime


_SILENCE_COLS = "id, matchers, starts_at, ends_at, author, comment, created_at"
_MAINT_COLS = (
    "id, name, source, agency_id, endpoint_id, starts_at, ends_at, recurring, author,"
    " comment, created_at"
)


class SilenceRepository:
    """Reads and writes ``silences`` and ``maintenance_windows``."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def create_silence(
        self,
        matchers: Mapping[str, str],
        starts_at: datetime,
        ends_at: datetime,
        author: str,
        comment: str,
        now: datetime,
    ) -> SilenceRow:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(SilenceRow))
            await cur.execute(
                "INSERT INTO silences (matchers, starts_at, ends_at, author, comment, created_at)"
                f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_SILENCE_COLS}",
                (Jsonb(dict(matchers)), starts_at, ends_at, author, comment, now),
            )
            row = await cur.fetchone()
            assert row is not None
            return row

    async def silences(self, *, active_at: datetime | None = None) -> list[SilenceRow]:
        """All silences newest first, or only those not yet ended at ``active_at``."""
        tail: str = ""
        args: tuple[datetime, ...] = ()
        if active_at is not None:
            tail, args = "WHERE ends_at > %s", (active_at,)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(SilenceRow))
            await cur.execute(f"SELECT {_SILENCE_COLS} FROM silences {tail} ORDER BY id DESC", args)
            return await cur.fetchall()

    async def expire_silence(self, silence_id: int, now: datetime) -> SilenceRow | None:
        """End a silence now (an already ended one is returned unchanged)."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(SilenceRow))
            await cur.execute(
                "UPDATE silences SET ends_at = GREATEST(starts_at + interval '1 microsecond',"
                f" LEAST(ends_at, %s)) WHERE id = %s RETURNING {_SILENCE_COLS}",
                (now, silence_id),
            )
            return await cur.fetchone()

    async def create_maintenance(self, row: dict[str, Any], now: datetime) -> MaintenanceRow:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(MaintenanceRow))
            await cur.execute(
                "INSERT INTO maintenance_windows (name, source, agency_id, endpoint_id,"
                " starts_at, ends_at, recurring, author, comment, created_at)"
                " VALUES (%(name)s, 'api', %(agency_id)s, %(endpoint_id)s, %(starts_at)s,"
                " %(ends_at)s, %(recurring)s, %(author)s, %(comment)s, %(now)s)"
                f" RETURNING {_MAINT_COLS}",
                {**row, "now": now},
            )
            created = await cur.fetchone()
            assert created is not None
            return created

    async def maintenance(self) -> list[MaintenanceRow]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(MaintenanceRow))
            await cur.execute(
                f"SELECT {_MAINT_COLS} FROM maintenance_windows ORDER BY starts_at DESC, id"
            )
            return await cur.fetchall()

    async def delete_maintenance(self, window_id: int) -> bool:
        """Remove an API-created window; the config's own are changed in the config."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM maintenance_windows WHERE id = %s AND source = 'api'", (window_id,)
            )
            return cur.rowcount > 0

    async def sync_config_maintenance(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Replace the config-sourced windows with ``rows`` (one transaction)."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM maintenance_windows WHERE source = 'config'")
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO maintenance_windows (name, source, agency_id, endpoint_id,"
                    " starts_at, ends_at, recurring, author, comment, created_at)"
                    " VALUES (%(name)s, 'config', %(agency_id)s, %(endpoint_id)s,"
                    " %(starts_at)s, %(ends_at)s, %(recurring)s, 'config', %(comment)s,"
                    " %(now)s)",
                    [{**r, "now": now} for r in rows],
                )
