"""The small shared core: types that collectors, alerts and the service all speak.

Nothing here imports from ``collectors``, ``alerts`` or ``monitor_center``.
"""

from core.clock import Clock, FrozenClock, SystemClock
from core.results import Latency, ProbeResult

__all__ = ["Clock", "FrozenClock", "Latency", "ProbeResult", "SystemClock"]
