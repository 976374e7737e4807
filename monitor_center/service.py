"""The composition root: wires config, storage, collectors, state and API together.

Data flows one way: scheduler -> collector -> result -> (writer, state, metrics, listeners).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol, TypeVar

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from alerts.model import Change
from collectors.http import HttpProber
from core.clock import Clock, SystemClock
from core.results import ProbeResult
from monitor_center.alerting.feed import alert_feed_message
from monitor_center.alerting.runner import Alerting
from monitor_center.api import AppContext, create_app
from monitor_center.api.auth import TokenAuth
from monitor_center.api.live_route import (
    MAX_FRAME_BYTES,
    PING_INTERVAL_SECONDS,
    PING_TIMEOUT_SECONDS,
)
from monitor_center.cluster import ClusterNode, Role, results_only
from monitor_center.cluster.follower import FollowerView
from monitor_center.cluster.forward import LeaderForwarding
from monitor_center.cluster.node import advertised_url
from monitor_center.config import Config
from monitor_center.db import apply_migrations, open_pool, wait_for_database
from monitor_center.db.repositories import (
    AgencyRow,
    CatalogRepository,
    EndpointRow,
    ProbeResultRepository,
)
from monitor_center.live import Hub, SharedFeed, agency_entry, endpoint_entry, endpoint_message
from monitor_center.metrics import Metrics
from monitor_center.probe_workers import ProbeWorkerPool
from monitor_center.rollups import RollupLoop, RollupScope
from monitor_center.scheduling import Prober, ProbeScheduler, Target
from monitor_center.series import SeriesMetrics, SeriesRuntime
from monitor_center.series.writer import READING_CODEC
from monitor_center.settings import Settings
from monitor_center.spool import Codec, Spool, SpoolMetrics, database_dir
from monitor_center.state import EndpointStates, StateChange
from monitor_center.storage_alarm import StorageAlarm
from monitor_center.storage_alarm import Watched as StorageWriter
from monitor_center.targets import probe_targets
from monitor_center.writer import RESULT_CODEC, ResultWriter

log = logging.getLogger(__name__)

StateListener = Callable[[StateChange], None]
T = TypeVar("T")


class Schedule(Protocol):
    """What the service needs of a probe schedule (in-process or worker processes)."""

    def set_targets(self, targets: Sequence[Target]) -> None: ...

    def start(self) -> None: ...

    async def shutdown(self, timeout: float = 10.0) -> None: ...


def token_auth(config: Config) -> TokenAuth:
    return TokenAuth(
        [(t.name, t.token.get_secret_value(), t.role, t.agency) for t in config.auth.tokens]
    )


class Service:
    """One center process. ``start`` connects and begins probing; ``stop`` flushes."""

    def __init__(
        self,
        settings: Settings,
        config: Config,
        *,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
        prober: Prober | None = None,
        config_loader: Callable[[], Config] | None = None,
        role: Role = "serve",
    ) -> None:
        """``config_loader`` re-reads the config on reload (SIGHUP or the admin API);
        ``role`` is what this process tells the cluster it is (``worker``: no API)."""
        if settings.database_url is None:
            raise ValueError("MONITOR_DATABASE_URL is not set")
        self.settings = settings
        self.clock = clock or SystemClock()
        self.metrics = Metrics(registry or CollectorRegistry())
        self.states = EndpointStates(self.clock)
        self.metrics.watch_endpoints(self.states)
        # In-process probing needs a prober; worker processes bring their own.
        self._own_prober = prober is None
        self._prober: Prober | None = prober
        if prober is None and settings.probe_workers == 0:
            self._prober = HttpProber(clock=self.clock)
        self._reload_lock = asyncio.Lock()
        # Every process is a member: it probes the endpoints it holds leases for, and
        # the leader runs the once-per-center jobs (monitor_center/cluster/).
        self.cluster = ClusterNode(
            settings,
            role,
            apply=self._apply_assignment,
            on_remote=self.on_remote_result,
            lead=self._lead,
            step_down=self._step_down,
            lock=self._reload_lock,
            registry=self.metrics.registry,
        )
        self.scheduler: Schedule = self._new_schedule()
        self._listeners: list[StateListener] = []
        self._pool: AsyncConnectionPool | None = None
        self._writer: ResultWriter | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._rollups: RollupLoop | None = None
        self._probing = False
        self._server: uvicorn.Server | None = None
        self._config_loader = config_loader
        self.alerting: Alerting | None = None
        # seq starts at the start time in microseconds: a restart never reuses numbers.
        first_seq = int(self.clock.now().timestamp() * 1_000_000)
        self.hub = Hub(
            snapshot=self._live_snapshot,
            clock=self.clock,
            first_seq=first_seq,
            coalesce=settings.live_coalesce,
        )
        self.metrics.watch_live(self.hub)
        # Publish through ``feed``: it shares events with the other serve processes.
        self.feed = SharedFeed(self.hub, self.database_url)
        self.ctx = AppContext(
            config=config,
            states=self.states,
            metrics=self.metrics,
            auth=token_auth(config),
            database_ok=self._database_ok,
            write_queue=lambda: self._writer.pending if self._writer else 0,
            reload=self.reload if config_loader else None,
            hub=self.hub,
        )
        self.app: FastAPI = create_app(self.ctx)
        # Alert routes need the alert engine: a process that does not lead forwards them.
        self.app.add_middleware(
            LeaderForwarding,
            local=lambda: self.alerting is not None,
            leader_url=self.cluster.leader_url,
            routes=lambda: self.app.routes,
        )
        # Series polling, storage and pushes; the series routes find it on app.state.
        self.series = SeriesRuntime(
            settings, self.clock, SeriesMetrics(self.metrics.registry), self.feed.publish
        )
        self.app.state.series = self.series
        if role == "serve":  # its snapshots show the leader's alerts and series
            self.cluster.follower = FollowerView(
                self.clock,
                self.series,
                lambda: [x.id for x in self.config.series],
                interval=settings.cluster_heartbeat_interval,
            )
        # Built now so that a storage_alert naming an unknown channel stops the start.
        self.storage_alarm = StorageAlarm(self._writers, config, self.clock)
        self._spool_metrics = SpoolMetrics(self.metrics.registry)

    @property
    def config(self) -> Config:
        """The config in force (the API reads the same object)."""
        return self.ctx.config

    @property
    def database_url(self) -> str:
        assert self.settings.database_url is not None
        return self.settings.database_url.get_secret_value()

    @property
    def results(self) -> ProbeResultRepository:
        assert self._pool is not None, "service not started"
        return ProbeResultRepository(self._pool)

    @property
    def writer(self) -> ResultWriter:
        assert self._writer is not None, "service not started"
        return self._writer

    def add_listener(self, listener: StateListener) -> None:
        """Be told of every endpoint state change (the alert engine and feed hook in here)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        s = self.settings
        await wait_for_database(
            self.database_url,
            retry_max=s.connect_retry_max_seconds,
            give_up_after=s.connect_give_up_seconds,
        )
        await apply_migrations(self.database_url, timescaledb=s.timescaledb)
        self._pool = await open_pool(
            self.database_url, min_size=s.pool_min_size, max_size=s.pool_max_size
        )
        self.ctx.pool = self._pool
        await self._sync_catalog(self.config)
        self._register_endpoints(self.config)
        await self._restore_states()
        if s.live_feed_shared:
            await self.feed.start(self._pool)
        self._writer = ResultWriter(
            self.results.insert_many,
            self.metrics,
            batch_size=s.write_batch_size,
            flush_interval=s.write_flush_interval,
            buffer_limit=s.write_buffer_limit,
            spool=self._spool(RESULT_CODEC, self.metrics.results_dropped.inc),
        )
        self.metrics.watch_writer(lambda: self.writer.pending)
        self._writer.start()
        series_spool = self._spool(READING_CODEC, self.series.metrics.dropped.inc)
        await self.series.start(self._pool, self.config, spool=series_spool)
        self.storage_alarm.start()
        if self._own_prober and isinstance(self._prober, HttpProber):
            await self._prober.__aenter__()
        await self._join_cluster()
        self.scheduler.set_targets(self._targets())
        self.scheduler.start()
        self._probing = True
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="state-sweeper")
        log.info("probing %d endpoints", len(self.config.endpoints))

    async def stop(self) -> None:
        await self.scheduler.shutdown()  # first: no probe starts once stop() is called
        await self.cluster.stop_following()
        await self.storage_alarm.stop()
        await self.series.stop()
        if self.alerting is not None:
            await self.alerting.stop()
            self.ctx.alerting = self.alerting = None
        if self._sweeper:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.feed.stop()
        if self._own_prober and isinstance(self._prober, HttpProber):
            await self._prober.close()
        if self._writer:
            await self._writer.close()
        if self._rollups:
            await self._rollups.stop()
        await self.cluster.stop()
        if self._pool:
            self.ctx.pool = None
            await self._pool.close()

    async def serve(self, host: str, port: int) -> None:
        """Run the API until ``stop_serving``, a signal or cancellation."""
        self.cluster.advertise(advertised_url(self.settings, host, port))
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                # The protocol the live feed's direct path knows (``api/ws_direct.py``).
                ws="websockets-sansio",
                ws_max_size=MAX_FRAME_BYTES,
                ws_ping_interval=PING_INTERVAL_SECONDS,
                ws_ping_timeout=PING_TIMEOUT_SECONDS,
                # Compressing every frame for every client costs ~35 % more CPU per send
                # (bench/fanout.py) for a feed of small JSON messages.
                ws_per_message_deflate=False,
            )
        )
        await self._server.serve()

    @property
    def serving(self) -> bool:
        """True once the API server is listening."""
        return self._server is not None and self._server.started

    def stop_serving(self) -> None:
        """Ask the API server to shut down gracefully (closing its sockets)."""
        if self._server is not None:
            self._server.should_exit = True

    async def reload(self) -> None:
        """Re-read the config and apply it; raises ``ConfigError`` and keeps the old one.

        Endpoints added start probing, removed ones stop (their history stays, marked
        inactive), changed ones are rescheduled; tokens and agencies switch at once.
        """
        if self._config_loader is None:
            raise RuntimeError("this service has no config source to reload from")
        async with self._reload_lock:
            config = await asyncio.to_thread(self._config_loader)
            # The catalogue first: if the database refuses, nothing has switched yet.
            await self._sync_catalog(config)
            self.storage_alarm.configure(config)
            self.ctx.config = config
            self.ctx.auth = token_auth(config)
            self._register_endpoints(config)
            self.series.reload(config)
            if not self.cluster.leading:  # series are polled by the leader only
                self.series.schedule.set_targets([])
            if self.alerting is not None:
                await self.alerting.reload(config)
            await self._retarget()
            await self.cluster.reconfigure(config)
            log.info("config reloaded: %d endpoints", len(config.endpoints))

    def _new_schedule(self) -> Schedule:
        if self._prober is None:
            return ProbeWorkerPool(self.settings.probe_workers, self.on_result, self.metrics)
        prober = self.cluster.gate(self._prober, self.clock)
        return ProbeScheduler(prober, results_only(self.on_result), self.metrics, self.clock)

    async def _retarget(self) -> None:
        """Schedule what this process owns now (a config change or a lease change)."""
        if isinstance(self.scheduler, ProbeScheduler):
            self.scheduler.set_targets(self._targets())
        elif self._probing:  # worker shards are fixed at spawn: replace the pool
            await self.scheduler.shutdown()
            self.scheduler = self._new_schedule()
            self.scheduler.set_targets(self._targets())
            self.scheduler.start()

    async def _apply_assignment(self, owned: frozenset[str]) -> None:
        await self._retarget()

    def _targets(self) -> list[Target]:
        """The probe targets of the endpoints this process holds the lease of."""
        return [t for t in probe_targets(self.config) if self.cluster.scheduled(t.spec.endpoint_id)]

    def on_result(self, result: ProbeResult) -> None:
        """Every probe result of this process passes here exactly once."""
        self.metrics.observe_probe(result)
        if self._writer is not None:
            self._writer.submit(result)
        self.cluster.share(result)
        self._record(result, publish=True)

    def on_remote_result(self, result: ProbeResult) -> None:
        """A result another member probed (and stored, and put on the feed): into the
        states and the alert engine only."""
        self._record(result, publish=False)

    def _record(self, result: ProbeResult, *, publish: bool) -> None:
        change = self.states.record(result)
        if change is not None:
            self._emit(change, publish=publish)
        if self.alerting is not None:
            self.alerting.on_result(result)

    def _emit(self, change: StateChange, *, publish: bool) -> None:
        if change.current == "down" and change.result is not None:
            log.warning("endpoint %s is down: %s", change.endpoint_id, change.result.reason)
        elif change.previous == "down":
            log.info("endpoint %s is %s again", change.endpoint_id, change.current)
        view = self.states.view(change.endpoint_id)
        if view is not None and publish:  # False: another process announces it
            self.feed.publish(endpoint_message(view, previous=change.previous))
        for listener in self._listeners:
            listener(change)

    def _live_snapshot(self) -> dict[str, Any]:
        """What a live-feed client starts from: every endpoint's state and the agencies."""
        return {
            "endpoints": [endpoint_entry(v) for v in self.states.views()],
            "agencies": [agency_entry(a) for a in self.config.agencies],
            "series": self.series.live.snapshot(),
            "alerts": [
                alert_feed_message(a)
                for a in (
                    self.alerting.engine.open_alerts()
                    if self.alerting
                    else self.cluster.followed_alerts()
                )
            ],
        }

    async def _start_alerting(self) -> None:
        assert self._pool is not None
        self.alerting = Alerting(
            self._pool,
            self.config,
            self.clock,
            self.metrics.registry,
            eval_interval=self.settings.rule_eval_interval,
        )
        self.alerting.add_listener(self._publish_alert)
        await self.alerting.start()
        self.ctx.alerting = self.alerting

    def _spool(self, codec: Codec[T], dropped: Callable[[int], None]) -> Spool[T]:
        """The on-disk spool of one writer, in this database's folder of the spool dir."""
        return Spool(
            database_dir(self.settings.spool_dir, self.database_url),
            codec,
            self._spool_metrics,
            max_bytes=self.settings.spool_max_bytes,
            on_drop=dropped,
        )

    def _writers(self) -> list[StorageWriter]:
        """The writers whose failures raise the storage alert."""
        found: list[StorageWriter] = [self._writer] if self._writer else []
        return [*found, self.series.writer] if self.series.started else found

    async def _join_cluster(self) -> None:
        """Claim this process's share of the endpoints (all of them when it is alone)
        and, when it leads, start the once-per-center jobs."""
        assert self._pool is not None
        self.series.schedule.set_targets([])  # polled by the leader only
        await self.cluster.start(self._pool, self.config)
        await self.cluster.follow()

    async def _lead(self) -> None:
        """This process took the leader lease: alerting, the outbox, series, rollups."""
        await self._start_alerting()
        self._start_rollups()
        self.series.reload(self.config)

    async def _step_down(self) -> None:
        """The leader lease went to another process: stop the leader's jobs."""
        self.series.schedule.set_targets([])
        if self._rollups is not None:
            await self._rollups.stop()
            self._rollups = None
        if self.alerting is not None:
            await self.alerting.stop()
            self.ctx.alerting = self.alerting = None

    def _start_rollups(self) -> None:
        """Hourly and daily rollups every ``rollup_interval``, raw retention once a day."""
        assert self._pool is not None
        s = self.settings
        self._rollups = RollupLoop(
            self._pool,
            lambda: RollupScope.of(self.config),
            self.clock,
            interval=s.rollup_interval,
            retention_days=s.raw_retention_days,
            day_refresh=s.rollup_day_refresh,
        )
        self._rollups.start()

    def _publish_alert(self, change: Change) -> None:
        self.feed.publish(alert_feed_message(change.alert))

    async def _sync_catalog(self, config: Config) -> None:
        assert self._pool is not None
        agencies = [
            AgencyRow(a.id, a.name, a.kind, tuple(a.depends_on), a.lat, a.lon)
            for a in config.agencies
        ]
        endpoints = [
            EndpointRow(
                e.id, e.agency, e.url, e.interval.total_seconds(), e.timeout.total_seconds()
            )
            for e in config.endpoints
        ]
        await CatalogRepository(self._pool).sync(agencies, endpoints)

    def _register_endpoints(self, config: Config) -> None:
        for e in config.endpoints:
            self.states.register(e.id, e.agency, e.interval.total_seconds())
        self.states.forget_except(e.id for e in config.endpoints)

    async def _restore_states(self) -> None:
        """Start from the stored results; stale ones read as ``unknown``, never ``up``."""
        longest = max((e.interval for e in self.config.endpoints), default=timedelta(0))
        since = self.clock.now() - 2 * longest
        for result in (await self.results.latest_per_endpoint(since)).values():
            self.states.record(result)
        self.states.sweep()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for change in self.states.sweep():
                # Every member sees staleness; the leader alone announces it.
                self._emit(change, publish=self.cluster.leading)

    async def _database_ok(self) -> bool:
        if self._pool is None:
            return False
        try:
            async with self._pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
        except Exception:  # any failure means "not ok" for a health check
            return False
        return True
