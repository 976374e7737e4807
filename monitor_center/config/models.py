"""Models for the center itself, API access and the monitored fleet.

These models validate one object at a time. Checks that span objects
(references between agencies, endpoints, channels; duplicate ids) live in
`references.py`, so that every problem of a file can be reported at once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from monitor_center.config.durations import PositiveDuration, format_duration, parse_duration
from monitor_center.config.fields import (
    ConfigModel,
    HttpURL,
    JsonPathText,
    Origin,
    Slug,
    Token,
    is_timezone,
)

DEFAULT_CENTER_NAME = "National e-Government Monitoring Center"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_TIMEOUT = timedelta(seconds=10)
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


class StorageAlert(ConfigModel):
    """The center's alert about its own storage, sent straight through the channels'
    transports (no outbox row: the outbox is a table in the database that is away)."""

    channels: list[Slug] = Field(min_length=1)
    """Ids of `channels[]` entries."""
    after: PositiveDuration = timedelta(seconds=60)
    """How long writes must have been failing before the alert goes out."""


class CenterConfig(ConfigModel):
    """Identity and web-facing settings of the monitoring center."""

    name: str = DEFAULT_CENTER_NAME
    timezone: str = DEFAULT_TIMEZONE
    allowed_origins: list[Origin] = Field(default_factory=list)
    metrics_token: Token | None = None
    storage_alert: StorageAlert | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name like Asia/Ho_Chi_Minh"
            )
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The center's time zone as a tzinfo (reports, maintenance windows)."""
        return ZoneInfo(self.timezone)


class ApiToken(ConfigModel):
    """A bearer token for the HTTP API and the live websocket."""

    name: str = Field(min_length=1)
    token: Token
    role: Literal["viewer", "operator", "admin"]
    agency: Slug | None = None
    """When set, the token only sees this agency's endpoints, series and alerts."""


class AuthConfig(ConfigModel):
    """API access: names and token values are unique (checked across files)."""

    tokens: list[ApiToken] = Field(default_factory=list)


class Agency(ConfigModel):
    """A monitored organisation: the national platform, a ministry or a province."""

    id: Slug
    name: str = Field(min_length=1)
    kind: Literal["platform", "ministry", "province"]
    depends_on: list[Slug] = Field(default_factory=list)
    """Agencies whose outage explains ours (e.g. a province's LGSP on NGSP)."""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    name_en: str | None = None


class Expect(ConfigModel):
    """What a healthy probe response looks like."""

    status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list)
    """Accepted HTTP status codes; empty means any 2xx."""
    body_contains: str | None = None
    json_path: JsonPathText | None = None
    equals: Any | None = None
    """Expected value at `json_path`; `equals: null` means the value must be null."""

    @field_validator("equals")
    @classmethod
    def _equals_needs_json_path(cls, value: Any, info: ValidationInfo) -> Any:
        # Only when json_path is absent, not when it was given but invalid.
        if "json_path" in info.data and info.data["json_path"] is None:
            raise ValueError("'equals' needs a 'json_path' that selects the value to compare")
        return value

    @property
    def checks_value(self) -> bool:
        """True when the probe must compare the value at `json_path` to `equals`."""
        return "equals" in self.model_fields_set


_SUCCESS = frozenset(range(200, 300))


class Endpoint(ConfigModel):
    """An HTTP(S) URL probed every `interval`."""

    id: Slug
    agency: Slug
    url: HttpURL
    interval: PositiveDuration = timedelta(seconds=60)
    timeout: PositiveDuration = DEFAULT_TIMEOUT
    retry_interval: PositiveDuration | None = None
    """Faster re-probe period while an endpoint is failing (quicker detection)."""
    expect: Expect = Expect()
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _default_timeout_fits_interval(cls, data: Any) -> Any:
        # A 5s interval with the implicit 10s timeout is not the operator's
        # mistake: shrink the default instead of rejecting the endpoint.
        if isinstance(data, dict) and "timeout" not in data and "interval" in data:
            try:
                interval = parse_duration(data["interval"])
            except (ValueError, TypeError):
                return data  # the field validator reports the bad interval
            if timedelta(0) < interval < DEFAULT_TIMEOUT:
                return {**data, "timeout": interval}
        return data

    @field_validator("timeout")
    @classmethod
    def _timeout_within_interval(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        # `interval` is absent from info.data when it was invalid itself.
        interval = info.data.get("interval")
        if isinstance(interval, timedelta) and value > interval:
            raise ValueError(
                f"timeout ({format_duration(value)}) must not exceed "
                f"interval ({format_duration(interval)})"
            )
        return value

    @property
    def expected_statuses(self) -> frozenset[int]:
        """Status codes counted as success (any 2xx when none are listed)."""
        return frozenset(self.expect.status) if self.expect.status else _SUCCESS


class JsonSource(ConfigModel):
    """Read a number from a JSON document at `path` (a JSONPath expression)."""

    type: Literal["json"]
    url: HttpURL
    path: JsonPathText


class PrometheusSource(ConfigModel):
    """Read an instant value from a Prometheus-compatible HTTP API at `url`."""

    # YAML reads `code: 200` as an int; label values are always text.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    type: Literal["prometheus"]
    url: HttpURL
    metric: str
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str) -> str:
        if not _METRIC_NAME.fullmatch(value):
            raise ValueError(f"expected a Prometheus metric name, got {value!r}")
        return value


SeriesSource = Annotated[JsonSource | PrometheusSource, Field(discriminator="type")]


class Series(ConfigModel):
    """A KPI time series polled every `interval` (e.g. dossiers processed online)."""

    id: Slug
    agency: Slug
    kind: Literal["counter", "gauge"]
    unit: str = ""
    interval: PositiveDuration = timedelta(seconds=60)
    target: float | None = None
    target_direction: Literal["min", "max"] = "min"
    """`min`: the value should stay at or above `target`; `max`: at or below."""
    source: SeriesSource | None = None
    """Where the center polls the value; absent for a series its agency pushes itself
    (`POST /api/v1/series/{id}/samples`)."""
