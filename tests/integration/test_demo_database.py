"""The demo's database choice: the operator's URL, else local TimescaleDB, else embedded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from monitor_center.demo.runner import choose_database
from monitor_center.settings import Settings

EMBEDDED_CHECK = """
import asyncio, sys
from pathlib import Path
import psycopg
from monitor_center.db import apply_migrations
from monitor_center.db.migrate import load_migrations
from monitor_center.demo.runner import embedded_database_url

url = embedded_database_url(Path(sys.argv[1]))
applied = asyncio.run(apply_migrations(url))
with psycopg.connect(url) as conn:
    version = conn.execute("SHOW server_version").fetchone()[0]
print("applied", len(applied), "of", len(load_migrations()), "server", version)
"""


def test_the_demo_uses_the_database_url_it_is_given(tmp_path: Path) -> None:
    url = "postgresql://someone@db.example:5432/center"
    settings = Settings(database_url=SecretStr(url))
    assert choose_database(settings, tmp_path) == url


def test_the_embedded_postgresql_starts_and_takes_the_schema(tmp_path: Path) -> None:
    # A subprocess: pgserver stops its server at interpreter exit, as the demo relies on.
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_CHECK, str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[0] == "applied" and words[1] == words[3] != "0", result.stdout
