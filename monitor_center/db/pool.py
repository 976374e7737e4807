"""Connection pool and the start-up wait for a database that may not be there yet."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg
from psycopg_pool import AsyncConnectionPool

from core.redaction import redact_credentials

log = logging.getLogger(__name__)


RECONNECT_TIMEOUT = 10.0
"""Seconds the pool keeps re-dialling one lost connection (see ``open_pool``)."""


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached within the allowed time."""


def redact_url(url: str) -> str:
    """The URL (or conninfo) with any password replaced, fit for logs and error messages."""
    return redact_credentials(url)


async def open_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    """Open an async pool whose connections autocommit unless a transaction is opened."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True},
        open=False,
        name="monitor-center",
        # A lost connection is re-dialled with a back-off that doubles up to this long,
        # then given up, and a waiting client dials afresh from 1 s. The default (300 s)
        # left gaps of up to ~2 min between tries: 54 s to notice the database back after
        # a 70 s outage, under 1 s with this (measured through tests/outage/proxy.py).
        reconnect_timeout=RECONNECT_TIMEOUT,
    )
    await pool.open(wait=True, timeout=30)
    return pool


async def wait_for_database(
    url: str,
    *,
    retry_max: float = 30.0,
    give_up_after: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    report: Callable[[str], None] | None = None,
) -> None:
    """Return once a connection succeeds; retry with exponential back-off meanwhile.

    Each failed try is reported as one clear line (never a traceback): the operator sees
    what is wrong and that we are still trying.
    """
    say = report or log.warning
    delay, waited, attempt = 0.5, 0.0, 0
    while True:
        attempt += 1
        try:
            conn = await psycopg.AsyncConnection.connect(url, connect_timeout=5)
        except psycopg.OperationalError as exc:
            reason = _first_line(str(exc))
            if give_up_after is not None and waited >= give_up_after:
                raise DatabaseUnavailable(
                    f"database {redact_url(url)} unreachable after {attempt} tries: {reason}"
                ) from None
            say(
                f"database {redact_url(url)} unreachable ({reason}); "
                f"retrying in {delay:.1f}s (try {attempt})"
            )
            await sleep(delay)
            waited += delay
            delay = min(delay * 2, retry_max)
            continue
        await conn.close()
        return


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact_url(lines[0]) if lines else "unknown error"
