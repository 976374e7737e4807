"""Rollup tests run on plain PostgreSQL and, where the server has it, on TimescaleDB."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from monitor_center.db import apply_migrations
from tests.dbutil import create_template, drop_database
from tests.rollups.helpers import Store, open_store


@pytest.fixture(scope="session")
def plain_template() -> Iterator[str]:
    """A template migrated with TimescaleDB off: plain tables, same queries."""
    name = f"mc_plain_template_{uuid.uuid4().hex[:8]}"
    create_template(name, lambda url: asyncio.run(apply_migrations(url, timescaledb="off")))
    try:
        yield name
    finally:
        drop_database(name, template=True)


@pytest.fixture(params=["plain", "timescaledb"])
def template(request: pytest.FixtureRequest) -> str:
    """The template of one flavour; TimescaleDB skips (never in CI) when unavailable."""
    if request.param == "plain":
        return str(request.getfixturevalue("plain_template"))
    request.getfixturevalue("require_timescaledb")
    return str(request.getfixturevalue("migrated_template"))


@pytest.fixture
async def store(template: str) -> AsyncIterator[Store]:
    async with open_store(template) as s:
        yield s
