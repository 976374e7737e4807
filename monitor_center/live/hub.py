"""In-process fan-out of the live feed: sequence numbers, a resume ring, bounded queues.

Every published message gets the next ``seq`` (or the higher one a shared feed assigned
it, see ``live/bridge.py``: numbers then have gaps). The last ``ring_size`` messages are
kept, so a client that reconnects with ``since=SEQ`` gets exactly what it missed, every
message numbered above SEQ; one that missed more than the ring holds gets a fresh snapshot
instead. Each subscriber has a
bounded queue that ``publish`` fills without awaiting: a subscriber whose queue is full
is resynced (queue cleared, a fresh snapshot next), and dropped when it falls behind
again and again, so one slow client never slows the publisher or the other clients.

A subscriber may also ``attach`` a ``FrameSink``: a connection that takes a finished
websocket frame without awaiting. While its queue is empty and nothing is in flight,
``publish`` writes the frame (built once for every subscriber) straight to it: no queue,
no task wake-up, no per-client encoding, which is what lets one process feed a thousand
screens. A sink that is backed up refuses the frame, and that subscriber goes back to
its queue (and its reader's awaited sends) until it has caught up.

With ``coalesce`` set (seconds), frames published within that window go out together,
one write per connection for the lot: a few milliseconds of delay buy several times fewer
system calls on the server and on every screen at busy moments. Each subscriber tracks
the last ``seq`` it was given (``_seen``), so a snapshot or replay taken meanwhile is never
followed by a frame it already covers.

Not thread-safe, on purpose: ``publish`` and ``subscribe`` are called from the event loop
only (probe results, state sweeps and alert transitions all arrive there), which is what
lets ``publish`` be a plain function with no locks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from core.clock import Clock, SystemClock
from monitor_center.live.frames import text_frame

SnapshotProvider = Callable[[], dict[str, Any]]


class FrameSink(Protocol):
    """A connection that can take one whole websocket frame now, without awaiting."""

    def try_write(self, frame: bytes) -> bool:
        """Write ``frame`` (a complete frame) and return True, or return False when the
        connection is backed up or closing (nothing written)."""
        ...


class SubscriptionClosed(Exception):
    """The subscription has ended: closed by its owner or dropped for falling behind."""


def _encode(message: Mapping[str, Any]) -> str:
    # NaN and Infinity are not JSON; a browser's JSON.parse would reject the frame.
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class _Frame:
    """One message, encoded once for every subscriber (and framed once, when a sink
    first needs it)."""

    __slots__ = ("_wire", "agency", "message", "seq", "text")

    def __init__(self, seq: int, agency: str | None, message: dict[str, Any], text: str):
        self.seq = seq
        self.agency = agency
        self.message = message
        self.text = text
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        """The message as one server-to-client websocket text frame."""
        if self._wire is None:
            self._wire = text_frame(self.text)
        return self._wire


@dataclass(frozen=True, slots=True)
class _Limits:
    queue_size: int
    max_resyncs: int
    resync_window: float
    clock: Clock


def scope_snapshot(snapshot: dict[str, Any], agency: str) -> dict[str, Any]:
    """The part of ``snapshot`` an agency-scoped client may see.

    Every list of objects keeps the items whose ``agency`` is ``agency``; the ``agencies``
    list keeps the agency itself (its ``id``). Anything without an owner is left out.
    """
    scoped: dict[str, Any] = {}
    for key, value in snapshot.items():
        if isinstance(value, list):
            owner = "id" if key == "agencies" else "agency"
            value = [v for v in value if isinstance(v, Mapping) and v.get(owner) == agency]
        scoped[key] = value
    return scoped


class Subscription:
    """One client's view of the feed: a snapshot or a replay, then every delta in order.

    Read it with ``await get()`` / ``await get_text()`` (the same message JSON-encoded) or
    ``async for``; a single reader only. The returned dicts are shared between
    subscribers: read them, never change them.
    """

    def __init__(self, hub: Hub, agency: str | None, limits: _Limits) -> None:
        self.agency = agency
        self.resyncs = 0
        """How many times this subscriber fell behind and was resynced."""
        self.dropped = False
        """True once the hub closed it for falling behind too often."""
        self._hub = hub
        self._limits = limits
        self._items: deque[_Frame] = deque()
        self._snapshot_due = False
        self._closed = False
        self._ready = asyncio.Event()
        self._closed_event = asyncio.Event()
        self._overflows: deque[float] = deque(maxlen=limits.max_resyncs + 1)
        self._sink: FrameSink | None = None
        self._seen = hub.seq  # what it starts from (snapshot or replay) covers up to here
        # True from the moment the reader took a frame until it asks for the next one
        # (its send is done by then): a direct write meanwhile would overtake that frame.
        self._in_flight = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """Messages queued and not yet read."""
        return len(self._items)

    async def get(self) -> dict[str, Any]:
        """The next message; raises ``SubscriptionClosed`` once closed."""
        return (await self._next()).message

    async def get_text(self) -> str:
        """The next message as JSON text (encoded once per message, not per client)."""
        return (await self._next()).text

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def attach(self, sink: FrameSink) -> None:
        """Let ``publish`` write frames straight to ``sink`` whenever this subscriber is
        caught up (module docstring). The reader still sends the snapshot or replay and
        anything queued while the sink was backed up."""
        self._sink = sink

    def close(self) -> None:
        """Stop receiving (idempotent); a waiting reader gets ``SubscriptionClosed``."""
        if not self._closed:
            self._closed = True
            self._items.clear()
            self._hub._forget(self)
            self._ready.set()
            self._closed_event.set()

    async def wait_closed(self) -> None:
        """Return once the subscription is closed (e.g. dropped while its reader is stuck)."""
        await self._closed_event.wait()

    async def _next(self) -> _Frame:
        self._in_flight = False  # the reader is back: whatever it took has been sent
        while True:
            if self._closed:
                raise SubscriptionClosed("dropped for falling behind" if self.dropped else "closed")
            if self._snapshot_due:
                frame = self._hub._snapshot(self.agency)
                # The snapshot already reflects everything queued so far.
                self._items.clear()
                self._snapshot_due = False
                self._in_flight = True
                self._hub.handed_to_readers += 1
                self._seen = frame.seq
                return frame
            if self._items:
                self._in_flight = True
                self._hub.handed_to_readers += 1
                frame = self._items.popleft()
                self._seen = max(self._seen, frame.seq)
                return frame
            self._ready.clear()
            await self._ready.wait()

    def _resync(self) -> None:
        """Start over from a fresh snapshot (what was queued is covered by it)."""
        if not self._closed:
            self._items.clear()
            self._snapshot_due = True
            self._ready.set()

    def _start_with(self, frames: list[_Frame] | None) -> None:
        if frames is None:
            self._snapshot_due = True
        else:
            self._items.extend(frames)

    def _caught_up(self) -> bool:
        """Nothing queued, due or in the reader's hands: a direct write keeps the order."""
        return not (self._items or self._snapshot_due or self._in_flight)

    def _offer(self, frames: list[_Frame], wires: dict[tuple[str | None, int], bytes]) -> None:
        """Frames published since the last hand-out (one, without coalescing), in order:
        written to the sink in one go when caught up, else queued. ``wires`` caches the
        joined frames by (agency scope, first seq) so equal batches are built once."""
        mine = [
            f
            for f in frames
            if f.seq > self._seen and (self.agency is None or f.agency == self.agency)
        ]
        if not mine:
            return
        if self._sink is not None and self._caught_up():
            key = (self.agency, mine[0].seq)
            wire = wires.get(key)
            if wire is None:
                wire = wires[key] = b"".join(f.wire for f in mine)
            if self._sink.try_write(wire):
                self._hub.sent_direct += len(mine)
                self._seen = mine[-1].seq
                return
        for frame in mine:
            if len(self._items) >= self._limits.queue_size:
                self._fall_behind()
                if self._closed:
                    return
            # Queued even while a resync is due: a reader that stays stuck overflows again.
            self._items.append(frame)
        self._ready.set()

    def _fall_behind(self) -> None:
        now = self._limits.clock.monotonic()
        self._overflows.append(now)
        window = self._limits.resync_window
        if len(self._overflows) == self._overflows.maxlen and now - self._overflows[0] <= window:
            self.dropped = True
            self.close()
            return
        self.resyncs += 1
        self._items.clear()
        self._snapshot_due = True


class Hub:
    """Fans published messages out to subscribers; see the module docstring.

    ``snapshot`` returns the current state as a dict of sections (``endpoints``,
    ``agencies``, ...); the hub adds ``type`` and ``seq``. A subscriber that overflows
    its queue more than ``max_resyncs`` times within ``resync_window`` seconds is dropped.
    ``first_seq`` is the ``seq`` before the first message: a service passes its start
    time so that a restarted server's numbers keep increasing and a client resuming with
    a number from before the restart gets a snapshot, never a wrong replay. ``coalesce``
    (seconds, 0 = none) delays fan-out to batch writes (module docstring); ``publish``
    then needs a running event loop.
    """

    def __init__(
        self,
        ring_size: int = 10_000,
        queue_size: int = 1_000,
        snapshot: SnapshotProvider | None = None,
        *,
        clock: Clock | None = None,
        max_resyncs: int = 3,
        resync_window: float = 60.0,
        first_seq: int = 0,
        coalesce: float = 0.0,
    ) -> None:
        if ring_size < 1 or queue_size < 1 or max_resyncs < 0 or coalesce < 0:
            raise ValueError("ring_size and queue_size must be >= 1, max_resyncs and coalesce >= 0")
        self._coalesce = coalesce
        self._pending: list[_Frame] = []
        self._flush_timer: asyncio.TimerHandle | None = None
        self._ring: deque[_Frame] = deque(maxlen=ring_size)
        self._snapshot_provider = snapshot
        self._limits = _Limits(queue_size, max_resyncs, resync_window, clock or SystemClock())
        self._seq = first_seq
        # The seq just before the oldest frame in the ring: a resume from below it missed
        # frames the ring no longer holds.
        self._floor = first_seq
        self._subscribers: dict[Subscription, None] = {}  # insertion-ordered set
        self.sent_direct = 0
        """Messages ``publish`` wrote straight to a caught-up subscriber's sink."""
        self.handed_to_readers = 0
        """Messages (snapshots included) subscribers' readers took from their queues."""

    @property
    def seq(self) -> int:
        """The ``seq`` of the latest message (``first_seq`` before any)."""
        return self._seq

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, message: Mapping[str, Any], *, seq: int | None = None) -> int:
        """Number, keep and fan out ``message`` (which has a ``type``); return its ``seq``.

        ``seq`` (a number a shared feed assigned) must be above the current one; without
        it the message gets the next number. Never awaits and never blocks: full queues
        are resynced, not waited on. Raises ``TypeError``/``ValueError`` for a message
        JSON cannot carry, or a ``seq`` not above the current one, before numbering it.
        """
        kind = message.get("type")
        if not isinstance(kind, str) or not kind or kind == "snapshot":
            raise ValueError(f"a published message needs a delta type, got {kind!r}")
        if seq is None:
            seq = self._seq + 1
        elif seq <= self._seq:
            raise ValueError(f"seq {seq} is not above the current {self._seq}")
        body = {**message, "seq": seq}
        agency = body.get("agency")
        frame = _Frame(seq, agency if isinstance(agency, str) else None, body, _encode(body))
        self._seq = frame.seq
        if len(self._ring) == self._ring.maxlen:
            self._floor = self._ring[0].seq
        self._ring.append(frame)
        self._pending.append(frame)
        if not self._coalesce:
            self.flush()
        elif self._flush_timer is None:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(self._coalesce, self.flush)
        return frame.seq

    def flush(self) -> None:
        """Hand out what has been published since the last hand-out (what the coalescing
        window gathered so far; ``publish`` calls it at once without a window)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        frames, self._pending = self._pending, []
        if not frames:
            return
        wires: dict[tuple[str | None, int], bytes] = {}
        for subscriber in list(self._subscribers):  # a copy: an overflow may drop one
            subscriber._offer(frames, wires)

    def resync(self, seq: int | None = None) -> None:
        """Empty the ring and give every subscriber a fresh snapshot next.

        ``seq`` restarts the numbering there. Lower than the current number only before
        anyone subscribed (a shared feed adopting the database's numbers at start): a
        client must never see ``seq`` go down.
        """
        if seq is not None and seq < self._seq and self._subscribers:
            raise ValueError(f"seq {seq} is below {self._seq} and clients are subscribed")
        self._seq = self._seq if seq is None else seq
        self._floor = self._seq
        self._ring.clear()
        self._pending.clear()  # the snapshots every subscriber gets next cover them
        for subscriber in list(self._subscribers):
            subscriber._resync()

    def subscribe(self, since: int | None = None, *, agency: str | None = None) -> Subscription:
        """A new subscriber, starting with a snapshot, or with what it missed after ``since``.

        The replay is used when every message after ``since`` is still in the ring and
        they fit in the queue; otherwise (and for ``since=None``) a fresh snapshot comes
        first. ``agency`` limits it to that agency's messages and snapshot entries.
        """
        subscription = Subscription(self, agency, self._limits)
        subscription._start_with(self._missed(since, agency))
        self._subscribers[subscription] = None
        return subscription

    def _missed(self, since: int | None, agency: str | None) -> list[_Frame] | None:
        """The frames after ``since`` for ``agency``, or None when a snapshot is needed."""
        if since is None or since > self._seq or since < self._floor:
            return None
        # Newest first, stopping at ``since``: seqs increase but may have gaps.
        missed = itertools.takewhile(lambda f: f.seq > since, reversed(self._ring))
        frames = [f for f in missed if agency is None or f.agency == agency]
        # A backlog longer than the queue would overflow at once: a snapshot is cheaper.
        if len(frames) > self._limits.queue_size:
            return None
        frames.reverse()
        return frames

    def _snapshot(self, agency: str | None) -> _Frame:
        sections = self._snapshot_provider() if self._snapshot_provider else {}
        if agency is not None:
            sections = scope_snapshot(sections, agency)
        body: dict[str, Any] = {"type": "snapshot", "seq": self._seq}
        body.update((k, v) for k, v in sections.items() if k not in body)
        return _Frame(self._seq, agency, body, _encode(body))

    def _forget(self, subscription: Subscription) -> None:
        self._subscribers.pop(subscription, None)
