"""The small shared core: types that collectors, alerts and the service all speak.

Nothing here imports from ``collectors``, ``alerts`` or ``monitor_center``.
"""

from core.clock import Clock, FrozenClock, SystemClock
from core.results import Latency, ProbeResult
from core.samples import Sample, increase, rate

__all__ = [
    "Clock",
    "FrozenClock",
    "Latency",
    "ProbeResult",
    "Sample",
    "SystemClock",
    "increase",
    "rate",
]
