"""``monitor-center sla report`` as a subprocess: CSV and self-contained HTML."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from tests.sla.htmlcheck import parse
from tests.sla.rows import alert, at, catalog, full_days, full_hours, series_sample, window

CLI = [sys.executable, "-m", "monitor_center.cli", "sla", "report"]
CONFIG = """
center: {name: "Trung tâm Giám sát", timezone: Asia/Ho_Chi_Minh}
agencies:
  - {id: nghe-an, name: "Tỉnh Nghệ An", kind: province}
  - {id: btc, name: "Bộ Tài chính <script>alert(1)</script>", kind: ministry}
series:
  - {id: nghe-an-level4, agency: nghe-an, kind: gauge, unit: "%", target: 30,
     source: {type: json, url: "http://127.0.0.1:9/", path: "$.v"}}
"""


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MONITOR_DATABASE_URL": db_url},
        check=False,
    )


@pytest.fixture
async def fleet(pool: AsyncConnectionPool, tmp_path: Path) -> Path:
    await catalog(
        pool,
        [("nghe-an", "Tỉnh Nghệ An", "province"),
         ("btc", "Bộ Tài chính <script>alert(1)</script>", "ministry")],
        [("na-portal", "nghe-an"), ("na-dvc", "nghe-an"), ("btc-portal", "btc")],
    )  # fmt: skip
    await full_days(pool, "na-portal", date(2026, 10, 1), 31, downtime=120)
    await full_days(pool, "na-dvc", date(2026, 10, 1), 20)  # then nothing: unknown
    await window(pool, at("2026-10-11 01:00"), at("2026-10-11 03:00"), agency="nghe-an")
    # A day touched by maintenance is read from its hours (those outside the window).
    await full_hours(pool, "na-portal", at("2026-10-11 00:00"), 24)
    await alert(pool, "na-portal", "nghe-an", at("2026-10-03 10:00"), at("2026-10-03 10:30"),
                acknowledged=at("2026-10-03 10:05"))  # fmt: skip
    await series_sample(pool, "nghe-an-level4", at("2026-10-30 08:00"), 15.9)
    config = tmp_path / "center.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


async def test_the_html_report_is_one_self_contained_page(
    db_url: str, fleet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "nghe-an.html"
    result = _run(db_url, "--agency", "nghe-an", "--month", "2026-10", "--format", "html",
                  "--out", str(out), "--config", str(fleet))  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    doc = parse(page)
    assert ("html", {"lang": "vi"}) in doc.tags
    assert "Tỉnh Nghệ An" in page
    names = [tag for tag, _ in doc.tags]
    assert names.count("svg") == 3  # daily strip, incidents timeline, KPI bars
    assert "script" not in names and "link" not in names and "img" not in names
    assert not any("src" in attrs or "href" in attrs for _, attrs in doc.tags)
    assert "http://" not in page and "https://" not in page
    assert "@media print" in page
    text = "".join(doc.text)
    assert "na-portal" in text and "na-dvc" in text and "nghe-an-level4" in text
    assert "không rõ" in text  # na-dvc's days after the 20th


async def test_everything_from_the_data_is_escaped(
    db_url: str, fleet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "all.html"
    result = _run(db_url, "--all", "--month", "2026-10", "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    parse(page)
    assert "<script>" not in page
    assert "Bộ Tài chính &lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_the_csv_report_has_one_row_per_endpoint_with_agency_totals(
    db_url: str, fleet: Path
) -> None:
    result = _run(db_url, "--all", "--month", "2026-10", "--config", str(fleet))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_endpoint = {r["endpoint"]: r for r in rows}
    assert set(by_endpoint) == {"na-portal", "na-dvc", "btc-portal"}
    portal, btc = by_endpoint["na-portal"], by_endpoint["btc-portal"]
    assert portal["agency_name"] == "Tỉnh Nghệ An" and portal["month"] == "2026-10"
    assert portal["maintenance_seconds"] == "7200" and portal["incidents"] == "1"
    assert float(portal["availability_percent"]) == pytest.approx(
        100 * (1 - 120 * 30 / (31 * 86400 - 7200)), abs=1e-3
    )
    assert btc["availability_percent"] == "unknown"
    assert btc["agency_availability_percent"] == "unknown"
    assert portal["agency_mtta_seconds"] == "300" and portal["agency_mttr_seconds"] == "1800"
    # Oct 21-31, and Oct 11 outside its window: that day has no hour rollups to read.
    assert by_endpoint["na-dvc"]["unknown_seconds"] == str(12 * 86400 - 7200)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agency", "nghe-an", "--month", "2026-13"], "YYYY-MM"),
        (["--month", "2026-10"], "--agency ID or --all"),
        (["--agency", "nghe-an", "--all", "--month", "2026-10"], "--agency ID or --all"),
        (["--agency", "nowhere", "--month", "2026-10"], "no agency 'nowhere'"),
        (["--all", "--month", "2026-10", "--format", "pdf"], "csv or html"),
    ],
)
def test_bad_requests_exit_2_with_a_clear_message(
    db_url: str, args: list[str], message: str
) -> None:
    result = _run(db_url, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
