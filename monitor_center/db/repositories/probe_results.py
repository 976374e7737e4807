"""Raw probe results: batched COPY in, latest-per-endpoint and counts out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from core.results import Latency, ProbeResult

_COLUMNS = (
    "time, endpoint_id, ok, status, reason, total_ms, connect_ms, tls_ms, first_byte_ms,"
    " cert_expiry_days"
)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _s(ms: object) -> float | None:
    return None if ms is None else float(ms) / 1000.0  # type: ignore[arg-type]


def _row(r: ProbeResult) -> tuple[object, ...]:
    lat = r.latency
    return (
        r.time,
        r.endpoint_id,
        r.ok,
        r.status,
        r.reason,
        lat.total * 1000.0,
        _ms(lat.connect),
        _ms(lat.tls),
        _ms(lat.first_byte),
        r.cert_expiry_days,
    )


def _result(row: Sequence[object]) -> ProbeResult:
    time, endpoint_id, ok, status, reason, total, connect, tls, first_byte, cert = row
    assert isinstance(time, datetime)
    return ProbeResult(
        endpoint_id=str(endpoint_id),
        time=time,
        ok=bool(ok),
        status=None if status is None else int(str(status)),
        reason=None if reason is None else str(reason),
        latency=Latency(
            total=_s(total) or 0.0, connect=_s(connect), tls=_s(tls), first_byte=_s(first_byte)
        ),
        cert_expiry_days=None if cert is None else float(str(cert)),
    )


class ProbeResultRepository:
    """Writes and reads the ``probe_results`` table (a hypertable under TimescaleDB)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def insert_many(self, results: Sequence[ProbeResult]) -> int:
        """Store a batch; return how many rows were new.

        Rows go through COPY into a per-session staging table and then into the table with
        ``ON CONFLICT DO NOTHING``: a batch replayed after a failed commit is harmless.
        """
        if not results:
            return 0
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS probe_results_stage"
                " (LIKE probe_results INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            async with conn.cursor() as cur:
                async with cur.copy(f"COPY probe_results_stage ({_COLUMNS}) FROM STDIN") as copy:
                    for result in results:
                        await copy.write_row(_row(result))
                await cur.execute(
                    f"INSERT INTO probe_results ({_COLUMNS})"
                    f" SELECT {_COLUMNS} FROM probe_results_stage"
                    " ON CONFLICT DO NOTHING"
                )
                return cur.rowcount

    async def latest_per_endpoint(self, since: datetime) -> dict[str, ProbeResult]:
        """The newest result of every endpoint that has one after ``since``."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT DISTINCT ON (endpoint_id) {_COLUMNS} FROM probe_results"
                " WHERE time >= %s ORDER BY endpoint_id, time DESC",
                (since,),
            )
            return {r.endpoint_id: r for r in map(_result, await cur.fetchall())}

    async def recent(self, endpoint_id: str, limit: int = 100) -> list[ProbeResult]:
        """The endpoint's newest results, newest first."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM probe_results WHERE endpoint_id = %s"
                " ORDER BY time DESC LIMIT %s",
                (endpoint_id, limit),
            )
            return [_result(r) for r in await cur.fetchall()]

    async def count(self, endpoint_id: str | None = None) -> int:
        async with self._pool.connection() as conn:
            if endpoint_id is None:
                cur = await conn.execute("SELECT count(*) FROM probe_results")
            else:
                cur = await conn.execute(
                    "SELECT count(*) FROM probe_results WHERE endpoint_id = %s", (endpoint_id,)
                )
            row = await cur.fetchone()
            return int(str(row[0])) if row else 0
