"""Throw-away databases for tests on the real local PostgreSQL (+ TimescaleDB)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ADMIN_URL = os.environ.get(
    "MONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def url_for(dbname: str) -> str:
    """ADMIN_URL pointed at another database."""
    params = conninfo_to_dict(ADMIN_URL)
    params["dbname"] = dbname
    return make_conninfo(**params)  # type: ignore[arg-type]


def timescaledb_loadable() -> tuple[bool, str]:
    """Whether the server can create the timescaledb extension, and why not."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM pg_available_extensions"
                "  WHERE name = 'timescaledb'),"
                " current_setting('shared_preload_libraries')"
            ).fetchone()
    except psycopg.OperationalError as exc:
        return False, f"PostgreSQL unreachable at {ADMIN_URL}: {exc}"
    assert row is not None
    if not row[0]:
        return (
            False,
            "the timescaledb extension is not installed"
            " (run scripts/install-timescaledb.sh as root)",
        )
    if "timescaledb" not in str(row[1]):
        return False, "timescaledb is not in shared_preload_libraries"
    return True, ""


@contextmanager
def scratch_database(template: str | None = None) -> Iterator[str]:
    """Create a database (optionally from a template), yield its URL, drop it afterwards."""
    name = f"mc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if template:
            _clone(conn, name, template)
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(name)
    finally:
        drop_database(name)


def _clone(conn: psycopg.Connection[tuple[object, ...]], name: str, template: str) -> None:
    """CREATE DATABASE ... TEMPLATE, clearing sessions on the template first.

    TimescaleDB's launcher may (re)start a job scheduler in any database that has the
    extension; a template must have no sessions while it is copied, so end them and retry.
    """
    for attempt in range(20):
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (template,),
        )
        try:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.1)  # the terminated session needs a moment to go away


def create_template(name: str, prepare: Callable[[str], object]) -> None:
    """Create database ``name``, run ``prepare(url)`` on it, then mark it a template.

    A template must have no other sessions when it is cloned; TimescaleDB's launcher skips
    template databases, so once marked we terminate the scheduler it had started.
    """
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    prepare(url_for(name))
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE true')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


def drop_database(name: str, *, template: bool = False) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if template:
            conn.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
