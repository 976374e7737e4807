"""One live feed across every ``serve`` process on a database, through PostgreSQL.

Several center processes behind a load balancer each hold websocket clients; an event
published in any of them must reach the clients of all of them, once each, in one order,
numbered in one ``seq`` space so that a client can resume on another replica with
``?since=``. Design:

- **Publish = one transaction.** ``publish`` queues the message; a flusher task writes
  the queue in batches: ``UPDATE live_feed_head`` (one row: ``n``, the event count, and
  ``seq``) numbers the batch, the rows go into ``live_events`` and each is announced with
  ``pg_notify('monitor_center_live', 'n seq json')`` (just ``'n seq'`` when the message
  is too big for a notification's 8000 bytes). The head row stays locked until commit,
  so commit order, and with it notification order, is numbering order in every process.
- **Delivery = the notification, for everyone.** Each process LISTENs on a dedicated
  autocommit connection and feeds what it hears into its ``Hub`` with the given ``seq``,
  in ``n`` order. A process's own events come back the same way and are never delivered
  locally first, so there is no double delivery and every process shows one order.
- **Nothing lost.** ``n`` has no gaps: a notification whose ``n`` is not the next one (a
  dropped and re-opened listener, an oversized payload) makes the listener read the
  missing rows from ``live_events`` (through the pool; the listening connection is busy).
  A listener that drops reconnects with back-off and catches up the same way. Rows are
  pruned to the latest ``keep``; a listener that missed more resyncs its clients
  (fresh snapshots). On start, the latest ``preload`` rows fill the ring, so a client
  resuming on a freshly started replica gets a replay, not a snapshot.
- **Database unreachable.** A batch that cannot be written (or, while the listener is
  lost and the pool has no connection, one not even tried: waiting for a connection would
  hold it back) is published to this
  process's hub directly (local numbering) and publishing stays local for a back-off
  (doubling up to ``retry_max``): local clients keep their feed, other replicas do not
  see those events. Each write carries this hub's ``seq`` as a floor (the head's ``seq``
  becomes at least that), so shared numbering resumes above whatever was numbered
  locally. An event that arrives below the hub's ``seq`` (the hub numbered locally
  meanwhile, or something published straight to the hub) is delivered with the next
  local number and the head is raised to heal the divergence; across replicas resuming
  in that window is approximate (``since`` means "after this number"). A write whose
  commit is lost with the connection counts as failed and may then be delivered twice.

The price of one order: a process's own events reach its clients after a round trip
through the database (a few milliseconds), and a replica that has not yet heard of SEQ
answers a resume from SEQ with a snapshot.

Snapshots stay per process: each builds them from its own state, which the processes keep
in step by sharing probe results (``monitor_center/cluster/``). An endpoint is probed by
the one process holding its lease, and that process alone publishes its state changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from monitor_center.db.pool import redact_url
from monitor_center.live.hub import Hub

log = logging.getLogger(__name__)

CHANNEL = "monitor_center_live"
NOTIFY_MAX_BYTES = 7_900
"""PostgreSQL refuses a notification payload of 8000 bytes or more (with a margin)."""

_ADVANCE = (
    "UPDATE live_feed_head SET n = n + %(k)s, seq = GREATEST(seq, %(floor)s) + %(k)s"
    " RETURNING n, seq"
)
_INSERT = (
    "INSERT INTO live_events (n, seq, message)"
    " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::json[])"
)
# unnest yields the array in order, so the notifications go out in numbering order.
_NOTIFY = "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p"
_ROWS_AFTER = "SELECT n, seq, message::text FROM live_events WHERE n > %s ORDER BY n"
_ROWS_BETWEEN = "SELECT n, seq, message::text FROM live_events WHERE n > %s AND n <= %s ORDER BY n"
_ERRORS = (psycopg.Error, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class _Event:
    n: int
    seq: int
    text: str | None
    """The message as JSON; None when only the row holds it."""


@dataclass(frozen=True, slots=True)
class _Outgoing:
    message: Mapping[str, Any]
    text: str


def checked_text(message: Mapping[str, Any]) -> str:
    """``message`` as compact JSON, refused like ``Hub.publish`` refuses it."""
    kind = message.get("type")
    if not isinstance(kind, str) or not kind or kind == "snapshot":
        raise ValueError(f"a published message needs a delta type, got {kind!r}")
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def notify_payload(n: int, seq: int, text: str) -> str:
    """``'n seq json'``, or ``'n seq'`` when the JSON would not fit in a notification."""
    payload = f"{n} {seq} {text}"
    return payload if len(payload.encode()) <= NOTIFY_MAX_BYTES else f"{n} {seq}"


def parse_payload(payload: str) -> tuple[int, int, str | None]:
    """``(n, seq, json or None)`` from a notification; ``ValueError`` when malformed."""
    n, seq, *rest = payload.split(" ", 2)
    return int(n), int(seq), rest[0] if rest else None


class SharedFeed:
    """Publishes through the database and feeds ``hub`` from it; see the module docstring.

    Before ``start`` (and after ``stop``) ``publish`` goes straight to the hub, which is
    the single-process behaviour.
    """

    def __init__(
        self,
        hub: Hub,
        database_url: str,
        *,
        keep: int = 10_000,
        preload: int = 1_000,
        batch_size: int = 500,
        timeout: float = 5.0,
        retry_initial: float = 0.1,
        retry_max: float = 5.0,
    ) -> None:
        self._hub = hub
        self._url = database_url
        self._keep, self._preload, self._batch_size = keep, preload, batch_size
        self._timeout = timeout
        self._retry_initial, self._retry_max = retry_initial, retry_max
        self._pool: AsyncConnectionPool | None = None
        self._pending: list[_Outgoing] = []
        self._wake = asyncio.Event()
        self._attached = asyncio.Event()
        # Raise the head's seq to at least this (0: no need): a hub numbered past it.
        self._raise_to = 0
        self._closing = False
        self._applied = 0  # the ``n`` of the last event given to the hub
        self._loaded = False  # whether ``_applied`` has been read from the database
        self._failures = 0
        self._local_until = 0.0
        self._listener_pid: int | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def hub(self) -> Hub:
        return self._hub

    @property
    def shared(self) -> bool:
        """True while listening and publishing through the database."""
        return self._attached.is_set() and not self._local_now()

    @property
    def listener_pid(self) -> int | None:
        """The database backend pid of the listening connection (for diagnostics)."""
        return self._listener_pid

    async def start(self, pool: AsyncConnectionPool) -> None:
        """Fill the ring with recent events, start listening and publishing.

        Waits up to ``timeout`` for the listener; a database that does not answer leaves
        the listener retrying in the background and publishing local meanwhile.
        """
        if self._tasks:
            raise RuntimeError("the shared feed is already started")
        self._pool, self._closing = pool, False
        try:
            await self._load_recent()
        except _ERRORS as exc:
            log.warning("live feed: recent events not loaded (%s)", _first_line(exc))
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="live-feed-listener"),
            asyncio.create_task(self._flush_forever(), name="live-feed-publisher"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._attached.wait(), self._timeout)

    async def stop(self) -> None:
        """Write what is queued (within ``timeout``), then stop listening."""
        if not self._tasks:
            return
        flusher = self._tasks[1]
        self._closing = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flusher, self._timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._attached.clear()

    def publish(self, message: Mapping[str, Any]) -> None:
        """Send ``message`` to the clients of every process (never blocks).

        Raises ``TypeError``/``ValueError`` at once for a message the feed cannot carry.
        """
        text = checked_text(message)
        if not self._tasks or self._closing or self._local_now():
            self._hub.publish(message)
            return
        self._pending.append(_Outgoing(message, text))
        self._wake.set()

    def _local_now(self) -> bool:
        return self._local_until > asyncio.get_running_loop().time()

    # Publishing --------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # A head raise alone waits for the end of a local spell; events never wait.
            if not self._pending and (not self._raise_to or self._local_now()):
                if self._closing:
                    return
                self._wake.clear()
                wait = self._local_until - loop.time() if self._raise_to else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            batch = self._pending[: self._batch_size]
            del self._pending[: len(batch)]
            await self._flush(batch)

    async def _flush(self, batch: list[_Outgoing]) -> None:
        if self._local_now():
            self._publish_locally(batch)
            return
        if self._database_away():
            self._fall_back(batch, ConnectionError("no connection to the database"))
            return
        floor = self._hub.seq
        try:
            async with asyncio.timeout(self._timeout):
                await self._write(batch, floor)
        except Exception as exc:  # whatever failed, local clients still get the batch
            self._fall_back(batch, exc)
            return
        if self._raise_to <= floor:
            self._raise_to = 0
        if self._failures:
            log.warning("live feed: shared through the database again")
            self._failures = 0

    async def _write(self, batch: list[_Outgoing], floor: int) -> None:
        """Number, store and announce ``batch`` in one transaction (module docstring)."""
        assert self._pool is not None
        k = len(batch)
        async with (
            self._pool.connection(timeout=self._timeout) as conn,
            conn.transaction(),
        ):
            cur = await conn.execute(_ADVANCE, {"k": k, "floor": floor})
            row = await cur.fetchone()
            assert row is not None, "live_feed_head has its one row from the migration"
            last_n, last_seq = int(row[0]), int(row[1])
            if not batch:
                return  # only raising the head's seq
            ns = list(range(last_n - k + 1, last_n + 1))
            seqs = list(range(last_seq - k + 1, last_seq + 1))
            texts = [o.text for o in batch]
            await conn.execute(_INSERT, (ns, seqs, texts))
            payloads = [notify_payload(*e) for e in zip(ns, seqs, texts, strict=True)]
            await conn.execute(_NOTIFY, (CHANNEL, payloads))
            # Pruning once per tenth of ``keep`` events keeps the table small and cheap.
            step = max(self._keep // 10, 1)
            if last_n // step != (last_n - k) // step:
                await conn.execute("DELETE FROM live_events WHERE n <= %s", (last_n - self._keep,))

    def _database_away(self) -> bool:
        """The listener is lost and the pool holds no connection: waiting ``timeout`` for
        one would hold these events back from this process's clients for nothing."""
        assert self._pool is not None
        return not self._attached.is_set() and not self._pool.get_stats().get("pool_available")

    def _fall_back(self, batch: list[_Outgoing], exc: BaseException) -> None:
        self._failures += 1
        delay = min(self._retry_initial * 2 ** (self._failures - 1), self._retry_max)
        self._local_until = asyncio.get_running_loop().time() + delay
        self._publish_locally(batch)
        # Lift shared numbering above the local numbers as soon as the database is back.
        self._raise_to = self._hub.seq
        log.warning(
            "live feed: database unreachable (%s); this process's clients only, retrying in %.1fs",
            _first_line(exc),
            delay,
        )

    def _publish_locally(self, batch: list[_Outgoing]) -> None:
        for outgoing in batch:
            self._hub.publish(outgoing.message)

    # Listening ---------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        delay = self._retry_initial
        while True:
            try:
                await self._listen()
            except _ERRORS as exc:
                if self._attached.is_set():  # it worked until now: retry quickly
                    delay = self._retry_initial
                log.warning(
                    "live feed: listener on %s lost (%s); reconnecting in %.1fs",
                    redact_url(self._url),
                    _first_line(exc),
                    delay,
                )
            except Exception:  # a bug must not silence the feed for good: log, go on
                log.exception("live feed: listener failed; reconnecting in %.1fs", delay)
            finally:
                self._attached.clear()
                self._listener_pid = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    async def _listen(self) -> None:
        """Listen, catch up, then deliver each notification until the connection fails."""
        async with await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=max(int(self._timeout), 1)
        ) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self._listener_pid = conn.info.backend_pid
            if not self._loaded:  # the database was away at start: begin at its head now
                await self._load_recent()
            # Listening first, then reading: nothing committed in between is missed.
            await self._catch_up()
            self._attached.set()
            async for note in conn.notifies():
                await self._receive(note.payload)

    async def _receive(self, payload: str) -> None:
        try:
            n, seq, text = parse_payload(payload)
        except ValueError:
            log.warning("live feed: ignoring a malformed notification %r", payload[:80])
            return
        if n <= self._applied:
            return  # already delivered by a catch-up
        if n == self._applied + 1 and text is not None:
            self._deliver(_Event(n, seq, text))
        else:
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Deliver every stored event after the last one delivered."""
        assert self._pool is not None
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(_ROWS_AFTER, (self._applied,))
            rows = await cur.fetchall()
        events = [_Event(int(n), int(seq), str(text)) for n, seq, text in rows]
        if events and events[0].n != self._applied + 1:
            log.warning(
                "live feed: %d event(s) pruned before this process read them; clients resync",
                events[0].n - self._applied - 1,
            )
            self._hub.resync(max(self._hub.seq, events[0].seq - 1))
        for event in events:
            self._deliver(event)

    def _deliver(self, event: _Event) -> None:
        self._applied = event.n
        try:
            message = json.loads(event.text or "null")
            if event.seq > self._hub.seq:
                self._hub.publish(message, seq=event.seq)
                return
            # This hub numbered locally past the shared numbers: keep the clients'
            # order (next local number) and raise the head so shared numbers overtake.
            self._hub.publish(message)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("live feed: event %d not deliverable: %s", event.n, exc)
            return
        self._raise_to = self._hub.seq
        self._wake.set()

    async def _load_recent(self) -> None:
        """The latest ``preload`` events into the hub's ring (before anyone subscribes)."""
        assert self._pool is not None
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute("SELECT n, seq FROM live_feed_head")
            head = await cur.fetchone()
            assert head is not None, "live_feed_head has its one row from the migration"
            cur = await conn.execute(
                _ROWS_BETWEEN,
                (int(head[0]) - self._preload, int(head[0])),
            )
            rows = await cur.fetchall()
        self._applied, self._loaded = int(head[0]), True
        if self._hub.subscribers:
            return  # the hub's numbers are already out; later events heal (_deliver)
        events = [_Event(int(n), int(seq), str(text)) for n, seq, text in rows]
        self._hub.resync(events[0].seq - 1 if events else int(head[1]))
        for event in events:
            self._deliver(event)
        self._raise_to = 0  # nothing diverged: the hub just adopted the head's numbers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
