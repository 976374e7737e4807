"""Request and response models of the alerting API (alerts, silences, maintenance,
notifications)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from alerts.model import Alert, Event
from alerts.policy import MATCHER_KEYS
from monitor_center.db.repositories.silences import MaintenanceRow, SilenceRow

AlertStateName = Literal["pending", "firing", "resolved"]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refused here, not failed on (or retried) in storage.
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Client text that is stored: anything but NUL."""


class AlertFlags(BaseModel):
    acknowledged: bool
    silenced: bool
    inhibited: bool
    maintenance: bool
    flapping: bool


class EventOut(BaseModel):
    time: datetime
    event: str
    detail: dict[str, Any]


class AlertOut(BaseModel):
    id: int
    rule: str
    kind: str
    subject: str
    subject_type: str
    agency: str | None
    severity: str
    state: AlertStateName
    summary: str
    value: float | None
    started_at: datetime = Field(description="when the condition was first seen (pending)")
    fired_at: datetime | None
    resolved_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    ack_comment: str | None
    flags: AlertFlags
    events: list[EventOut] | None = None

    @classmethod
    def of(cls, alert: Alert, events: list[Event] | None = None) -> AlertOut:
        assert alert.id is not None
        return cls(
            id=alert.id,
            rule=alert.rule,
            kind=alert.rule_kind,
            subject=alert.subject,
            subject_type=alert.subject_type,
            agency=alert.agency,
            severity=alert.severity,
            state=alert.state,
            summary=alert.summary,
            value=alert.value,
            started_at=alert.started_at,
            fired_at=alert.fired_at,
            resolved_at=alert.resolved_at,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            ack_comment=alert.ack_comment,
            flags=AlertFlags(**alert.flags()),
            events=None
            if events is None
            else [EventOut(time=e.time, event=e.event, detail=e.detail) for e in events],
        )


class AckIn(BaseModel):
    comment: Text = Field(default="", max_length=2000)


class SilenceIn(BaseModel):
    """Silence alerts whose labels match every matcher (values are globs)."""

    matchers: dict[str, Text] = Field(
        description=f"label -> glob; labels: {', '.join(MATCHER_KEYS)}",
        examples=[{"agency": "nghe-an", "rule": "endpoint-down"}],
    )
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime | None = None
    duration: timedelta | None = Field(default=None, description="instead of ends_at")
    comment: Text = Field(default="", max_length=2000)

    @field_validator("matchers")
    @classmethod
    def _known_labels(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a silence needs at least one matcher (it would silence everything)")
        unknown = sorted(set(value) - set(MATCHER_KEYS))
        if unknown:
            raise ValueError(
                f"unknown matcher label(s) {', '.join(unknown)}; use {', '.join(MATCHER_KEYS)}"
            )
        if any(not v for v in value.values()):
            raise ValueError("matcher values must not be empty")
        return value

    @model_validator(mode="after")
    def _one_end(self) -> SilenceIn:
        if (self.ends_at is None) == (self.duration is None):
            raise ValueError("give exactly one of 'ends_at' and 'duration'")
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"'{name}' needs a time zone offset, e.g. 2026-11-25T10:00:00Z")
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("'duration' must be positive")
        return self


class SilenceOut(BaseModel):
    id: int
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    author: str
    comment: str
    created_at: datetime
    active: bool

    @classmethod
    def of(cls, row: SilenceRow, now: datetime) -> SilenceOut:
        return cls(
            id=row.id,
            matchers=row.matchers,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            author=row.author,
            comment=row.comment,
            created_at=row.created_at,
            active=row.starts_at <= now < row.ends_at,
        )


class MaintenanceIn(BaseModel):
    agency: str | None = None
    endpoint: str | None = None
    starts_at: datetime
    ends_at: datetime
    recurring: Literal["daily", "weekly"] | None = None
    name: Text | None = Field(default=None, max_length=200)
    comment: Text = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _window(self) -> MaintenanceIn:
        if (self.agency is None) == (self.endpoint is None):
            raise ValueError("give exactly one of 'agency' and 'endpoint'")
        for name in ("starts_at", "ends_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(
                    f"'{name}' needs a time zone offset, e.g. 2026-11-25T01:00:00+07:00"
                )
        if self.ends_at <= self.starts_at:
            raise ValueError("'ends_at' must be after 'starts_at'")
        return self


class MaintenanceOut(BaseModel):
    id: int
    name: str | None
    source: Literal["config", "api"]
    agency: str | None
    endpoint: str | None
    starts_at: datetime
    ends_at: datetime
    recurring: str | None
    author: str
    comment: str

    @classmethod
    def of(cls, row: MaintenanceRow) -> MaintenanceOut:
        return cls(
            id=row.id,
            name=row.name,
            source=row.source,  # type: ignore[arg-type]
            agency=row.agency_id,
            endpoint=row.endpoint_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            recurring=row.recurring,
            author=row.author,
            comment=row.comment,
        )


class AttemptOut(BaseModel):
    started_at: datetime
    duration_ms: float
    outcome: Literal["sent", "retry", "permanent", "expired"]
    status_code: int | None
    error: str | None


class NotificationOut(BaseModel):
    id: int
    alert_id: int
    channel_id: str
    status: Literal["firing", "resolved"]
    reason: str
    state: Literal["pending", "sent", "failed", "cancelled"]
    created_at: datetime
    due_at: datetime
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    attempt_log: list[AttemptOut]
