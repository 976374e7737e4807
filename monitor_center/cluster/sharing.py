"""Probe results shared between the members of a cluster, through PostgreSQL NOTIFY.

The process that probes an endpoint stores the result (its own writer) and announces it
on the cluster's results channel; every other member hears it and records it in its own
endpoint states (what its API and wall show) and, on the leader, in the alert engine,
without storing it again. Results travel in batches, each notification under
PostgreSQL's 8000-byte payload limit, as compact JSON: ``{"m": sender, "r": [rows]}``,
one row per result with its time in integer microseconds (exact, unlike a float).

Delivery is best effort, like the notifications themselves: a listener that drops loses
what was announced meanwhile (the results are stored all the same, and the next result of
each endpoint brings its state back); it reconnects with back-off. A process alone in its
cluster announces nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence

import psycopg

from core.results import ProbeResult, result_from_row, result_to_row
from monitor_center.cluster.tasks import cancel
from monitor_center.db.pool import redact_url
from monitor_center.db.repositories.cluster import ClusterRepository

log = logging.getLogger(__name__)

NOTIFY_MAX_BYTES = 7_900
"""PostgreSQL refuses a notification payload of 8000 bytes or more (with a margin)."""
_ERRORS = (psycopg.Error, OSError, TimeoutError)


def result_row(result: ProbeResult) -> str:
    """One result as a compact JSON array (``core.results.result_to_row``)."""
    return json.dumps(
        result_to_row(result), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def pack(sender: str, rows: Sequence[str], limit: int = NOTIFY_MAX_BYTES) -> Iterator[str]:
    """Payloads of as many rows each as fit under ``limit`` bytes; a row too big for a
    payload of its own is left out (it is stored all the same)."""
    head = f'{{"m":{json.dumps(sender, ensure_ascii=False)},"r":'
    budget = limit - len(head.encode()) - 3  # '[' and ']}'
    batch: list[str] = []
    size = 0
    for row in rows:
        n = len(row.encode()) + 1  # the comma
        if n > budget:
            log.warning("cluster: a result too big to share was left out (%d bytes)", n)
            continue
        if size + n > budget:
            yield f"{head}[{','.join(batch)}]}}"
            batch, size = [], 0
        batch.append(row)
        size += n
    if batch:
        yield f"{head}[{','.join(batch)}]}}"


def unpack(payload: str) -> tuple[str, list[ProbeResult]]:
    """``(sender, results)`` of a payload; ``ValueError`` when it is malformed."""
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("r"), list):
        raise ValueError("not a results payload")
    return str(data.get("m")), [result_from_row(row) for row in data["r"]]


class ResultShare:
    """Announces this process's results and hands the others' to ``on_remote``."""

    def __init__(
        self,
        repo: ClusterRepository,
        database_url: str,
        member_id: str,
        on_remote: Callable[[ProbeResult], None],
        *,
        flush_interval: float = 0.1,
        retry_max: float = 5.0,
    ) -> None:
        self._repo = repo
        self._url = database_url
        self._me = member_id
        self._on_remote = on_remote
        self._flush_interval = flush_interval
        self._retry_max = retry_max
        self._channel = ""
        self._pending: list[str] = []
        self._listening = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """True while the listener is attached to the current channel."""
        return self._listening.is_set()

    def submit(self, result: ProbeResult) -> None:
        """Queue one of this process's results for the other members (never blocks)."""
        self._pending.append(result_row(result))

    async def start(self, channel: str, timeout: float = 5.0) -> None:
        """Listen on ``channel`` (waiting up to ``timeout`` for it) and start announcing."""
        await self.switch(channel, timeout)
        self._flusher = asyncio.create_task(self._flush_forever(), name="cluster-results-out")

    async def switch(self, channel: str, timeout: float = 5.0) -> None:
        """Listen on another channel (a config reload changed the cluster)."""
        if channel == self._channel and self._listener is not None:
            return
        await self._stop_listening()
        self._channel = channel
        self._listener = asyncio.create_task(self._listen_forever(), name="cluster-results-in")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._listening.wait()

    async def stop(self) -> None:
        """Announce what is queued, then stop."""
        if self._flusher is not None:
            await cancel(self._flusher)
            self._flusher = None
            await self._flush()
        await self._stop_listening()

    async def _stop_listening(self) -> None:
        await cancel(self._listener)
        self._listener = None
        self._listening.clear()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            await self._repo.notify(self._channel, list(pack(self._me, rows)))
        except _ERRORS as exc:
            # The results are stored by the writer; only the other members' view misses them.
            log.warning("cluster: %d result(s) not shared (%s)", len(rows), exc)

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen()
            except _ERRORS as exc:
                if self._listening.is_set():
                    delay = 0.1
                log.warning(
                    "cluster: results listener on %s lost (%s); reconnecting in %.1fs",
                    redact_url(self._url),
                    str(exc).strip().splitlines()[0] if str(exc).strip() else "timeout",
                    delay,
                )
            except Exception:  # a bug must not silence the results for good: log, go on
                log.exception("cluster: results listener failed; reconnecting in %.1fs", delay)
            finally:
                self._listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=5
        ) as conn:
            await conn.execute(f'LISTEN "{self._channel}"')
            self._listening.set()
            async for note in conn.notifies():
                self._receive(note.payload)

    def _receive(self, payload: str) -> None:
        try:
            sender, results = unpack(payload)
        except ValueError as exc:
            log.warning("cluster: ignoring a malformed results notification: %s", exc)
            return
        if sender == self._me:
            return
        for result in results:
            try:
                self._on_remote(result)
            except Exception:  # one bad consumer must not stop the listener
                log.exception("cluster: a shared result could not be recorded")
