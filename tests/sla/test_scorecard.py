"""KPI attainment (direction-aware) and the scorecard's ranking and components."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from monitor_center.config import parse_config_text
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla import Period, SlaQuery, attainment, build_scorecard, score
from tests.sla.rows import LOCAL, at, catalog, full_days, series_day, series_sample

SERIES = """
agencies:
  - {id: bo-a, name: "Bộ A", kind: ministry}
  - {id: bo-b, name: "Bộ B", kind: ministry}
  - {id: bo-c, name: "Bộ C", kind: ministry}
  - {id: tinh-a, name: "Tỉnh A", kind: province}
  - {id: tinh-b, name: "Tỉnh B", kind: province}
series:
  - {id: bo-a-level4, agency: bo-a, kind: gauge, unit: "%", target: 30,
     source: {type: json, url: "http://127.0.0.1:9/", path: "$.v"}}
  - {id: tinh-a-tx, agency: tinh-a, kind: counter, unit: tx, target: 7600,
     source: {type: json, url: "http://127.0.0.1:9/", path: "$.v"}}
  - {id: tinh-b-late, agency: tinh-b, kind: gauge, unit: "%", target: 10,
     target_direction: max, source: {type: json, url: "http://127.0.0.1:9/", path: "$.v"}}
  - {id: tinh-b-nodata, agency: tinh-b, kind: gauge, target: 5,
     source: {type: json, url: "http://127.0.0.1:9/", path: "$.v"}}
"""


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        (15, 30, "min", 50.0),
        (45, 30, "min", 100.0),
        (20, 10, "max", 50.0),
        (5, 10, "max", 100.0),
        (-1, 0, "min", 0.0),
        (None, 30, "min", None),
    ],
)
def test_attainment_is_direction_aware_and_capped(
    value: float | None, target: float, direction: str, expected: float | None
) -> None:
    assert attainment(value, target, direction) == expected


def test_score_weighs_availability_and_kpi() -> None:
    assert score(99.0, 50.0) == pytest.approx(84.3)
    assert score(98.0, None) == 98.0
    assert score(None, 100.0) is None


async def test_agencies_are_ranked_within_their_kind(pool: AsyncConnectionPool) -> None:
    config = parse_config_text(SERIES, filename="scorecard.yaml", env={})
    await catalog(
        pool,
        [(a.id, a.name, a.kind) for a in config.agencies],
        [("a1", "bo-a"), ("b1", "bo-b"), ("c1", "bo-c"), ("ta1", "tinh-a"), ("tb1", "tinh-b")],
    )
    october = date(2026, 10, 1)
    await full_days(pool, "a1", october, 31, downtime=864)  # 99 %
    await full_days(pool, "b1", october, 31, downtime=1728)  # 98 %
    await full_days(pool, "ta1", october, 31)  # 100 %
    await full_days(pool, "tb1", october, 31, downtime=4320)  # 95 %
    await series_sample(pool, "bo-a-level4", at("2026-10-02 09:00"), 40)
    await series_sample(pool, "bo-a-level4", at("2026-10-30 09:00"), 15)  # the latest counts
    await series_sample(pool, "bo-a-level4", at("2026-11-02 09:00"), 60)  # after the period
    for i in range(31):
        await series_day(pool, "tinh-a-tx", october + timedelta(days=i), 7600 + (i % 2) * 10)
    await series_sample(pool, "tinh-b-late", at("2026-10-15 09:00"), 20)

    query = SlaQuery(Period.month("2026-10", LOCAL), at("2026-11-25 09:00"))
    card = await build_scorecard(SlaRepository(pool), query, config.series)
    rows = {r.agency.id: r for r in card.rows}

    assert [(r.agency.kind, r.rank, r.agency.id) for r in card.rows] == [
        ("ministry", 1, "bo-b"), ("ministry", 2, "bo-a"), ("ministry", 3, "bo-c"),
        ("province", 1, "tinh-a"), ("province", 2, "tinh-b"),
    ]  # fmt: skip
    assert rows["bo-a"].availability_percent == pytest.approx(99.0)
    assert rows["bo-a"].kpi_attainment_percent == pytest.approx(50.0)
    assert rows["bo-a"].score == pytest.approx(84.3)
    assert rows["bo-b"].kpi_attainment_percent is None and rows["bo-b"].score == pytest.approx(98)
    assert rows["bo-c"].availability_unknown and rows["bo-c"].score is None
    assert rows["tinh-a"].kpis[0].value == pytest.approx(7600 + 150 / 31)
    assert rows["tinh-a"].score == pytest.approx(100)
    late, nodata = rows["tinh-b"].kpis
    assert (late.value, late.attainment_percent) == (20, 50)
    assert (nodata.value, nodata.attainment_percent) == (None, None)
    assert rows["tinh-b"].score == pytest.approx(0.7 * 95 + 0.3 * 50)

    provinces = await build_scorecard(SlaRepository(pool), query, config.series, "province")
    assert [r.agency.id for r in provinces.rows] == ["tinh-a", "tinh-b"]
