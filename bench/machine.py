"""What the figures were measured on: date, CPU model, cores, memory, load."""

from __future__ import annotations

import contextlib
import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return None


def describe(now: datetime | None = None) -> str:
    """One line: when and on what, with the load average (others' work shows there)."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    memory = _memory_gib()
    ram = f"{memory:.1f} GiB RAM" if memory is not None else "RAM unknown"
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{when}; {_cpu_model()}, {os.cpu_count()} cores, {ram};"
        f" {platform.system()} {platform.release()}; load average {load} (1/5/15 min)"
    )
