"""Every panel's and variable's SQL, macros expanded, on a real seeded database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from monitor_center.dashboards import build_all
from tests.dashboards import seed
from tests.dashboards.macros import Context, interpolate

# What each panel must return: its columns, in order (Grafana maps fields by name).
EXPECTED: dict[tuple[str, str], list[str]] = {
    ("national-overview", "Shared platforms"): ["agency", "state", "endpoints_up", "endpoints"],
    ("national-overview", "Provinces"): [
        "agency", "latitude", "longitude", "state", "endpoints_up", "endpoints",
    ],
    ("national-overview", "Endpoints up"): ["up", "down", "unknown", "endpoints"],
    ("national-overview", "NGSP transactions per minute"): ["time", "transactions_per_minute"],
    ("national-overview", "Firing alerts"): [
        "time", "severity", "rule", "subject", "agency", "summary", "acknowledged_by",
        "inhibited", "silenced",
    ],
    ("agency-detail", "Endpoints now"): ["endpoint", "url", "state", "latency_ms", "checked_at"],
    ("agency-detail", "Endpoint availability"): [
        "endpoint", "availability_percent", "probes", "failed", "downtime_seconds",
        "coverage_percent",
    ],
    ("agency-detail", "Availability per hour"): ["time", "metric", "availability"],
    ("agency-detail", "Latency percentiles"): ["time", "p50", "p95", "p99"],
    ("agency-detail", "p95 latency per endpoint (hourly)"): ["time", "metric", "p95"],
    ("agency-detail", "Series"): ["time", "metric", "value"],
    ("agency-detail", "Incidents"): [
        "time", "rule", "subject", "severity", "state", "fired_at", "acknowledged_at",
        "resolved_at", "duration_seconds", "time_to_ack_seconds", "summary",
    ],
    ("sla-history", "Incidents, MTTR and MTTA"): ["incidents", "mttr", "mtta"],
    ("sla-history", "Daily availability by agency kind"): ["time", "metric", "availability"],
    ("sla-history", "Monthly availability per agency"): [
        "month", "agency", "kind", "availability_percent", "downtime_seconds", "probes",
        "failed",
    ],
    ("sla-history", "Monthly availability per endpoint"): [
        "month", "agency", "endpoint", "availability_percent", "downtime_seconds", "probes",
        "failed",
    ],
    ("sla-history", "Downtime per month"): ["time", "metric", "downtime_hours"],
    ("sla-history", "Incidents per agency"): [
        "agency", "incidents", "resolved", "mttr_seconds", "mtta_seconds", "longest_seconds",
    ],
    ("kpi-targets", "Level-4 share against the 30 % target"): [
        "series", "level4_share_percent",
    ],
    ("kpi-targets", "E-document exchange rate"): ["exchange_rate_percent"],
    ("kpi-targets", "E-document exchange rate per day"): ["time", "metric", "value"],
    ("kpi-targets", "Level-4 share per day"): ["time", "metric", "value"],
    ("kpi-targets", "Ranking"): [
        "rank", "series", "level4_share_percent", "points_vs_target", "target_met",
    ],
    ("alerts", "Alerts"): ["fired", "firing_now", "unacknowledged"],
    ("alerts", "Alerts fired by severity"): ["time", "metric", "fired"],
    ("alerts", "Time to acknowledge"): ["time", "median", "p90"],
    ("alerts", "Time to acknowledge per rule"): [
        "rule", "severity", "fired", "acknowledged", "median_ack_seconds", "p90_ack_seconds",
        "escalated",
    ],
    ("alerts", "Alert history"): [
        "time", "rule", "subject", "agency", "severity", "state", "fired_at",
        "acknowledged_by", "acknowledged_at", "resolved_at", "duration_seconds", "inhibited",
        "silenced", "in_maintenance", "summary",
    ],
    ("alerts", "Notifications per channel"): [
        "channel", "sent", "pending", "failed", "cancelled", "avg_delivery_seconds",
    ],
}  # fmt: skip

# Variables as an operator would set them on the seeded fleet.
PICKED: dict[str, str | list[str]] = {
    "agency": "hanoi",
    "series": [seed.NGSP_SERIES, *seed.LEVEL4_SERIES],
    "ngsp_series": seed.NGSP_SERIES,
    "level4_series": seed.LEVEL4_SERIES,
    "edoc_series": seed.EDOC_SERIES,
}


def panels() -> Iterator[tuple[str, dict[str, Any]]]:
    """(dashboard file name, panel) for every panel, rows' panels included."""
    for name, model in build_all().items():
        for panel in model["panels"]:
            yield name, panel
            for inner in panel.get("panels", []):
                yield name, inner


def _constants(model: dict[str, Any]) -> dict[str, str | list[str]]:
    return {
        v["name"]: str(v["query"])
        for v in model.get("templating", {}).get("list", [])
        if v["type"] == "constant"
    }


@pytest.fixture
def seeded(db_url: str) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    seed.seed(db_url, now)
    return db_url, now


def _run(url: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.encode())
        assert cur.description is not None
        return [col.name for col in cur.description], cur.fetchall()


def _context(name: str, now: datetime, *, timescaledb: bool) -> Context:
    model = build_all()[name]
    return Context(
        start=now - timedelta(days=30),
        end=now,
        interval="1h",
        variables={**PICKED, **_constants(model)},
        timescaledb=timescaledb,
    )


def test_every_panel_has_expectations() -> None:
    """A panel added without a row in EXPECTED fails here, not silently untested."""
    found = {(name, panel["title"]) for name, panel in panels()}
    assert found == set(EXPECTED)


def _check_all_panels(url: str, now: datetime, *, timescaledb: bool) -> None:
    for name, panel in panels():
        ctx = _context(name, now, timescaledb=timescaledb)
        for target in panel["targets"]:
            columns, rows = _run(url, interpolate(target["rawSql"], ctx))
            assert columns == EXPECTED[(name, panel["title"])], (name, panel["title"])
            assert rows, f"{name} / {panel['title']}: no rows"


def test_panels_return_their_columns(seeded: tuple[str, datetime]) -> None:
    """Plain PostgreSQL macros ($__timeGroup as an epoch floor) on the seeded fleet."""
    url, now = seeded
    _check_all_panels(url, now, timescaledb=False)


@pytest.mark.timescaledb
@pytest.mark.usefixtures("require_timescaledb")
def test_panels_with_time_bucket(seeded: tuple[str, datetime]) -> None:
    """With the data source's TimescaleDB switch on (as provisioned): time_bucket()."""
    url, now = seeded
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    _check_all_panels(url, now, timescaledb=True)


def test_variables_list_their_options(seeded: tuple[str, datetime]) -> None:
    url, now = seeded
    for name, model in build_all().items():
        for variable in model.get("templating", {}).get("list", []):
            if variable["type"] != "query":
                continue
            columns, rows = _run(
                url, interpolate(variable["query"], _context(name, now, timescaledb=False))
            )
            values = [row[0] for row in rows]
            if variable["name"] == "agency":
                assert columns == ["__value", "__text"]
                assert "hanoi" in values
            else:
                assert columns == ["series_id"]
                assert set(values) >= {seed.NGSP_SERIES, seed.EDOC_SERIES, *seed.LEVEL4_SERIES}


def test_states_are_what_the_seed_says(seeded: tuple[str, datetime]) -> None:
    """Hanoi has one endpoint failing: degraded (1); Da Nang up (0); platforms up."""
    url, now = seeded
    ctx = _context("national-overview", now, timescaledb=False)
    by_title = {p["title"]: p for name, p in panels() if name == "national-overview"}
    _, rows = _run(url, interpolate(by_title["Provinces"]["targets"][0]["rawSql"], ctx))
    assert {row[0]: row[3] for row in rows} == {"Ha Noi": 1, "Da Nang": 0}
    _, rows = _run(url, interpolate(by_title["Endpoints up"]["targets"][0]["rawSql"], ctx))
    assert rows == [(5, 1, 0, 6)]
