"""The running service keeps the rollups current and applies retention at start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from pydantic import SecretStr

from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import free_port
from tests.waiting import wait_until


def _config(port: int) -> str:
    # An endpoint nobody listens on: every probe fails fast, every result is stored.
    return (
        "agencies:\n  - {id: ngsp, name: NGSP, kind: platform}\n"
        f"endpoints:\n  - {{id: ngsp-api, agency: ngsp, url: 'http://127.0.0.1:{port}/',"
        " interval: 1s, timeout: 0.5s}\n"
    )


def _one(db_url: str, query: str) -> tuple[object, ...] | None:
    with psycopg.connect(db_url) as conn:
        return conn.execute(query).fetchone()


async def test_the_service_rolls_up_what_it_probes_and_drops_old_raw_rows(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO probe_results (time, endpoint_id, ok, total_ms)"
            " VALUES (%s, 'ngsp-api', true, 12)",
            (datetime.now(UTC) - timedelta(days=120),),
        )
    settings = Settings(database_url=SecretStr(db_url), rollup_interval=0.2)
    config = parse_config_text(_config(free_port()), filename="center.yaml", env={})
    service = Service(settings, config)
    await service.start()
    try:

        async def current_hour() -> tuple[object, ...] | None:
            return _one(
                db_url,
                "SELECT total, downtime_seconds FROM probe_rollups"
                " WHERE endpoint_id = 'ngsp-api' AND resolution = 'hour'"
                " AND bucket > now() - interval '2 hours' AND total >= 2",
            )

        _, downtime = await wait_until(current_hour, timeout=20, what="the hour rolled up")
        assert isinstance(downtime, float) and downtime > 0
    finally:
        await service.stop()
    # Retention ran at start: the old result was rolled up, then dropped.
    old = "WHERE time < now() - interval '100 days'"
    assert _one(db_url, f"SELECT count(*) FROM probe_results {old}") == (0,)
    assert _one(
        db_url,
        "SELECT total FROM probe_rollups WHERE resolution = 'day'"
        " AND bucket < now() - interval '100 days'",
    ) == (1,)
