"""The outbox dispatcher: claims due notifications, sends them, records every attempt.

A notification is a row before it is a request (the engine's change wrote it). Rows are
claimed under a lease with ``FOR UPDATE SKIP LOCKED`` by the store, so several
dispatchers never send the same row at once; a process that dies between sending and
recording leaves the lease to expire and the row is sent again: at most one duplicate.
Retryable failures back off exponentially with jitter, capped; a receiver's own
Retry-After is honoured up to a cap; permanent failures stop at once; a notification
older than ``max_age`` is given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from alerts.channels.base import Channel, DeliveryError
from alerts.notice import Notice
from core.clock import Clock

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "permanent", "expired"]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification leased to this dispatcher; ``attempt`` counts this try."""

    id: int
    channel_id: str
    notice: Notice
    attempt: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """The record of one try; ``next_due`` is set when it will be retried."""

    notification_id: int
    started_at: datetime
    duration_ms: float
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    next_due: datetime | None = None


class OutboxStore(Protocol):
    """What the dispatcher needs of storage (the service's repository implements it)."""

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        """Lease due rows (cancelling those no longer wanted), oldest first."""
        ...

    async def record(self, attempt: Attempt) -> None: ...

    async def next_due(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempt_timeout: float = 10.0
    base: float = 2.0
    cap: float = 300.0
    retry_after_cap: float = 600.0
    max_age: timedelta = timedelta(hours=24)
    lease_margin: float = 30.0
    batch: int = 50

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds before the next try: full backoff with jitter in [d/2, d], or the
        receiver's Retry-After (capped) when that is longer."""
        backoff = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        delay = rng.uniform(backoff / 2, backoff)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_cap))
        return delay


OutcomeHook = Callable[[str, Outcome], None]


class Dispatcher:
    """Sends due notifications through their channels."""

    def __init__(
        self,
        store: OutboxStore,
        channels: Mapping[str, Channel],
        clock: Clock,
        policy: RetryPolicy | None = None,
        on_outcome: OutcomeHook | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self._on_outcome = on_outcome
        self._rng = rng or random.Random()  # jitter, not security
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New rows were written: look now instead of at the next due time."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim what is due now, send it concurrently, record; returns how many."""
        now = self.clock.now()
        lease = now + timedelta(seconds=self.policy.attempt_timeout + self.policy.lease_margin)
        claimed = await self.store.claim(now, lease, self.policy.batch)
        if claimed:
            await asyncio.gather(*(self._deliver(item) for item in claimed))
        return len(claimed)

    async def run_forever(self, idle: float = 30.0) -> None:
        """Loop until cancelled; a failing store is logged and retried."""
        while True:
            try:
                while await self.run_once():
                    pass
                wait = idle
                due = await self.store.next_due()
                if due is not None:
                    wait = min(idle, max(0.0, (due - self.clock.now()).total_seconds()))
            except Exception:
                log.exception("outbox dispatch failed; retrying")
                wait = 5.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _deliver(self, item: Claimed) -> None:
        started = self.clock.now()
        t0 = time.monotonic()
        error: DeliveryError | None = None
        channel = self.channels.get(item.channel_id)
        if channel is None:
            error = DeliveryError(f"channel '{item.channel_id}' is not configured", permanent=True)
        else:
            error = await self._send(channel, item.notice)
        duration_ms = (time.monotonic() - t0) * 1000.0
        attempt = self._judge(item, started, duration_ms, error)
        if self._on_outcome is not None:
            self._on_outcome(item.channel_id, attempt.outcome)
        if attempt.outcome != "sent":
            log.warning(
                "notification %d to %s: %s (%s)",
                item.id,
                item.channel_id,
                attempt.outcome,
                attempt.error,
            )
        await self.store.record(attempt)

    async def _send(self, channel: Channel, notice: Notice) -> DeliveryError | None:
        timeout = self.policy.attempt_timeout
        try:
            # The channel enforces the timeout; the outer guard catches one that does not.
            await asyncio.wait_for(channel.send(notice, timeout=timeout), timeout + 1.0)
        except DeliveryError as exc:
            return exc
        except TimeoutError:
            return DeliveryError(f"no answer within {timeout:g}s")
        except Exception as exc:  # a channel bug must not kill the dispatcher
            log.exception("channel %s raised", channel.channel_id)
            return DeliveryError(f"unexpected {type(exc).__name__}: {exc}")
        return None

    def _judge(
        self, item: Claimed, started: datetime, duration_ms: float, error: DeliveryError | None
    ) -> Attempt:
        def attempt(outcome: Outcome, next_due: datetime | None = None) -> Attempt:
            return Attempt(
                item.id,
                started,
                duration_ms,
                outcome,
                error.status if error else None,
                str(error) if error else None,
                next_due,
            )

        if error is None:
            return attempt("sent")
        if error.permanent:
            return attempt("permanent")
        delay = self.policy.delay(item.attempt, error.retry_after, self._rng)
        next_due = started + timedelta(seconds=delay)
        if next_due - item.created_at > self.policy.max_age:
            return attempt("expired")
        return attempt("retry", next_due)
