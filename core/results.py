"""What a probe produces: one immutable result per attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def result_to_row(result: ProbeResult) -> list[object]:
    """``result`` as a compact JSON-able array (time in microseconds since the epoch):
    the one serialization of a result, for the outage spool and for sharing results
    between processes."""
    lat = result.latency
    return [
        result.endpoint_id,
        (result.time - _EPOCH) // _US,
        1 if result.ok else 0,
        result.status,
        result.reason,
        lat.total,
        lat.connect,
        lat.tls,
        lat.first_byte,
        result.cert_expiry_days,
    ]


def result_from_row(row: object) -> ProbeResult:
    """The result a ``result_to_row`` array stands for; ``ValueError`` when malformed."""
    if not isinstance(row, list | tuple) or len(row) != 10:
        raise ValueError(f"not a result row: {row!r:.80}")
    endpoint_id, us, ok, status, reason, total, connect, tls, first_byte, cert = row
    try:
        return ProbeResult(
            endpoint_id=str(endpoint_id),
            time=_EPOCH + int(str(us)) * _US,
            ok=bool(ok),
            latency=Latency(float(str(total)), _opt(connect), _opt(tls), _opt(first_byte)),
            status=None if status is None else int(str(status)),
            reason=None if reason is None else str(reason),
            cert_expiry_days=_opt(cert),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a result row: {row!r:.80}") from exc


def _opt(value: object) -> float | None:
    return None if value is None else float(str(value))
