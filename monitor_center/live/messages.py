"""Builders for live-feed messages: plain, JSON-ready dicts (see the README's Live feed).

The hub encodes what it is given as JSON and refuses what JSON cannot carry, so the
builders turn datetimes into ISO 8601 strings and dataclasses into dicts here, at the
publisher, where a mistake is found at once rather than in some client's send loop.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from monitor_center.config import Agency
from monitor_center.state import EndpointView, State


def json_safe(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601, durations as seconds, dataclasses as dicts."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    raise TypeError(f"cannot put a {type(value).__name__} on the live feed")


def endpoint_entry(view: EndpointView) -> dict[str, Any]:
    """One endpoint as the snapshot lists it: ``id, agency, state, latency_ms, reason, at``.

    ``at`` is the start of the probe behind the state (null before the first result).
    """
    last = view.last_result
    return {
        "id": view.id,
        "agency": view.agency,
        "state": view.state,
        "latency_ms": None if last is None else round(last.latency.total * 1000, 1),
        "reason": None if last is None else last.reason,
        "at": json_safe(view.last_checked),
    }


def endpoint_message(view: EndpointView, previous: State | None = None) -> dict[str, Any]:
    """An ``endpoint`` delta: the endpoint's new state and the one it left."""
    return {"type": "endpoint", **endpoint_entry(view), "previous": previous}


def agency_entry(agency: Agency) -> dict[str, Any]:
    """One agency as the snapshot lists it: ``id, name, kind, depends_on``."""
    return {
        "id": agency.id,
        "name": agency.name,
        "kind": agency.kind,
        "depends_on": list(agency.depends_on),
    }


def alert_message(
    *,
    id: int | str,
    state: str,
    rule: str,
    subject: str,
    severity: str,
    agency: str | None,
    summary: str = "",
    started_at: datetime | str | None = None,
    acknowledged_by: str | None = None,
    flags: Mapping[str, Any] | object | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``alert`` delta (a transition of one alert), from plain values.

    ``flags`` is a mapping or a dataclass of booleans (``inhibited``, ``silenced``, ...);
    ``extra`` adds fields (e.g. ``resolved_at``), converted like the rest. An
    ``endpoint_down`` alert's ``subject`` is the endpoint id.
    """
    message: dict[str, Any] = {
        "type": "alert",
        "id": id,
        "state": state,
        "rule": rule,
        "subject": subject,
        "severity": severity,
        "agency": agency,
        "summary": summary,
        "started_at": started_at,
        "acknowledged_by": acknowledged_by,
        "flags": {} if flags is None else flags,
        **extra,
    }
    safe: dict[str, Any] = json_safe(message)
    return safe
