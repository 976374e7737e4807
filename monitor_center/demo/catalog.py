"""Which series each simulated agency publishes, and their values at any time.

* NGSP: ``transactions_total`` (JSON, counted since 1 January 2019 like the seeds).
* National Public Service Portal (``dvcqg``): dossiers and registered accounts (counters),
  the national level-4 share and on-time settlement rate (JSON).
* National E-Document Exchange Platform (``vdxp``): the exchange rate (JSON).
* Each province: its LGSP's transactions (a process counter that restarts weekly), its
  level-4 share and on-time settlement rate (Prometheus text, labelled by agency).
* Each ministry: its level-4 share (Prometheus text).

Both kinds of source are used so that both series collectors have work in the demo.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from monitor_center.demo import seeds
from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.kpis import KpiModel
from monitor_center.demo.telemetry import ICT, Counter, CounterCurve

SourceType = Literal["json", "prometheus"]
SeriesKind = Literal["counter", "gauge"]
COUNTER_INTERVAL = 60
"""Seconds between reads of a counter: the volume_drop rule judges 10-minute windows."""
GAUGE_INTERVAL = 300
"""Seconds between reads of a KPI: they are recomputed daily, five minutes is plenty."""
LGSP_METRIC = "egov_lgsp_transactions_total"
LEVEL4_METRIC = "egov_level4_share_percent"
ON_TIME_METRIC = "egov_on_time_settlement_percent"
# A province's LGSP is redeployed on Sunday between 02:00 and 03:00 local time (hours
# into the local week); its Prometheus counter restarts from zero then.
_LGSP_RESTART_HOUR = 6 * 24 + 2.0


@dataclass(frozen=True, slots=True)
class SimSeries:
    """One series the fleet publishes, with what the center's config needs to read it.

    ``key`` is the key in ``/telemetry/{agency}.json`` (``json``) or the metric name in
    ``/metrics`` (``prometheus``, one sample per agency labelled ``agency``). ``url`` is
    empty until ``FleetSimulator.series`` places the fleet behind a base URL.
    """

    id: str
    agency_id: str
    kind: SeriesKind
    unit: str
    key: str
    source: SourceType
    interval: int
    target: float | None = None
    direction: Literal["min", "max"] = "min"
    url: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def located(self, base_url: str) -> SimSeries:
        """This series with its absolute URL under ``base_url``."""
        root = base_url.rstrip("/")
        if self.source == "json":
            return replace(self, url=f"{root}/telemetry/{self.agency_id}.json")
        return replace(self, url=f"{root}/metrics", labels={"agency": self.agency_id})


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=ICT).timestamp()


def _counter(spec: SimSeries, daily: float, seed: int, since: date | None) -> Counter:
    curve = CounterCurve(spec.id, daily, seed)
    if since is not None:
        return Counter(curve, since=_epoch(since))
    minutes = random.Random(f"{seed}:{spec.id}:restart").randrange(60)
    return Counter(curve, restart_hour=_LGSP_RESTART_HOUR + minutes / 60)


def _lgsp_daily(agency_id: str, seed: int) -> float:
    low, high = seeds.LGSP_DAILY_RANGE
    draw = random.Random(f"{seed}:{agency_id}:lgsp-volume").uniform(math.log(low), math.log(high))
    return math.exp(draw)


class TelemetryModel:
    """The series of a fleet and their true values (before any injected fault)."""

    def __init__(self, agencies: Iterable[AgencyInfo], seed: int = 0) -> None:
        listed = list(agencies)
        self.seed = seed
        self.kpis = KpiModel(listed, seed)
        self.series: list[SimSeries] = []
        self.counters: dict[str, Counter] = {}
        self._gauges: dict[str, Callable[[float], float]] = {}
        for agency in listed:
            self._add_agency(agency)
        self._by_id = {s.id: s for s in self.series}

    def __contains__(self, series_id: object) -> bool:
        return series_id in self._by_id

    def get(self, series_id: str) -> SimSeries:
        """The series with this id (``KeyError`` when there is none)."""
        return self._by_id[series_id]

    def value(self, series_id: str, t: float) -> float:
        """The published value at ``t``: counters are whole transactions."""
        counter = self.counters.get(series_id)
        if counter is not None:
            return float(math.floor(counter.value(t)))
        return round(self._gauges[series_id](t), 2)

    def _add_counter(self, spec: SimSeries, daily: float, since: date | None) -> None:
        self.series.append(spec)
        self.counters[spec.id] = _counter(spec, daily, self.seed, since)

    def _add_gauge(self, spec: SimSeries, value: Callable[[float], float]) -> None:
        self.series.append(spec)
        self._gauges[spec.id] = value

    def _add_agency(self, agency: AgencyInfo) -> None:
        aid, kpis = agency.id, self.kpis
        if aid == "ngsp":
            spec = _json(aid, "transactions", "counter", "transactions", "transactions_total")
            spec = replace(spec, target=seeds.NGSP_DAILY_TARGET)
            self._add_counter(spec, seeds.NGSP_DAILY, seeds.NGSP_SINCE)
        elif aid == "dvcqg":
            dossiers = _json(aid, "dossiers", "counter", "dossiers", "dossiers_total")
            self._add_counter(dossiers, seeds.PORTAL_DOSSIERS_DAILY, seeds.PORTAL_LAUNCH)
            accounts = _json(aid, "accounts", "counter", "accounts", "accounts_total")
            self._add_counter(accounts, seeds.PORTAL_ACCOUNTS_DAILY, seeds.PORTAL_LAUNCH)
            level4 = _json(aid, "level4-share", "gauge", "%", "level4_share_percent")
            self._add_gauge(replace(level4, target=seeds.LEVEL4_TARGET), kpis.national_level4)
            on_time = _json(aid, "on-time", "gauge", "%", "on_time_settlement_percent")
            national_on_time: Callable[[float], float] = lambda t: kpis.on_time(None, t)  # noqa: E731
            self._add_gauge(replace(on_time, target=seeds.ON_TIME_TARGET), national_on_time)
        elif aid == "vdxp":
            edoc = _json(aid, "exchange-rate", "gauge", "%", "exchange_rate_percent")
            self._add_gauge(replace(edoc, target=seeds.EDOC_TARGET), kpis.edoc_rate)
        elif agency.kind in ("ministry", "province"):
            self._add_local(agency)

    def _add_local(self, agency: AgencyInfo) -> None:
        aid, kpis = agency.id, self.kpis
        if agency.kind == "province":
            lgsp = _prom(aid, "lgsp-transactions", "counter", "transactions", LGSP_METRIC)
            self._add_counter(lgsp, _lgsp_daily(aid, self.seed), None)
        level4 = _prom(aid, "level4-share", "gauge", "%", LEVEL4_METRIC)
        self._add_gauge(replace(level4, target=seeds.LEVEL4_TARGET), lambda t: kpis.level4(aid, t))
        if agency.kind == "province":
            on_time = _prom(aid, "on-time", "gauge", "%", ON_TIME_METRIC)
            value: Callable[[float], float] = lambda t: kpis.on_time(aid, t)  # noqa: E731
            self._add_gauge(replace(on_time, target=seeds.ON_TIME_TARGET), value)


def _json(aid: str, suffix: str, kind: SeriesKind, unit: str, key: str) -> SimSeries:
    interval = COUNTER_INTERVAL if kind == "counter" else GAUGE_INTERVAL
    return SimSeries(f"{aid}-{suffix}", aid, kind, unit, key, "json", interval)


def _prom(aid: str, suffix: str, kind: SeriesKind, unit: str, metric: str) -> SimSeries:
    interval = COUNTER_INTERVAL if kind == "counter" else GAUGE_INTERVAL
    return SimSeries(f"{aid}-{suffix}", aid, kind, unit, metric, "prometheus", interval)
