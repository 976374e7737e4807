"""The center's alert about its own storage.

When the writers (probe results, series readings) have been failing for longer than
``center.storage_alert.after``, a notice goes to each channel named in
``center.storage_alert.channels``; when they succeed again, a recovery notice follows.
Both go straight through the channels' own transports (``alerts.channels``: the same
request builders and senders the outbox uses), never through the outbox: that is a
table in the database that is away. Undelivered notices are retried with back-off, in
order per channel (a "resolved" never overtakes its "firing"), while the process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from alerts.channels import Channel, DeliveryError, build_channel
from alerts.notice import Notice, NoticeStatus
from core.clock import Clock
from monitor_center.alerting.policy import channel_settings
from monitor_center.config import Config

log = logging.getLogger(__name__)

RULE = "center-storage"
"""The ``rule`` (and ``alertname``) label of the storage alert."""


class Watched(Protocol):
    """What the alarm reads from a writer."""

    @property
    def pending(self) -> int: ...

    @property
    def spooled(self) -> int: ...

    def failing_for(self) -> float: ...


@dataclass(slots=True)
class _Queued:
    notice: Notice
    attempts: int = 0
    next_try: float = 0.0


def storage_channels(config: Config) -> dict[str, Channel]:
    """The transports ``center.storage_alert.channels`` names; ``ValueError`` naming the
    key for an unknown channel (the config loader reports it too, with file and line)."""
    alert = config.center.storage_alert
    if alert is None:
        return {}
    known = {c.id: c for c in config.channels}
    for index, channel_id in enumerate(alert.channels):
        if channel_id not in known:
            raise ValueError(
                f"center.storage_alert.channels[{index}]: unknown channel {channel_id!r}"
            )
    return {
        cid: build_channel(known[cid].kind, cid, channel_settings(known[cid]))
        for cid in alert.channels
    }


class StorageAlarm:
    """Watches ``writers`` every ``poll`` seconds; see the module docstring."""

    def __init__(
        self,
        writers: Callable[[], Sequence[Watched]],
        config: Config,
        clock: Clock,
        *,
        poll: float = 1.0,
        timeout: float = 10.0,
        retry_max: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._writers = writers
        self._clock = clock
        self._poll = poll
        self._timeout = timeout
        self._retry_max = retry_max
        self._monotonic = monotonic
        self._channels: dict[str, Channel] = {}
        self._queues: dict[str, deque[_Queued]] = {}
        self._after: float | None = None
        self._center = config.center.name
        self._since: datetime | None = None  # the failure being reported, once it fired
        self._task: asyncio.Task[None] | None = None
        self.configure(config)

    @property
    def firing(self) -> bool:
        """True from the storage alert until the recovery."""
        return self._since is not None

    def configure(self, config: Config) -> None:
        """Follow a (re)loaded config; raises ``ValueError`` for an unknown channel."""
        self._channels = storage_channels(config)
        alert = config.center.storage_alert
        self._after = alert.after.total_seconds() if alert else None
        self._center = config.center.name
        for channel_id in list(self._queues):
            if channel_id not in self._channels:
                del self._queues[channel_id]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="storage-alarm")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def check_once(self) -> None:
        """Fire or recover as the writers stand, then send what is due."""
        writers = list(self._writers())
        failing = max((w.failing_for() for w in writers), default=0.0)
        now = self._clock.now()
        if self._since is None and self._after is not None and failing >= self._after:
            self._since = now - timedelta(seconds=failing)
            waiting = sum(w.pending for w in writers)
            on_disk = sum(w.spooled for w in writers)
            log.error("storage: writes failing for %.0fs; %d items waiting", failing, waiting)
            self._enqueue("firing", _firing_summary(self._center, failing, waiting, on_disk))
        elif self._since is not None and failing == 0.0:
            lasted = (now - self._since).total_seconds()
            log.warning("storage: writes succeed again after %.0fs", lasted)
            self._enqueue("resolved", f"{self._center} writes to its database again")
            self._since = None
        await self._deliver_due()

    def _enqueue(self, status: NoticeStatus, summary: str) -> None:
        assert self._since is not None
        notice = Notice(
            alert_id=0,
            status=status,
            rule=RULE,
            rule_kind="storage",
            subject="database",
            severity="critical",
            summary=summary,
            starts_at=self._since,
            ends_at=self._clock.now() if status == "resolved" else None,
            center=self._center,
            labels={"component": "storage"},
        )
        for channel_id in self._channels:
            self._queues.setdefault(channel_id, deque()).append(_Queued(notice))

    async def _deliver_due(self) -> None:
        due = [cid for cid, q in self._queues.items() if q and q[0].next_try <= self._monotonic()]
        await asyncio.gather(*(self._deliver(cid) for cid in due))

    async def _deliver(self, channel_id: str) -> None:
        queue = self._queues[channel_id]
        channel = self._channels[channel_id]
        while queue and queue[0].next_try <= self._monotonic():
            item = queue[0]
            try:
                await channel.send(item.notice, timeout=self._timeout)
            except DeliveryError as exc:
                item.attempts += 1
                if exc.permanent:
                    log.error("storage alert to %s refused for good: %s", channel_id, exc)
                    queue.popleft()
                    continue
                delay = max(min(2.0**item.attempts, self._retry_max), exc.retry_after or 0.0)
                item.next_try = self._monotonic() + delay
                log.warning("storage alert to %s failed, retrying: %s", channel_id, exc)
                return
            log.info("storage alert (%s) sent to %s", item.notice.status, channel_id)
            queue.popleft()

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:  # the alarm must outlive its own bugs: log, go on
                log.exception("storage alarm check failed")
            await asyncio.sleep(self._poll)


def _firing_summary(center: str, failing: float, waiting: int, on_disk: int) -> str:
    return (
        f"{center} cannot write to its database (failing for {failing:.0f}s);"
        f" {waiting} results and readings kept ({on_disk} on disk), written when it returns"
    )
