"""The fleet's telemetry over HTTP, and the ``volume_drop`` fault of its counters.

Routes (added to the fleet's app)::

    GET /telemetry/{agency_id}.json   the agency's JSON figures (platforms), e.g.
                                      {"agency": "ngsp", "time": ..., "transactions_total": N}
    GET /metrics                      Prometheus text: every ministry's and province's
                                      series, one sample per agency (label ``agency``)

Values come from ``TelemetryModel`` at the time of the request, so a restarted fleet
continues its counters where they would have been. A ``volume_drop`` fault slows one
counter to ``factor`` of its rate; when cleared the counter grows normally again from
where it was (it never goes back), short of the transactions it lost.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from aiohttp import web

from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.catalog import SimSeries, TelemetryModel
from monitor_center.demo.faults import SERIES_MODES, Fault, FaultError

EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_HELP = {
    "egov_lgsp_transactions_total": "Transactions through the province's LGSP since it started.",
    "egov_level4_share_percent": "Share of online public services provided at level 4.",
    "egov_on_time_settlement_percent": "Administrative procedures settled on time.",
}


class FleetTelemetry:
    """Every series of a fleet as served now, with ``volume_drop`` faults applied."""

    def __init__(
        self, agencies: Iterable[AgencyInfo], seed: int = 0, clock: Callable[[], float] = time.time
    ) -> None:
        self.model = TelemetryModel(agencies, seed)
        self._clock = clock
        self._faults: dict[str, Fault] = {}
        self._drop_since: dict[str, float] = {}
        # Transactions lost to past drops, per counter, with the start of the count they
        # were lost from: a weekly restart begins a new count that owes nothing.
        self._lost: dict[str, tuple[float, float]] = {}
        self._json: dict[str, list[SimSeries]] = defaultdict(list)
        self._metrics: dict[str, list[SimSeries]] = defaultdict(list)
        for series in self.model.series:
            if series.source == "json":
                self._json[series.agency_id].append(series)
            else:
                self._metrics[series.key].append(series)

    def series(self, base_url: str) -> list[SimSeries]:
        """Every series, with absolute URLs under ``base_url``."""
        return [s.located(base_url) for s in self.model.series]

    def __contains__(self, series_id: object) -> bool:
        return series_id in self.model

    def value(self, series_id: str, t: float | None = None) -> float:
        """What the fleet serves for the series at ``t`` (default: now)."""
        now = self._clock() if t is None else t
        if series_id not in self.model.counters:
            return self.model.value(series_id, now)
        return float(math.floor(self._counter(series_id, now)))

    def _counter(self, series_id: str, t: float) -> float:
        counter = self.model.counters[series_id]
        cumulative = counter.curve.cumulative
        started = counter.started(t)
        lost = self._lost_by(series_id, started, t)
        return cumulative(t) - cumulative(started) - lost

    def _lost_by(self, series_id: str, started: float, t: float) -> float:
        period, lost = self._lost.get(series_id, (started, 0.0))
        if period != started:
            lost = 0.0
        fault = self._faults.get(series_id)
        if fault is not None:
            cumulative = self.model.counters[series_id].curve.cumulative
            since = max(self._drop_since[series_id], started)
            if t > since:
                lost += (1 - fault.factor) * (cumulative(t) - cumulative(since))
        return lost

    def _settle(self, series_id: str, now: float) -> None:
        """Bank what the current drop has lost so far, so the fault can change."""
        if series_id not in self._faults:
            return
        started = self.model.counters[series_id].started(now)
        self._lost[series_id] = (started, self._lost_by(series_id, started, now))
        self._drop_since[series_id] = now

    def set_fault(self, series_id: str, fault: Fault) -> None:
        """Slow a counter down (``volume_drop``) or restore it (``ok``)."""
        if series_id not in self.model.counters:
            raise FaultError(f"{series_id!r} is a gauge: only counters take faults")
        if fault.mode not in SERIES_MODES:
            modes = ", ".join(SERIES_MODES)
            raise FaultError(f"a counter series takes the modes {modes}, not {fault.mode!r}")
        now = self._clock()
        self._settle(series_id, now)
        if fault.mode == "ok":
            self._faults.pop(series_id, None)
        else:
            self._faults[series_id] = fault
            self._drop_since[series_id] = now

    def clear_faults(self) -> int:
        """Restore every counter; returns how many were slowed."""
        now = self._clock()
        for series_id in list(self._faults):
            self._settle(series_id, now)
        count = len(self._faults)
        self._faults.clear()
        return count

    @property
    def faults(self) -> dict[str, Fault]:
        """The active faults by series id (a copy)."""
        return dict(self._faults)

    def add_routes(self, app: web.Application) -> None:
        """Serve ``/telemetry/{agency}.json`` and ``/metrics`` from ``app``."""
        app.router.add_get("/telemetry/{name}", self._serve_json)
        app.router.add_get("/metrics", self._serve_metrics)

    def json_document(self, agency_id: str, t: float | None = None) -> dict[str, object] | None:
        """The agency's JSON figures, or None when it publishes none as JSON."""
        listed = self._json.get(agency_id)
        if not listed:
            return None
        now = self._clock() if t is None else t
        document: dict[str, object] = {
            "agency": agency_id,
            "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        }
        for series in listed:
            value = self.value(series.id, now)
            document[series.key] = int(value) if series.kind == "counter" else value
        return document

    def exposition(self, t: float | None = None) -> str:
        """Prometheus text of every ministry's and province's series."""
        now = self._clock() if t is None else t
        lines: list[str] = []
        for metric, listed in self._metrics.items():
            kind = listed[0].kind
            lines.append(f"# HELP {metric} {_HELP.get(metric, metric)}")
            lines.append(f"# TYPE {metric} {kind}")
            for series in listed:
                value = self.value(series.id, now)
                shown = f"{int(value)}" if kind == "counter" else f"{value:g}"
                lines.append(f'{metric}{{agency="{series.agency_id}"}} {shown}')
        return "\n".join(lines) + "\n"

    async def _serve_json(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        document = (
            self.json_document(name.removesuffix(".json")) if name.endswith(".json") else None
        )
        if document is None:
            return web.Response(status=404, text="not found\n")
        return web.json_response(document)

    async def _serve_metrics(self, request: web.Request) -> web.Response:
        body = self.exposition().encode()
        return web.Response(body=body, headers={"Content-Type": EXPOSITION_TYPE})
