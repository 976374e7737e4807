"""``monitor-center rollup rebuild`` as an operator runs it: a subprocess, a real database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

CLI = [sys.executable, "-m", "monitor_center.cli", "rollup", "rebuild"]
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _rebuild(db_url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_DATABASE_URL"}
    if db_url is not None:
        env["MONITOR_DATABASE_URL"] = db_url
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def _history(db_url: str) -> None:
    """A day and a half of results and counter samples, every five minutes."""
    start = datetime(2026, 3, 9, 6, 0, tzinfo=HCM)
    times = [start + i * timedelta(minutes=5) for i in range(12 * 36)]
    with psycopg.connect(db_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO endpoints (id, agency_id, url, interval_seconds, timeout_seconds)"
            " VALUES ('ngsp-api', 'ngsp', 'https://ngsp.gov.vn/', 300, 5)"
        )
        cur.executemany(
            "INSERT INTO probe_results (time, endpoint_id, ok, total_ms) VALUES (%s, %s, %s, %s)",
            [(t, "ngsp-api", i % 10 != 0, 80.0) for i, t in enumerate(times)],
        )
        cur.executemany(
            "INSERT INTO series_samples (series_id, time, value) VALUES ('ngsp-tx', %s, %s)",
            [(t, 7600.0 * i) for i, t in enumerate(times)],
        )


def _day_buckets(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT bucket FROM probe_rollups WHERE resolution = 'day' ORDER BY 1"
        ).fetchall()
    return [r[0].astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M") for r in rows]


def test_rebuild_shows_progress_and_rolls_every_bucket(db_url: str) -> None:
    _history(db_url)
    result = _rebuild(db_url, "--since", "2026-03-09", "--until", "2026-03-11")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rebuilding rollups from 2026-03-09 00:00 to 2026-03-11 00:00 (Asia/Ho_Chi_Minh)" in out
    # The bar's last frame: every bucket of two days, hours and days, for both sources.
    assert re.search(r"rolling up .* 100/100 buckets", out), out
    assert re.search(r"rolled \d+ buckets, \d+ rollup rows written", out), out
    assert "Traceback" not in result.stderr
    # Local midnight in Ha Noi is 17:00 UTC.
    assert _day_buckets(db_url) == ["2026-03-08 17:00", "2026-03-09 17:00"]
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT sum(increase) FROM series_rollups WHERE resolution = 'hour'"
        ).fetchone()
    assert row is not None and row[0] is None  # no config yet: the kind is unknown


def test_rebuild_takes_the_zone_and_series_kinds_from_a_config(db_url: str, tmp_path: Path) -> None:
    _history(db_url)
    config = tmp_path / "center.yaml"
    config.write_text(
        "center: {timezone: UTC}\n"
        "agencies:\n  - {id: ngsp, name: NGSP, kind: platform}\n"
        "series:\n  - {id: ngsp-tx, agency: ngsp, kind: counter,"
        " source: {type: json, url: 'https://ngsp.gov.vn/stats', path: '$.total'}}\n",
        encoding="utf-8",
    )
    result = _rebuild(db_url, "--since", "2026-03-08", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert _day_buckets(db_url) == ["2026-03-08 00:00", "2026-03-09 00:00", "2026-03-10 00:00"]
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT sum(increase) FROM series_rollups WHERE resolution = 'day'"
        ).fetchone()
        assert row is not None and row[0] == 7600.0 * (12 * 36 - 1)
        # Remembered: a rebuild without the config rolls in the same zone.
        assert conn.execute("SELECT timezone FROM rollup_settings").fetchone() == ("UTC",)
    again = _rebuild(db_url, "--since", "2026-03-08")
    assert again.returncode == 0, again.stderr
    assert "(UTC)" in again.stdout


def test_rebuild_without_a_database_url_exits_2() -> None:
    result = _rebuild(None, "--since", "2026-03-09")
    assert result.returncode == 2
    assert "MONITOR_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_rebuild_rejects_a_malformed_date(db_url: str) -> None:
    result = _rebuild(db_url, "--since", "09/03/2026")
    assert result.returncode == 2
    assert "since" in result.stderr and "Traceback" not in result.stderr
