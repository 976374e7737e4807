"""Database access: pool, migrations and repositories (raw SQL, psycopg 3)."""

from monitor_center.db.migrate import apply_migrations, timescaledb_status
from monitor_center.db.pool import DatabaseUnavailable, open_pool, redact_url, wait_for_database

__all__ = [
    "DatabaseUnavailable",
    "apply_migrations",
    "open_pool",
    "redact_url",
    "timescaledb_status",
    "wait_for_database",
]
