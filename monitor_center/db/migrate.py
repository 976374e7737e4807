"""Versioned SQL migrations, applied once under an advisory lock.

Each file ``NNNN_name.sql`` in ``migrations/`` runs in its own transaction. Before the
files run, the session setting ``monitor_center.timescaledb`` is set to ``on`` or ``off``
so a migration can create a hypertable only when the extension is there and otherwise
keep a plain table with the same columns and the same queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import psycopg

log = logging.getLogger(__name__)

# An arbitrary constant: all center processes serialize their migrations on this lock.
_LOCK_KEY = 0x4D43_4D49  # "MCMI"

Mode = Literal["auto", "on", "off"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


class MigrationError(RuntimeError):
    """A migration failed or TimescaleDB was required but cannot be used."""


def load_migrations() -> list[Migration]:
    """The packaged migrations, in version order."""
    folder = resources.files("monitor_center.db") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        number, _, rest = entry.name.partition("_")
        found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {versions}")
    return found


async def timescaledb_status(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> str:
    """``installed``, ``loadable`` (preloaded, not created yet) or ``absent``."""
    cur = await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    if await cur.fetchone():
        return "installed"
    cur = await conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        " AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'"
    )
    return "loadable" if await cur.fetchone() else "absent"


async def apply_migrations(url: str, *, timescaledb: Mode = "auto") -> list[str]:
    """Apply pending migrations; return the names applied by this call.

    Two processes starting together both call this; the advisory lock makes the second
    wait and then find nothing left to do.
    """
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            use_tsdb = await _prepare_timescaledb(conn, timescaledb)
            await conn.execute(
                "SELECT set_config('monitor_center.timescaledb', %s, false)",
                ("on" if use_tsdb else "off",),
            )
            return await _apply_pending(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


async def _prepare_timescaledb(
    conn: psycopg.AsyncConnection[tuple[object, ...]], mode: Mode
) -> bool:
    if mode == "off":
        return False
    status = await timescaledb_status(conn)
    if status == "loadable":
        await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        status = "installed"
    if status != "installed" and mode == "on":
        raise MigrationError(
            "MONITOR_TIMESCALEDB=on but the timescaledb extension is not available "
            "(is it in shared_preload_libraries?)"
        )
    return status == "installed"


async def _apply_pending(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> list[str]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    cur = await conn.execute("SELECT version FROM schema_migrations")
    done = {int(str(row[0])) for row in await cur.fetchall()}
    applied: list[str] = []
    for migration in load_migrations():
        if migration.version in done:
            continue
        label = f"{migration.version:04d}_{migration.name}"
        try:
            async with conn.transaction():
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
        except psycopg.Error as exc:
            raise MigrationError(f"migration {label} failed: {exc}") from exc
        log.info("applied migration %s", label)
        applied.append(label)
    return applied
