"""Resident memory of process trees, read from ``/proc`` (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def _status_kb(pid: int, key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of ``/proc/PID/status`` in KiB (0 once the process is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren...)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    return [pid, *descendants(pid)]


def rss_mb(pids: list[int]) -> float:
    """The processes' resident memory now, summed, in MB (MiB)."""
    return sum(_status_kb(pid, "VmRSS") for pid in pids) / 1024


def each(pids: list[int]) -> str:
    """Each process's name and RSS now, e.g. ``prometheus 1,102 MB, nginx 9 MB``."""
    parts = []
    for pid in pids:
        with contextlib.suppress(OSError):
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            parts.append(f"{name} {_status_kb(pid, 'VmRSS') / 1024:,.0f} MB")
    return ", ".join(parts)


def peak_mb(pids: list[int]) -> float:
    """The sum of each process's own peak resident memory (``VmHWM``), in MB (MiB).

    The kernel's peak catches what a sampler would miss between two samples; for
    several processes the sum bounds their joint peak from above.
    """
    return sum(_status_kb(pid, "VmHWM") for pid in pids) / 1024


@dataclass
class Sampler:
    """Samples ``pids()``'s summed RSS every ``period`` seconds while it runs."""

    pids: Callable[[], list[int]]
    period: float = 0.5
    samples: list[tuple[float, float]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sample(self) -> None:
        while True:
            self.samples.append((time.monotonic(), rss_mb(self.pids())))
            await asyncio.sleep(self.period)  # a sampling period, not a wait for a state

    def median_since(self, since: float) -> float | None:
        """The median sample taken at or after ``since`` (None: none yet)."""
        values = [mb for t, mb in self.samples if t >= since]
        return statistics.median(values) if values else None

    def highest(self) -> float | None:
        return max((mb for _, mb in self.samples), default=None)
