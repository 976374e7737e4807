"""Migrations: applied once, under a lock, onto TimescaleDB or plain PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from monitor_center.db import apply_migrations
from monitor_center.db.migrate import load_migrations


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def _is_hypertable(url: str, table: str) -> bool:
    with psycopg.connect(url) as conn:
        has_ext = conn.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
        if not has_ext:
            return False
        row = conn.execute(
            "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
            (table,),
        ).fetchone()
    return row is not None


async def test_it_applies_every_migration_once_when_two_processes_start_together(
    empty_db_url: str,
) -> None:
    first, second = await asyncio.gather(
        apply_migrations(empty_db_url), apply_migrations(empty_db_url)
    )
    expected = [f"{m.version:04d}_{m.name}" for m in load_migrations()]
    assert sorted([first, second], key=len) == [[], expected]
    with psycopg.connect(empty_db_url) as conn:
        row = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert row is not None and row[0] == len(expected)


async def test_a_second_start_applies_nothing(empty_db_url: str) -> None:
    await apply_migrations(empty_db_url)
    assert await apply_migrations(empty_db_url) == []


@pytest.mark.usefixtures("require_timescaledb")
async def test_probe_results_is_a_hypertable_when_timescaledb_is_there(empty_db_url: str) -> None:
    await apply_migrations(empty_db_url, timescaledb="on")
    assert _is_hypertable(empty_db_url, "probe_results")


async def test_plain_postgresql_gets_the_same_tables(empty_db_url: str) -> None:
    await apply_migrations(empty_db_url, timescaledb="off")
    assert {"agencies", "endpoints", "probe_results", "schema_migrations"} <= _tables(empty_db_url)
    assert not _is_hypertable(empty_db_url, "probe_results")
