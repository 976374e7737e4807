"""Alerting inside the service: feeds the engine, persists its changes in order, runs
the periodic rules, ticks, and the outbox dispatcher.

Changes are written by one persister task, in the order the engine made them: an alert
is inserted before it is updated, and its notifications are rows before any request.
If the database is unreachable the persister keeps the change and retries: nothing is
dropped, the engine keeps deciding meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence

import psycopg
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from alerts.engine import AlertEngine, EngineOptions
from alerts.model import Alert, Change, Observation
from alerts.outbox import Dispatcher, RetryPolicy
from alerts.policy import Policy
from alerts.rules import RuleSpec
from core.clock import Clock
from core.results import ProbeResult
from monitor_center.alerting.metrics import AlertMetrics
from monitor_center.alerting.observations import periodic_observations
from monitor_center.alerting.policy import (
    build_channels,
    build_policy,
    config_maintenance,
    endpoint_subjects,
)
from monitor_center.alerting.tracker import EndpointDownTracker
from monitor_center.config import Config
from monitor_center.db.repositories.alerts import AlertRepository
from monitor_center.db.repositories.notifications import NotificationRepository
from monitor_center.db.repositories.rule_inputs import RuleInputs
from monitor_center.db.repositories.silences import SilenceRepository
from monitor_center.rule_specs import rule_spec

log = logging.getLogger(__name__)

ChangeListener = Callable[[Change], None]


class Alerting:
    """One per service process. ``start`` loads the open alerts; ``stop`` drains."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        config: Config,
        clock: Clock,
        registry: CollectorRegistry,
        *,
        eval_interval: float = 15.0,
        retry: RetryPolicy | None = None,
        options: EngineOptions | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``rng`` drives the outbox's retry jitter (seed it for reproducible runs)."""
        self.clock = clock
        self.config = config
        self.eval_interval = eval_interval
        self.alerts = AlertRepository(pool)
        self.outbox = NotificationRepository(pool)
        self.silences = SilenceRepository(pool)
        self.inputs = RuleInputs(pool)
        self.metrics = AlertMetrics(registry)
        self.engine = AlertEngine(Policy(), options or EngineOptions(center=config.center.name))
        self.dispatcher = Dispatcher(self.outbox, {}, clock, retry, self.metrics.outcome, rng)
        self.specs: list[RuleSpec] = []
        self.tracker = EndpointDownTracker([], {})
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._listeners: list[ChangeListener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._since = clock.now()

    def add_listener(self, listener: ChangeListener) -> None:
        """Called with every change once it is stored (the live feed hooks in here)."""
        self._listeners.append(listener)

    async def start(self, *, background: bool = True) -> None:
        """Load state and start persisting; ``background=False`` leaves the periodic
        evaluation and the dispatcher to the caller (tests drive them by hand)."""
        self._since = self.clock.now()
        await self._apply_config(self.config)
        open_alerts = await self.alerts.load_open()
        recent = await self.alerts.load_resolved_since(
            self._since - self.engine.options.flap_window
        )
        self.engine.load(open_alerts, recent)
        self.tracker.resume(open_alerts)
        self._submit(self.engine.set_policy(await self._policy(), self._since))
        self.metrics.watch(self.engine.open_alerts)
        self._tasks.append(asyncio.create_task(self._persist_forever(), name="alert-persister"))
        if background:
            self._tasks.append(asyncio.create_task(self._periodic_forever(), name="alert-rules"))
            self._tasks.append(
                asyncio.create_task(self.dispatcher.run_forever(), name="alert-outbox")
            )

    async def stop(self) -> None:
        """Write what is queued, then stop every task."""
        # The persister is the first task: it goes last, once the queue is written.
        for task in reversed(self._tasks):
            if task is self._tasks[0]:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._queue.join(), timeout=10)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.metrics.unwatch()

    async def reload(self, config: Config) -> None:
        """Apply a new config: rules, channels, routes and the config's maintenance."""
        await self._apply_config(config)
        self._submit(self.engine.set_policy(await self._policy(), self.clock.now()))

    async def refresh_policy(self) -> None:
        """Silences or windows changed in the database: recompute every alert's flags."""
        self._submit(self.engine.set_policy(await self._policy(), self.clock.now()))
        await self.flush()

    def on_result(self, result: ProbeResult) -> None:
        """Every probe result: endpoint_down decides at once, not at the next sweep."""
        for obs in self.tracker.observe(result):
            self._submit(self.engine.observe(obs))

    def observe(self, observations: Sequence[Observation]) -> None:
        for obs in observations:
            self._submit(self.engine.observe(obs))

    async def acknowledge(self, alert_id: int, who: str, comment: str) -> Alert:
        """Raises ``alerts.engine.UnknownAlert`` when no open alert has this id."""
        change = self.engine.acknowledge(alert_id, who, comment, self.clock.now())
        self._submit([change])
        await self.flush()
        return change.alert

    async def evaluate_once(self) -> None:
        """One round of the periodic rules and of time-driven work (repeats, escalation)."""
        now = self.clock.now()
        observations = await periodic_observations(
            self.specs, self.config, self.inputs, now, self._since
        )
        self.observe(observations)
        self._submit(self.engine.tick(now))
        depth, age = await self.outbox.depth(now)
        self.metrics.outbox_depth.set(depth)
        self.metrics.outbox_age.set(age)
        await self.flush()

    async def flush(self) -> None:
        """Wait until every change made so far is stored."""
        await self._queue.join()

    # -- internals -----------------------------------------------------------------------

    async def _apply_config(self, config: Config) -> None:
        self.config = config
        self.specs = [rule_spec(r) for r in config.rules]
        tracker = EndpointDownTracker(self.specs, endpoint_subjects(config))
        tracker.resume(self.engine.open_alerts())
        self.tracker = tracker
        self.dispatcher.channels = dict(build_channels(config))
        await self.silences.sync_config_maintenance(config_maintenance(config), self.clock.now())

    async def _policy(self) -> Policy:
        silences = await self.silences.silences(active_at=self.clock.now())
        return build_policy(self.config, silences, await self.silences.maintenance())

    def _submit(self, changes: Sequence[Change]) -> None:
        for change in changes:
            self._queue.put_nowait(change)

    async def _persist_forever(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await self._persist(change)
            finally:
                self._queue.task_done()

    async def _persist(self, change: Change) -> None:
        delay = 0.5
        while True:
            try:
                await self.alerts.save(change)
                break
            except (psycopg.OperationalError, PoolTimeout):
                # The database is away: keep the change and its order, try again.
                log.warning("storing alert %s/%s failed; retrying", *change.alert.key)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            except psycopg.Error:
                # The database refused this change itself (bad data, a constraint): retrying
                # would block every later change behind it, so it is logged and skipped.
                log.exception("alert %s/%s could not be stored; skipped", *change.alert.key)
                return
        for event in change.events:
            self.metrics.transitions.labels(event=event.event).inc()
        if change.outgoing:
            self.dispatcher.wake()
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:
                log.exception("alert listener failed")

    async def _periodic_forever(self) -> None:
        while True:
            await asyncio.sleep(self.eval_interval)
            try:
                await self.evaluate_once()
            except Exception:
                log.exception("periodic alert evaluation failed")
