"""Fixtures shared by every test directory: throw-away databases on the real server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from psycopg_pool import AsyncConnectionPool

from monitor_center.db import apply_migrations, open_pool
from tests.dbutil import (
    create_template,
    drop_database,
    scratch_database,
    timescaledb_loadable,
    url_for,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def tsdb_available() -> bool:
    ok, why = timescaledb_loadable()
    if not ok and IN_CI:
        pytest.fail(f"CI=true and TimescaleDB is unusable: {why}")
    if not ok:
        print(f"\nTimescaleDB tests will skip: {why}")
    return ok


@pytest.fixture
def require_timescaledb(tsdb_available: bool) -> None:
    """Skip (never in CI) when the server cannot load TimescaleDB."""
    if not tsdb_available:
        _, why = timescaledb_loadable()
        pytest.skip(f"TimescaleDB unavailable: {why}")


@pytest.fixture(scope="session")
def migrated_template(tsdb_available: bool) -> Iterator[str]:
    """A template database with every migration applied; each test clones it."""
    name = f"mc_template_{uuid.uuid4().hex[:8]}"
    create_template(name, lambda url: asyncio.run(apply_migrations(url)))
    try:
        yield name
    finally:
        drop_database(name, template=True)


@pytest.fixture
def empty_db_url() -> Iterator[str]:
    """A fresh database with nothing in it."""
    with scratch_database() as url:
        yield url


@pytest.fixture
def db_url(migrated_template: str) -> Iterator[str]:
    """A fresh database with the schema in place."""
    with scratch_database(template=migrated_template) as url:
        yield url


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    p = await open_pool(db_url, min_size=1, max_size=4)
    try:
        yield p
    finally:
        await p.close()


__all__ = ["url_for"]
