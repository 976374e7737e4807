"""Scratch databases on the benchmark cluster (``MONITOR_BENCH_DATABASE_URL``)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg

ADMIN_URL = os.environ.get(
    "MONITOR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def scratch_database(prefix: str = "mc_bench") -> Iterator[str]:
    """A new empty database on the bench cluster, dropped (connections and all) afterwards."""
    dbname = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
