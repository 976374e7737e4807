"""What a probe produces: one immutable result per attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Latency:
    """Phases of one probe in seconds; ``None`` when the phase did not happen.

    ``connect`` is the TCP connect (DNS included), ``tls`` the TLS handshake,
    ``first_byte`` request sent to the first response byte, ``total`` start to end.
    """

    total: float
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of probing one endpoint once.

    ``time`` is when the probe started (aware, UTC). ``reason`` says why a failed probe
    failed (``timeout``, ``connection refused``, ``status 503``, ``body mismatch``,
    ``tls: certificate expired`` ...) and is ``None`` for a success.
    """

    endpoint_id: str
    time: datetime
    ok: bool
    latency: Latency
    status: int | None = None
    reason: str | None = None
    cert_expiry_days: float | None = None
