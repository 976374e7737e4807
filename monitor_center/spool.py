"""The on-disk spool: write batches kept in files while the database cannot take them.

A writer keeps a bounded number of items in memory; past that bound, while the database
is away, the oldest go here instead, and when it is back they are written first (oldest
first), then memory, so the order is kept. Nothing here knows about databases: the
writer peeks a batch, stores it and commits it; a segment file is deleted only after
every item in it was committed.

**Layout.** ``{spool_dir}/{database name}/{kind}/slot-{n}/{seq:08d}.jsonl``. The
database name keeps a spool from being replayed into another database. A process takes
the first free *slot* (an exclusive ``flock`` on ``slot-{n}/lock``) when it first needs
one, so several processes on one machine (``serve`` and workers) never write into the
same files; the kernel releases the lock when a process dies, and the next process to
start adopts every free slot that holds segments and replays it.

**Format** (stable, no pickle): JSON lines. The first line of a segment is a header,
``{"format": "monitor-center-spool", "version": 1, "kind": "results"}``; each following
line is one item as the kind's ``Codec`` encodes it. Lines are appended whole and flushed
to the operating system at once (a killed process loses nothing it spooled); a segment
is fsynced when it is sealed or the spool closes. A line torn by a crash (no final
newline) or one that does not decode is skipped and logged, never fatal; a file with
another header is renamed ``*.unreadable`` and left for an operator.

**Cap.** Past ``max_bytes`` the oldest segments are deleted, their items counted as
dropped (``on_drop``) and logged as errors: the only way items are ever lost.

**Replays.** A crash between a batch's commit and its segment's deletion replays those
items at the next start; the tables' unique keys (``ON CONFLICT DO NOTHING``) absorb them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge
from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger(__name__)

T = TypeVar("T")

FORMAT = "monitor-center-spool"
VERSION = 1
SUFFIX = ".jsonl"
MAX_SEGMENT_BYTES = 1024 * 1024
"""A segment is read back whole: 1 MiB holds ~5,600 results (~0.1 s to decode)."""


class SpoolFormatError(ValueError):
    """A file that is not a segment of this format, version and kind."""


@dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    """How one kind of item becomes a JSON value and back (explicit fields, no pickle)."""

    kind: str
    encode: Callable[[T], Any]
    decode: Callable[[Any], T]


@dataclass(frozen=True, slots=True)
class SegmentRead(Generic[T]):
    """The items of a segment, and how many lines were skipped (torn or unreadable)."""

    items: list[T]
    skipped: int


def header(kind: str) -> bytes:
    """A segment's first line."""
    meta = {"format": FORMAT, "version": VERSION, "kind": kind}
    return json.dumps(meta, separators=(",", ":")).encode() + b"\n"


def encode_items(codec: Codec[T], items: Sequence[T]) -> bytes:
    """``items`` as JSON lines, each ending with a newline."""
    return b"".join(
        json.dumps(codec.encode(item), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        + b"\n"
        for item in items
    )


def decode_segment(data: bytes, codec: Codec[T], *, name: str = "segment") -> SegmentRead[T]:
    """The items in a segment's bytes; raises ``SpoolFormatError`` for a foreign header.

    A last line without its newline was torn by a crash and is skipped, like any line
    that does not decode; a segment whose header itself was torn holds no items.
    """
    lines = data.split(b"\n")
    torn = lines.pop()  # what follows the last newline: empty unless a write was cut
    if not lines:
        return SegmentRead([], 0)
    _check_header(lines[0], codec.kind, name)
    items: list[T] = []
    skipped = 0
    for number, line in enumerate(lines[1:], start=2):
        try:
            items.append(codec.decode(json.loads(line)))
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            skipped += 1
            log.warning("spool %s line %d unreadable, skipped: %s", name, number, exc)
    if torn:
        skipped += 1
        log.warning("spool %s: last line torn (a crash while writing it), skipped", name)
    return SegmentRead(items, skipped)


def _check_header(line: bytes, kind: str, name: str) -> None:
    try:
        meta = json.loads(line)
    except ValueError:
        meta = None
    expected = {"format": FORMAT, "version": VERSION, "kind": kind}
    if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expected.items()):
        raise SpoolFormatError(f"{name}: not a {FORMAT} v{VERSION} segment of {kind!r}")


def database_dir(spool_dir: Path, database_url: str) -> Path:
    """Where the spool of one database lives: ``{spool_dir}/{database name}``."""
    name = str(conninfo_to_dict(database_url).get("dbname") or "postgres")
    return spool_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "db")


class SpoolMetrics:
    """Spool counters, labelled by kind (``results``, ``series``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.spooled = Counter(
            "monitor_center_spooled_items",
            "Items written to the on-disk spool (database away and the memory bound passed).",
            ["kind"],
            registry=registry,
        )
        self.replayed = Counter(
            "monitor_center_spool_replayed_items",
            "Items read back from the spool and stored in the database.",
            ["kind"],
            registry=registry,
        )
        self.bytes = Gauge(
            "monitor_center_spool_bytes",
            "Bytes in the on-disk spool.",
            ["kind"],
            registry=registry,
        )


class _Slot:
    """A directory this process holds an exclusive ``flock`` on."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path) -> _Slot | None:
        """The slot at ``path`` (created if needed), or ``None`` when another holds it."""
        lock = path / "lock"
        try:
            path.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The last holder may have removed the file after we opened it: then our lock
            # is on an orphan and someone else may lock the new file.
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return cls(path, fd)
        except OSError:
            pass
        os.close(fd)
        return None

    def segments(self) -> list[Path]:
        return sorted(self.path.glob("*" + SUFFIX))

    def release(self) -> None:
        """Unlock; an empty slot is removed (under the lock, see ``acquire``)."""
        if not self.segments():
            with contextlib.suppress(OSError):
                (self.path / "lock").unlink()
                self.path.rmdir()
        os.close(self._fd)


@dataclass(slots=True)
class _Segment:
    path: Path
    slot: _Slot
    items: int
    size: int


class Spool(Generic[T]):
    """Segments of one kind of item for one database; see the module docstring.

    ``peek`` gives the oldest items without removing them; ``commit`` removes them once
    stored. Not thread-safe: one writer task on the event loop uses it.
    """

    def __init__(
        self,
        directory: Path,
        codec: Codec[T],
        metrics: SpoolMetrics,
        *,
        max_bytes: int,
        on_drop: Callable[[int], None] = lambda n: None,
    ) -> None:
        """``directory`` is the database's (``database_dir``); the kind is a folder in it."""
        self.codec = codec
        self.max_bytes = max_bytes
        self._dir = directory / codec.kind
        self._segment_bytes = min(MAX_SEGMENT_BYTES, max(max_bytes // 16, 4096))
        self._on_drop = on_drop
        self._spooled = metrics.spooled.labels(codec.kind)
        self._replayed = metrics.replayed.labels(codec.kind)
        self._bytes_gauge = metrics.bytes.labels(codec.kind)
        self._segments: deque[_Segment] = deque()  # oldest first; the tail may be open
        self._tail: IO[bytes] | None = None
        self._own: _Slot | None = None
        self._adopted: list[_Slot] = []
        self._head: deque[T] = deque()  # the oldest segment's uncommitted items, once read
        self._head_read = False
        self._generation = 0  # bumped when the head segment goes (see ``commit``)
        self._items = 0
        self._bytes = 0

    def __len__(self) -> int:
        """Items on disk not yet committed."""
        return self._items

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self._bytes

    def open(self) -> int:
        """Adopt every free slot left with segments (a previous run); how many items."""
        slots = sorted(self._dir.glob("slot-*"), key=_slot_number) if self._dir.is_dir() else []
        for path in slots:
            slot = _Slot.acquire(path)
            if slot is None:
                continue  # a live process's slot
            segments = slot.segments()
            if not segments:
                slot.release()
                continue
            self._adopted.append(slot)
            for segment in segments:
                data = segment.read_bytes()
                # Lines minus the header; a torn or bad line is found when it is read back.
                items = max(data.count(b"\n") - 1, 0)
                self._segments.append(_Segment(segment, slot, items, len(data)))
                self._items += items
                self._bytes += len(data)
        self._bytes_gauge.set(self._bytes)
        if self._items:
            log.warning(
                "spool: %d %s left by an earlier run in %s; writing them first",
                self._items,
                self.codec.kind,
                self._dir,
            )
        return self._items

    def append(self, items: Sequence[T]) -> None:
        """Write ``items`` after everything spooled; raises ``OSError`` if the disk refuses."""
        if not items:
            return
        data = encode_items(self.codec, items)
        tail = self._open_tail()
        tail.write(data)
        tail.flush()  # into the operating system: a killed process loses nothing
        segment = self._segments[-1]
        segment.items += len(items)
        segment.size += len(data)
        self._items += len(items)
        self._bytes += len(data)
        self._spooled.inc(len(items))
        if segment.size >= self._segment_bytes:
            self._seal()
        self._enforce_cap()
        self._bytes_gauge.set(self._bytes)

    def peek(self, n: int) -> tuple[list[T], int]:
        """Up to ``n`` of the oldest items, and the token ``commit`` needs."""
        while self._segments and not self._head:
            if self._head_read:  # the head segment is fully committed
                self._remove_head()
                continue
            self._read_head()
        self._bytes_gauge.set(self._bytes)
        return [self._head[i] for i in range(min(n, len(self._head)))], self._generation

    async def load(self) -> None:
        """Read the oldest segment in a worker thread, so that decoding it (~0.1 s for a
        full segment) does not hold up the event loop; ``peek`` then finds it read."""
        if self._head_read or not self._segments:
            return
        segment = self._segments[0]
        self._seal_if_tail(segment)
        read = await asyncio.to_thread(_read_file, segment.path, self.codec)
        # The cap may have dropped it meanwhile, or a ``peek`` read it.
        if self._segments and self._segments[0] is segment and not self._head_read:
            self._take(segment, read)

    def commit(self, token: int, n: int) -> None:
        """The ``n`` items ``peek`` gave are stored: forget them, delete a finished segment.

        A no-op when the head segment was dropped by the cap meanwhile (``token``).
        """
        if token != self._generation:
            return
        for _ in range(min(n, len(self._head))):
            self._head.popleft()
        self._items -= n
        self._replayed.inc(n)
        if not self._head:
            self._remove_head()
        self._bytes_gauge.set(self._bytes)

    def close(self) -> None:
        """Seal the tail (fsync) and give up the slots; empty ones are removed."""
        self._seal()
        for slot in [*self._adopted, *([self._own] if self._own else [])]:
            slot.release()
        self._adopted, self._own = [], None
        self._segments.clear()
        self._head.clear()
        self._head_read = False
        self._items = self._bytes = 0

    # -- internals -----------------------------------------------------------------------

    def _open_tail(self) -> IO[bytes]:
        if self._tail is not None:
            return self._tail
        slot = self._own_slot()
        existing = slot.segments()
        seq = _segment_number(existing[-1]) + 1 if existing else 1
        path = slot.path / f"{seq:08d}{SUFFIX}"
        self._tail = path.open("ab")
        first = header(self.codec.kind)
        self._tail.write(first)
        self._segments.append(_Segment(path, slot, 0, len(first)))
        self._bytes += len(first)
        return self._tail

    def _own_slot(self) -> _Slot:
        if self._own is None:
            held = {s.path for s in self._adopted}
            n = 0
            while self._own is None:
                path = self._dir / f"slot-{n}"
                if path not in held:
                    self._own = _Slot.acquire(path)
                n += 1
                if n > 1000:
                    raise OSError(f"spool: no free slot in {self._dir}")
        return self._own

    def _seal(self) -> None:
        if self._tail is not None:
            self._tail.flush()
            os.fsync(self._tail.fileno())
            self._tail.close()
            self._tail = None

    def _read_head(self) -> None:
        segment = self._segments[0]
        self._seal_if_tail(segment)
        self._take(segment, _read_file(segment.path, self.codec))

    def _seal_if_tail(self, segment: _Segment) -> None:
        if self._tail is not None and segment is self._segments[-1]:
            self._seal()  # replaying the segment still being written: new items go on

    def _take(self, segment: _Segment, read: SegmentRead[T] | Exception) -> None:
        if isinstance(read, Exception):
            log.error("spool: %s; set aside, not replayed", read)
            with contextlib.suppress(OSError):
                segment.path.rename(segment.path.with_suffix(".unreadable"))
            self._forget_head(dropped=segment.items)
            return
        self._items -= segment.items - len(read.items)
        segment.items = len(read.items)
        self._head = deque(read.items)
        self._head_read = True
        if not self._head:  # nothing readable in it: no reason to keep the file
            self._remove_head()

    def _remove_head(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._segments[0].path.unlink()
        self._forget_head(dropped=0)

    def _forget_head(self, *, dropped: int) -> None:
        segment = self._segments.popleft()
        self._bytes -= segment.size
        self._items -= dropped
        self._head.clear()
        self._head_read = False
        self._generation += 1
        if segment.slot is not self._own and all(
            s.slot is not segment.slot for s in self._segments
        ):
            self._adopted.remove(segment.slot)  # an adopted slot is done: let it go
            segment.slot.release()

    def _enforce_cap(self) -> None:
        while self._bytes > self.max_bytes and self._segments:
            segment = self._segments[0]
            if segment is self._segments[-1]:
                self._seal()
            lost = len(self._head) if self._head_read else segment.items
            with contextlib.suppress(FileNotFoundError):
                segment.path.unlink()
            self._forget_head(dropped=lost)
            self._on_drop(lost)
            log.error(
                "spool: over its cap of %d bytes: dropped the oldest %d %s (%s)",
                self.max_bytes,
                lost,
                self.codec.kind,
                segment.path.name,
            )


def _read_file(path: Path, codec: Codec[T]) -> SegmentRead[T] | Exception:
    try:
        return decode_segment(path.read_bytes(), codec, name=str(path))
    except (SpoolFormatError, OSError) as exc:
        return exc


def _slot_number(path: Path) -> int:
    tail = path.name.removeprefix("slot-")
    return int(tail) if tail.isdigit() else 1 << 30


def _segment_number(path: Path) -> int:
    return int(path.stem) if path.stem.isdigit() else 0
