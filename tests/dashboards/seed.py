"""A small national fleet with history in every table the dashboards read."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

AGENCIES = [
    ("ngsp", "NGSP", "platform", None, None),
    ("dvcqg", "National Public Service Portal", "platform", None, None),
    ("bca", "Ministry of Public Security", "ministry", None, None),
    ("hanoi", "Ha Noi", "province", 21.03, 105.85),
    ("danang", "Da Nang", "province", 16.05, 108.2),
]
# (endpoint, agency, failing in the last ten minutes)
ENDPOINTS = [
    ("ngsp-portal", "ngsp", False),
    ("dvcqg-portal", "dvcqg", False),
    ("bca-portal", "bca", False),
    ("hanoi-portal", "hanoi", False),
    ("hanoi-lgsp", "hanoi", True),
    ("danang-portal", "danang", False),
]
NGSP_SERIES = "ngsp-transactions"
LEVEL4_SERIES = ["level4-hanoi", "level4-danang"]
EDOC_SERIES = "edoc-exchange-rate"


def seed(url: str, now: datetime) -> None:
    """Fill the catalogue, raw results, rollups, series, alerts and notifications."""
    with psycopg.connect(url) as conn:
        _catalogue(conn)
        _probe_results(conn, now)
        _probe_rollups(conn, now)
        _series(conn, now)
        _alerts(conn, now)


def _catalogue(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.cursor().executemany(
        "INSERT INTO agencies (id, name, kind, lat, lon) VALUES (%s, %s, %s, %s, %s)", AGENCIES
    )
    conn.cursor().executemany(
        "INSERT INTO endpoints (id, agency_id, url, interval_seconds, timeout_seconds)"
        " VALUES (%s, %s, %s, 60, 10)",
        [(ep, agency, f"https://{ep}.example/") for ep, agency, _ in ENDPOINTS],
    )


def _probe_results(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> None:
    """Every 30 s for three hours, the newest 5 s ago; one endpoint fails lately."""
    rows = []
    for ep, _, failing in ENDPOINTS:
        for step in range(360):
            at = now - timedelta(seconds=5 + 30 * step)
            ok = not (failing and step < 20)
            rows.append((at, ep, ok, 200 if ok else 503, 80.0 + step % 7 * 30))
    with conn.cursor().copy(
        "COPY probe_results (time, endpoint_id, ok, status, total_ms) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def _probe_rollups(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> None:
    """Hourly buckets for two days and daily ones for 90 days, some downtime in each."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    for ep, _, failing in ENDPOINTS:
        down = 120.0 if failing else 0.0
        for h in range(1, 49):
            rows.append((ep, "hour", hour - timedelta(hours=h), 120, 116, down, 3600.0))
        for d in range(1, 91):
            day = hour - timedelta(days=d, hours=hour.hour)
            rows.append((ep, "day", day, 2880, 2870, down * 3 + 60, 86_400.0 - 600))
    conn.cursor().executemany(
        "INSERT INTO probe_rollups (endpoint_id, resolution, bucket, total, ok,"
        " downtime_seconds, covered_seconds, latency_p50_ms, latency_p95_ms, latency_p99_ms)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, 90, 180, 300)",
        rows,
    )


def _series(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> None:
    """A transaction counter (with a reset) per minute, KPI gauges, daily rollups."""
    samples = []
    total = 1_000_000.0
    for m in range(180, 0, -1):
        total = 50.0 if m == 90 else total + 5.0  # the counter restarts 90 minutes ago
        samples.append((NGSP_SERIES, now - timedelta(minutes=m), total))
    for i, series in enumerate([*LEVEL4_SERIES, EDOC_SERIES]):
        for h in range(48, 0, -1):
            samples.append((series, now - timedelta(hours=h), 20.0 + 15 * i + h / 10))
    conn.cursor().executemany(
        "INSERT INTO series_samples (series_id, time, value) VALUES (%s, %s, %s)", samples
    )
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rollups = [
        (series, day - timedelta(days=d), 24, 10.0 + i, 40.0 + i, 25.0 + i, 26.0 + i, 1.0)
        for i, series in enumerate([NGSP_SERIES, *LEVEL4_SERIES, EDOC_SERIES])
        for d in range(1, 91)
    ]
    conn.cursor().executemany(
        "INSERT INTO series_rollups (series_id, resolution, bucket, samples, min, max, avg,"
        " last, increase) VALUES (%s, 'day', %s, %s, %s, %s, %s, %s, %s)",
        rollups,
    )


def _alerts(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> None:
    """One firing (acknowledged), one resolved, one pending; notifications for two."""
    rows = [
        ("endpoint-down", "endpoint_down", "hanoi-lgsp", "hanoi", "critical", "firing",
         now - timedelta(minutes=10), now - timedelta(minutes=9), None,
         now - timedelta(minutes=5)),
        ("endpoint-down", "endpoint_down", "danang-portal", "danang", "critical", "resolved",
         now - timedelta(days=2), now - timedelta(days=2), now - timedelta(days=2, hours=-1),
         now - timedelta(days=2, minutes=-3)),
        ("slow-portal", "latency", "bca-portal", "bca", "warning", "pending",
         now - timedelta(minutes=1), None, None, None),
    ]  # fmt: skip
    ids = []
    for rule, kind, subject, agency, severity, state, started, fired, resolved, acked in rows:
        cur = conn.execute(
            "INSERT INTO alerts (rule_id, rule_kind, subject, agency_id, severity, state,"
            " summary, started_at, fired_at, resolved_at, acknowledged_at, acknowledged_by,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
            " RETURNING id",
            (rule, kind, subject, agency, severity, state, f"{subject} {kind}", started,
             fired, resolved, acked, "operator" if acked else None),
        )  # fmt: skip
        row = cur.fetchone()
        assert row is not None
        ids.append(row[0])
    for alert_id, state in [(ids[0], "sent"), (ids[1], "failed")]:
        conn.execute(
            "INSERT INTO notifications (alert_id, channel_id, status, reason, payload, state,"
            " created_at, due_at, sent_at) VALUES (%s, 'oncall', 'firing', 'fired', '{}',"
            " %s, %s, %s, %s)",
            (alert_id, state, now - timedelta(minutes=8), now - timedelta(minutes=8),
             now - timedelta(minutes=7) if state == "sent" else None),
        )  # fmt: skip
