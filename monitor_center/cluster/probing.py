"""The per-probe gate: a probe starts only while this process holds the endpoint's lease.

The scheduler holds jobs for the owned endpoints only, but a job can fire in the instant
between losing a lease and its job being removed (a hand-over, a stalled event loop). The
gate wraps the prober the scheduler calls: it refuses such a probe, and it tells the
membership when the last probe of an endpoint being handed over starts. A refused probe
comes back as a ``NotProbed`` result, which ``results_only`` keeps from the result path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from collectors.http import ProbeSpec
from core.clock import Clock
from core.results import Latency, ProbeResult
from monitor_center.scheduling import Prober


@dataclass(frozen=True, slots=True)
class NotProbed(ProbeResult):
    """Stands for a probe the gate refused: nothing was sent, nothing is recorded.

    ``ok`` is True so the scheduler does not start fast re-probes for it.
    """


class Leases(Protocol):
    """What the gate asks (``Membership`` and ``ClusterNode`` answer)."""

    def owns(self, endpoint_id: str) -> bool: ...

    def probe_started(self, endpoint_id: str) -> None: ...


class LeasedProber:
    """A ``Prober`` that probes only endpoints whose lease ``leases`` holds right now."""

    def __init__(self, prober: Prober, leases: Leases, clock: Clock) -> None:
        self._prober = prober
        self._leases = leases
        self._clock = clock

    async def probe(self, spec: ProbeSpec) -> ProbeResult:
        endpoint_id = spec.endpoint_id
        if not self._leases.owns(endpoint_id):
            return NotProbed(endpoint_id, self._clock.now(), ok=True, latency=Latency(0.0))
        self._leases.probe_started(endpoint_id)
        return await self._prober.probe(spec)


def results_only(on_result: Callable[[ProbeResult], None]) -> Callable[[ProbeResult], None]:
    """``on_result`` for real results; refused probes stop here."""

    def take(result: ProbeResult) -> None:
        if not isinstance(result, NotProbed):
            on_result(result)

    return take
