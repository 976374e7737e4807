"""The fleet catalogue: agencies and endpoints as the running config declares them.

Kept in the database so that SQL consumers (Grafana panels, SLA reports) can join probe
results to agencies without reading the YAML. Rows that left the config are marked
inactive, never deleted: their history still belongs to someone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True, slots=True)
class AgencyRow:
    id: str
    name: str
    kind: str
    depends_on: tuple[str, ...]
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: str
    agency_id: str
    url: str
    interval_seconds: float
    timeout_seconds: float


class CatalogRepository:
    """Reads and syncs the ``agencies`` and ``endpoints`` tables."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def sync(self, agencies: Sequence[AgencyRow], endpoints: Sequence[EndpointRow]) -> None:
        """Upsert what the config declares and deactivate what it no longer does."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("UPDATE agencies SET active = false WHERE active")
            await conn.execute("UPDATE endpoints SET active = false WHERE active")
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO agencies (id, name, kind, depends_on, lat, lon, active)"
                    " VALUES (%s, %s, %s, %s, %s, %s, true)"
                    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
                    " kind = EXCLUDED.kind, depends_on = EXCLUDED.depends_on,"
                    " lat = EXCLUDED.lat, lon = EXCLUDED.lon, active = true, updated_at = now()",
                    [(a.id, a.name, a.kind, list(a.depends_on), a.lat, a.lon) for a in agencies],
                )
                await cur.executemany(
                    "INSERT INTO endpoints (id, agency_id, url, interval_seconds,"
                    " timeout_seconds, active) VALUES (%s, %s, %s, %s, %s, true)"
                    " ON CONFLICT (id) DO UPDATE SET agency_id = EXCLUDED.agency_id,"
                    " url = EXCLUDED.url, interval_seconds = EXCLUDED.interval_seconds,"
                    " timeout_seconds = EXCLUDED.timeout_seconds, active = true,"
                    " updated_at = now()",
                    [
                        (e.id, e.agency_id, e.url, e.interval_seconds, e.timeout_seconds)
                        for e in endpoints
                    ],
                )

    async def active_endpoints(self) -> list[EndpointRow]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, agency_id, url, interval_seconds, timeout_seconds"
                " FROM endpoints WHERE active ORDER BY id"
            )
            return [
                EndpointRow(str(r[0]), str(r[1]), str(r[2]), float(r[3]), float(r[4]))
                for r in await cur.fetchall()
            ]
