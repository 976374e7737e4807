"""monitor_center_reader (migration 0008): reads every table, writes none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from monitor_center.db import apply_migrations

READER = "monitor_center_reader"


def _tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    ).fetchall()
    return [str(row[0]) for row in rows]


def test_reader_reads_every_table(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        # A row written now lands in a chunk created after the migration (TimescaleDB).
        conn.execute(
            "INSERT INTO probe_results (time, endpoint_id, ok, total_ms) VALUES (%s, 'e', true, 1)",
            (datetime.now(UTC),),
        )
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(READER)))
        tables = _tables(conn)
        assert {"agencies", "probe_results", "alerts", "probe_rollups"} <= set(tables)
        for table in tables:
            conn.execute(sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(table)))
        assert conn.execute("SELECT count(*) FROM probe_results").fetchone() == (1,)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO agencies (id, name, kind) VALUES ('x', 'X', 'platform')",
        "INSERT INTO probe_results (time, endpoint_id, ok, total_ms) VALUES (now(), 'e', true, 1)",
        "UPDATE alerts SET state = 'resolved'",
        "DELETE FROM series_samples",
        "TRUNCATE probe_rollups",
        "CREATE TABLE grafana_was_here (id int)",
    ],
)
def test_reader_cannot_write(db_url: str, statement: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(READER)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement.encode())


def test_tables_created_later_are_readable(db_url: str) -> None:
    """Default privileges: a later migration's table needs no grant of its own."""
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TABLE later_table (id int)")
        conn.execute("INSERT INTO later_table VALUES (1)")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(READER)))
        assert conn.execute("SELECT id FROM later_table").fetchall() == [(1,)]


@pytest.mark.usefixtures("migrated_template")
def test_migration_succeeds_when_the_role_already_exists(empty_db_url: str) -> None:
    """Roles are cluster-wide: another database of the cluster created it already."""
    with psycopg.connect(empty_db_url) as conn:
        row = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER,)).fetchone()
    assert row is not None  # the session's migrated template created it
    applied = asyncio.run(apply_migrations(empty_db_url))
    assert "0008_grafana_reader" in applied
    with psycopg.connect(empty_db_url) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(READER)))
        conn.execute("SELECT count(*) FROM alerts")


def test_reader_cannot_log_in(db_url: str) -> None:
    """NOLOGIN: the operator's login role is a member, with its own password."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (READER,))
        assert row.fetchone() == (False,)
