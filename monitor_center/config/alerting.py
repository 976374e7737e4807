"""Models for alerting: rules, notification channels, routes, maintenance windows."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor_center.config.durations import Duration, PositiveDuration
from monitor_center.config.fields import ConfigModel, HttpURL, Slug, is_timezone
from monitor_center.config.models import DEFAULT_TIMEZONE
from monitor_center.config.rules import Rule as Rule
from monitor_center.config.rules import RuleKind as RuleKind
from monitor_center.config.rules import Severity as Severity

ChannelKind = Literal["webhook", "email", "telegram", "slack", "alertmanager"]

# Extra keys are allowed on channels; any whose name looks secret is
# wrapped in SecretStr so it never shows up in a repr, a log line or the API.
_SECRET_NAME = re.compile(r"secret|password|passwd|token|api_?key|credential", re.IGNORECASE)


def _hide_secret_extras(model: type[ConfigModel], data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    return {
        key: SecretStr(value)
        if key not in model.model_fields
        and isinstance(key, str)
        and isinstance(value, str)
        and _SECRET_NAME.search(key)
        else value
        for key, value in data.items()
    }


_REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    "webhook": ("url",),
    "slack": ("url",),
    "alertmanager": ("url",),
    "email": ("to", "smtp_host"),
    "telegram": ("bot_token", "chat_id"),
}


class Channel(ConfigModel):
    """Where notifications go. Which keys are required depends on `kind`."""

    # chat_id is often written as a number (-1001234); keep it as text.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    id: Slug
    kind: ChannelKind
    url: HttpURL | None = None
    """webhook/slack: the target URL; alertmanager: the Alertmanager base URL."""
    secret: SecretStr | None = None
    """webhook: optional shared secret used to sign the body."""
    to: list[str] = Field(default_factory=list)
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    bot_token: SecretStr | None = None
    chat_id: str | None = None
    token: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _secrets(cls, data: Any) -> Any:
        return _hide_secret_extras(cls, data)

    @field_validator("to", mode="before")
    @classmethod
    def _single_address(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address.strip("@"):
                raise ValueError(f"expected an e-mail address, got {address!r}")
        return value

    @model_validator(mode="after")
    def _required_for_kind(self) -> Channel:
        missing = [name for name in _REQUIRED_BY_KIND[self.kind] if not getattr(self, name)]
        if missing:
            needed = " and ".join(repr(name) for name in _REQUIRED_BY_KIND[self.kind])
            article = "an" if self.kind[0] in "aeiou" else "a"
            raise ValueError(
                f"{article} {self.kind} channel needs {needed} (missing: {', '.join(missing)})"
            )
        return self


class RouteMatch(ConfigModel):
    """Alert selector of a route; every given key must match."""

    severity: Severity | None = None
    agency: Slug | None = None
    agency_kind: Literal["platform", "ministry", "province"] | None = None
    kind: RuleKind | None = None
    """The rule's kind (endpoint_down, latency...)."""
    rule: Slug | None = None

    def matches(
        self,
        *,
        severity: str,
        agency: str | None,
        kind: str,
        rule: str,
        agency_kind: str | None = None,
    ) -> bool:
        """True when an alert with these attributes is selected by this match."""
        wanted = {
            "severity": severity,
            "agency": agency,
            "agency_kind": agency_kind,
            "kind": kind,
            "rule": rule,
        }
        return all(
            getattr(self, key) is None or getattr(self, key) == value
            for key, value in wanted.items()
        )


class Route(ConfigModel):
    """Send matching alerts to channels; optionally escalate if not acknowledged."""

    match: RouteMatch | None = None
    """None (the default) takes every alert."""
    channels: list[Slug]
    group_wait: Duration | None = None
    repeat_interval: PositiveDuration | None = None
    escalate_after: PositiveDuration | None = None
    escalate_to: list[Slug] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _at_least_one(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a route needs at least one channel")
        return value

    @model_validator(mode="after")
    def _escalation_pair(self) -> Route:
        # One without the other is always a half-finished edit.
        if self.escalate_after is not None and not self.escalate_to:
            raise ValueError("'escalate_after' needs 'escalate_to' (the channels to escalate to)")
        if self.escalate_to and self.escalate_after is None:
            raise ValueError("'escalate_to' needs 'escalate_after' (how long to wait)")
        return self


class Maintenance(ConfigModel):
    """A planned window during which alerts for an agency or endpoint are muted.

    Times without an offset are read in the center's time zone.
    """

    id: Slug | None = None
    agency: Slug | None = None
    endpoint: Slug | None = None
    start: datetime
    end: datetime
    comment: str | None = None
    recurring: Literal["daily", "weekly"] | None = None
    """Repeat the window every day or every week from `start` (e.g. Sundays 01:00-03:00)."""

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime, info: ValidationInfo) -> datetime:
        if value.tzinfo is not None:
            return value
        context = info.context if isinstance(info.context, dict) else {}
        name = context.get("timezone")
        zone = name if isinstance(name, str) and is_timezone(name) else DEFAULT_TIMEZONE
        return value.replace(tzinfo=ZoneInfo(zone))

    @model_validator(mode="after")
    def _window(self) -> Maintenance:
        if self.agency is None and self.endpoint is None:
            raise ValueError("a maintenance window needs an 'agency' or an 'endpoint'")
        if self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self
