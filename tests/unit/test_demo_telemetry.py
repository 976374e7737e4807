"""The demo fleet's telemetry: deterministic curves with a working-day rhythm, counters
that only fall at a restart, KPIs around the seeds' figures, served as JSON and
Prometheus text that the center's series collectors read, and the volume_drop fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from itertools import pairwise

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from alerts.rules.volume_drop import VolumeDropParams, evaluate_volume_drop
from collectors.series import JsonQuery, PrometheusQuery, SeriesReader, SeriesSpec
from core.clock import SystemClock
from core.samples import Sample
from monitor_center.demo import seeds
from monitor_center.demo.agencies import load_agencies
from monitor_center.demo.catalog import TelemetryModel
from monitor_center.demo.faults import Fault
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.telemetry import DAY, HOUR, ICT, WEEK, Counter, CounterCurve

AGENCIES = load_agencies()
PROVINCES = [a.id for a in AGENCIES if a.kind == "province"]
MINISTRIES = [a.id for a in AGENCIES if a.kind == "ministry"]
# A Wednesday in the middle of the 2020 programme year, local time.
WEDNESDAY = datetime(2020, 7, 15, tzinfo=ICT).timestamp()


def at(year: int, month: int, day: int, hour: int = 0) -> float:
    return datetime(year, month, day, hour, tzinfo=ICT).timestamp()


@pytest.fixture(scope="module")
def model() -> TelemetryModel:
    return TelemetryModel(AGENCIES, seed=1)


def test_the_same_seed_gives_the_same_values_and_another_seed_others() -> None:
    one, again, other = (TelemetryModel(AGENCIES, seed=s) for s in (1, 1, 2))
    times = [WEDNESDAY + k * 3917.0 for k in range(50)]
    for series in one.series:
        assert [one.value(series.id, t) for t in times] == [
            again.value(series.id, t) for t in times
        ], series.id
    assert [one.value("ha-noi-lgsp-transactions", t) for t in times] != [
        other.value("ha-noi-lgsp-transactions", t) for t in times
    ]


def test_every_agency_publishes_its_series_through_both_kinds_of_source(
    model: TelemetryModel,
) -> None:
    ids = {s.id for s in model.series}
    assert {"ngsp-transactions", "dvcqg-level4-share", "vdxp-exchange-rate"} <= ids
    assert all(f"{p}-lgsp-transactions" in ids and f"{p}-level4-share" in ids for p in PROVINCES)
    assert all(f"{m}-level4-share" in ids for m in MINISTRIES)
    assert {s.source for s in model.series} == {"json", "prometheus"}
    assert model.get("ngsp-transactions").source == "json"
    assert model.get("ha-noi-lgsp-transactions").source == "prometheus"


def test_transactions_are_busy_in_office_hours_and_quiet_at_night() -> None:
    curve = CounterCurve("ngsp-transactions", seeds.NGSP_DAILY, seed=1)
    for week in range(8):
        day = WEDNESDAY + week * WEEK
        assert curve.rate_per_hour(day + 10 * HOUR) > 10 * curve.rate_per_hour(day + 3 * HOUR)
        for hour in range(8, 17):
            assert curve.rate_per_hour(day + hour * HOUR) > curve.rate_per_hour(day + 22 * HOUR)


def test_weekdays_carry_more_than_weekends_and_a_week_averages_the_seeds_7612() -> None:
    curve = CounterCurve("ngsp-transactions", seeds.NGSP_DAILY, seed=1)
    monday = WEDNESDAY - 2 * DAY

    def volume(start: float, days: float = 1) -> float:
        return curve.cumulative(start + days * DAY) - curve.cumulative(start)

    for week in range(8):
        start = monday + week * WEEK
        weekdays = [volume(start + d * DAY) for d in range(5)]
        saturday, sunday = volume(start + 5 * DAY), volume(start + 6 * DAY)
        assert min(weekdays) > 2 * saturday > 2 * sunday
        assert volume(start, 7) == pytest.approx(7 * seeds.NGSP_DAILY, rel=1e-9)
        assert 9_000 < weekdays[2] < 10_500  # a Wednesday: above the 7-day average


def test_ngsp_reaches_the_seeds_4_4_million_on_31_july_2020(model: TelemetryModel) -> None:
    assert model.value("ngsp-transactions", at(2019, 1, 1)) == 0
    total = model.value("ngsp-transactions", at(2020, 8, 1))
    assert total == pytest.approx(seeds.NGSP_TRANSACTIONS_BY_SEED_DATE, rel=0.01)


def test_a_counter_only_falls_at_its_weekly_restart(model: TelemetryModel) -> None:
    counter = model.counters["nghe-an-lgsp-transactions"]
    times = [WEDNESDAY + k * 300.0 for k in range(3 * 7 * 288)]  # three weeks, 5 minutes
    values = [model.value("nghe-an-lgsp-transactions", t) for t in times]
    falls = [i for i in range(1, len(values)) if values[i] < values[i - 1]]
    assert len(falls) == 3
    for i in falls:
        assert counter.started(times[i]) != counter.started(times[i - 1])
        local = datetime.fromtimestamp(counter.started(times[i]), ICT)
        assert (local.weekday(), local.hour) == (6, 2)  # Sunday, 02:xx
        assert values[i] < 100  # counting again from zero
    ngsp = [model.value("ngsp-transactions", t) for t in times]
    assert all(b >= a for a, b in pairwise(ngsp))


def test_bulk_evaluation_agrees_with_one_by_one(model: TelemetryModel) -> None:
    counter = model.counters["ha-noi-lgsp-transactions"]
    times = [WEDNESDAY + 4 * DAY + k * 60.0 for k in range(5000)]  # crosses a restart
    assert counter.values(times) == pytest.approx([counter.value(t) for t in times], abs=1e-6)
    with pytest.raises(ValueError, match="restart_hour"):
        Counter(counter.curve, restart_hour=168)


def test_level4_shares_follow_the_seeds(model: TelemetryModel) -> None:
    assert model.value("dvcqg-level4-share", at(2020, 7, 31, 12)) == pytest.approx(15.91, abs=0.4)
    assert model.value("dvcqg-level4-share", at(2020, 2, 12, 12)) == pytest.approx(10.2, abs=0.4)
    shares = model.kpis.level4_at_seed
    assert shares["nghe-an"] == pytest.approx(87 / 1887 * 100)
    assert shares["byt"] == shares["bkhcn"] == 100.0
    provinces_above = sum(shares[p] > 30 for p in PROVINCES)
    ministries_above = sum(shares[m] > 30 for m in MINISTRIES)
    # 11 of 63 provinces and 9 of 22 ministries were above 30 % in July 2020.
    assert provinces_above == round(len(PROVINCES) * 11 / 63)
    assert abs(ministries_above - len(MINISTRIES) * 9 / 22) <= 1.5
    assert model.value("byt-level4-share", at(2020, 1, 5)) == 100.0


def test_level4_drifts_up_through_the_year_toward_the_target(model: TelemetryModel) -> None:
    for year in (2020, 2026):
        months = [model.value("dvcqg-level4-share", at(year, m, 15, 12)) for m in range(1, 13)]
        assert all(b > a for a, b in pairwise(months)), months
        assert 8 < months[0] < months[-1] < seeds.LEVEL4_TARGET
    province = [model.value("ha-noi-level4-share", at(2026, m, 15)) for m in (3, 11)]
    assert province[1] > province[0]


def test_gauges_wander_smoothly_within_a_day(model: TelemetryModel) -> None:
    for series_id in ("dvcqg-level4-share", "vdxp-exchange-rate", "nghe-an-on-time"):
        values = [model.value(series_id, WEDNESDAY + k * 300.0) for k in range(288)]
        steps = [abs(b - a) for a, b in pairwise(values)]
        assert max(steps) < 0.05, series_id


def test_other_kpis_stay_near_the_seeds(model: TelemetryModel) -> None:
    assert model.value("vdxp-exchange-rate", at(2020, 8, 26, 12)) == pytest.approx(88.53, abs=0.6)
    assert model.value("vdxp-exchange-rate", at(2020, 2, 12, 12)) == pytest.approx(86.5, abs=0.6)
    days = [at(2026, 11, 1) + k * DAY for k in range(30)]
    on_time = [model.value("dvcqg-on-time", t) for t in days]
    assert all(abs(v - seeds.ON_TIME_NATIONAL) < 1.5 for v in on_time)
    provinces = [model.value(f"{p}-on-time", days[0]) for p in PROVINCES]
    assert all(85 < v < 100 for v in provinces)
    assert 0 < sum(v < seeds.ON_TIME_TARGET for v in provinces) < len(provinces) / 2


# --- over HTTP ---------------------------------------------------------------------------


class Clock:
    """The fleet's clock, moved by hand."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY + 10 * HOUR)


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[FleetSimulator]:
    async with FleetSimulator(AGENCIES, seed=1, latency_scale=0, clock=clock) as fleet:
        yield fleet


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.text()


async def control(sim: FleetSimulator, body: object) -> tuple[int, object]:
    url = f"{sim.base_url}/_control/faults"
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return response.status, await response.json()


async def test_platform_figures_are_served_as_json(sim: FleetSimulator) -> None:
    status, kind, _ = await get(f"{sim.base_url}/telemetry/ngsp.json")
    assert (status, kind) == (200, "application/json")
    url = f"{sim.base_url}/telemetry/dvcqg.json"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        document = await response.json()
    assert document["agency"] == "dvcqg"
    assert isinstance(document["dossiers_total"], int)
    assert document["level4_share_percent"] == sim.telemetry.value("dvcqg-level4-share")
    assert (await get(f"{sim.base_url}/telemetry/atlantis.json"))[0] == 404
    assert (await get(f"{sim.base_url}/telemetry/ha-noi.json"))[0] == 404  # Prometheus only


async def test_ministries_and_provinces_are_served_as_prometheus_text(sim: FleetSimulator) -> None:
    status, kind, text = await get(f"{sim.base_url}/metrics")
    assert (status, kind) == (200, "text/plain")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    lgsp = {s.labels["agency"]: s.value for s in families["egov_lgsp_transactions"].samples}
    assert set(lgsp) == set(PROVINCES)
    assert lgsp["nghe-an"] == sim.telemetry.value("nghe-an-lgsp-transactions")
    level4 = families["egov_level4_share_percent"]
    assert {s.labels["agency"] for s in level4.samples} == set(PROVINCES) | set(MINISTRIES)


async def test_the_series_collectors_read_every_published_series(sim: FleetSimulator) -> None:
    specs = [
        SeriesSpec(
            s.id,
            JsonQuery(s.url, f"$.{s.key}")
            if s.source == "json"
            else PrometheusQuery.of(s.url, s.key, s.labels),
            timeout=5,
        )
        for s in sim.series()
    ]
    async with SeriesReader(clock=SystemClock()) as reader:
        for spec in specs:
            reading = await reader.read(spec)
            assert reading.error is None, (spec.series_id, reading.error)
            assert reading.value == sim.telemetry.value(spec.series_id), spec.series_id


async def test_volume_drop_slows_a_counter_and_ok_restores_its_rate(
    sim: FleetSimulator, clock: Clock
) -> None:
    def count() -> float:
        return sim.telemetry.value("ngsp-transactions")

    normal_rate = sim.telemetry.model.counters["ngsp-transactions"].curve.rate_per_hour(clock.t)
    before = count()
    status, shown = await control(sim, {"series": "ngsp-transactions", "mode": "volume_drop"})
    assert (status, shown) == (
        200,
        {"endpoint": "ngsp-transactions", "mode": "volume_drop", "factor": 0.1},
    )
    clock.t += 1800
    dropped = count()
    assert 0 < dropped - before == pytest.approx(0.1 * normal_rate / 2, abs=2)
    assert (await control(sim, {"endpoint": "ngsp-transactions", "mode": "ok"}))[0] == 200
    assert count() == dropped  # clearing never jumps the counter
    clock.t += 600
    assert count() - dropped == pytest.approx(normal_rate / 6, abs=2)
    assert sim.faults == {}


async def test_fault_targets_take_only_their_modes(sim: FleetSimulator) -> None:
    status, body = await control(sim, {"endpoint": "ngsp-portal", "mode": "volume_drop"})
    assert status == 400 and "endpoint takes the modes" in str(body)
    status, body = await control(sim, {"series": "ngsp-transactions", "mode": "down"})
    assert status == 400 and "counter series takes the modes" in str(body)
    status, body = await control(sim, {"series": "vdxp-exchange-rate", "mode": "volume_drop"})
    assert status == 400 and "gauge" in str(body)
    status, body = await control(
        sim, {"series": "ngsp-transactions", "mode": "volume_drop", "factor": 1.5}
    )
    assert status == 400 and "factor" in str(body)
    assert (await control(sim, {"series": "atlantis-transactions", "mode": "ok"}))[0] == 404


async def test_a_drop_across_a_weekly_restart_starts_the_new_count_from_zero(
    sim: FleetSimulator, clock: Clock
) -> None:
    series = "nghe-an-lgsp-transactions"
    counter = sim.telemetry.model.counters[series]
    clock.t = counter.started(clock.t) + WEEK - 3600  # an hour before the next restart
    sim.set_fault(series, Fault("volume_drop", factor=0.0))
    clock.t += 2 * 3600
    after_restart = sim.telemetry.value(series)
    assert 0 <= after_restart < counter.value(clock.t)
    assert sim.clear_faults() == 1
    clock.t += 60
    assert sim.telemetry.value(series) >= after_restart


def _window(sim: FleetSimulator, clock: Clock, end: float) -> list[Sample]:
    """What the collector would have stored: a reading a minute over the 10 minutes."""
    samples = []
    for k in range(10, -1, -1):
        clock.t = end - 60 * k
        value = sim.telemetry.value("ngsp-transactions")
        samples.append(Sample(datetime.fromtimestamp(clock.t, UTC), value))
    return samples


@pytest.mark.parametrize(("hour", "fires"), [(10, True), (3, None)])
def test_the_demo_volume_drop_rule_fires_on_a_drop_in_office_hours_only(
    hour: int, fires: bool | None
) -> None:
    """The demo rule's parameters against the demo fleet: a drop to 10 % fires at 10:00 on
    a Wednesday; at 03:00 the baseline is under min_volume and nothing is judged."""
    rule = VolumeDropParams(drop_percent=50, window=600, baseline_offset=WEEK, min_volume=50)
    clock = Clock(0)
    sim = FleetSimulator(AGENCIES, seed=1, clock=clock)
    now = WEDNESDAY + hour * HOUR
    baseline = _window(sim, clock, now - WEEK)
    normal = evaluate_volume_drop(_window(sim, clock, now), baseline, rule)
    assert not normal.active
    clock.t = now - 600
    sim.set_fault("ngsp-transactions", Fault("volume_drop"))
    dropped = evaluate_volume_drop(_window(sim, clock, now), baseline, rule)
    if fires is None:
        assert (dropped.active, dropped.value) == (False, None), dropped.summary
    else:
        assert dropped.active and dropped.value is not None and dropped.value < 20
