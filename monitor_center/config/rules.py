"""Typed alert rules: the keys every rule has plus the keys of its `kind`.

A rule is one model per kind, chosen by ``kind``. A key that the kind does not
take is an error naming the key and the keys it does take (a ``threshold`` left
on an ``endpoint_down`` rule would otherwise be silently ignored). As a shorthand,
``series: ID`` (or ``endpoint: ID`` for endpoint rules) means ``match: {id: ID}``.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from alerts.rules.common import ENDPOINT_KINDS, Direction, SubjectType
from alerts.rules.common import RuleKind as RuleKind
from alerts.rules.common import Severity as Severity
from monitor_center.config.durations import (
    Duration,
    PositiveDuration,
    format_duration,
    parse_duration,
)
from monitor_center.config.fields import ConfigModel, Slug, check_slug, is_timezone
from monitor_center.config.models import DEFAULT_TIMEZONE

_GLOB_CHARS = frozenset("*?[")
_GLOB = re.compile(r"[a-z0-9_\-*?\[\]!]{1,64}")


def is_glob(value: str) -> bool:
    """True when an id pattern has shell wildcards (``hanoi-*``) rather than being an id."""
    return bool(_GLOB_CHARS & set(value))


def rule_subject(kind: str, subject: object = None) -> SubjectType:
    """What a rule of `kind` watches; `subject` is a ``no_data`` rule's own choice."""
    if kind == "no_data":
        return "endpoint" if subject == "endpoint" else "series"
    return "endpoint" if kind in ENDPOINT_KINDS else "series"


def check_id_pattern(value: str) -> str:
    """An exact id, or a glob over ids (``*``, ``?``, ``[...]``)."""
    if not is_glob(value):
        return check_slug(value)
    if not _GLOB.fullmatch(value):
        raise ValueError(f"expected an id or a glob like 'hanoi-*', got {value!r}")
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


IdPattern = Annotated[str, AfterValidator(check_id_pattern)]
AgencyKind = Literal["platform", "ministry", "province"]
_ONE_OR_MANY = BeforeValidator(_one_or_many)
_MS_EXPECTED = "expected a duration like 800ms or 1.5s, or a number of milliseconds"


def _milliseconds(value: object) -> timedelta:
    # A bare number is milliseconds here, unlike other durations: latency is
    # always talked about in ms, and "threshold: 800" meaning 800 s would be absurd.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{_MS_EXPECTED}, got {value!r}")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, int | float):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{_MS_EXPECTED} greater than zero, got {value!r}")
        return timedelta(milliseconds=value)
    try:
        parsed = parse_duration(value)
    except ValueError:
        raise ValueError(f"{_MS_EXPECTED}, got {value!r}") from None
    if parsed <= timedelta(0):
        raise ValueError(f"{_MS_EXPECTED} greater than zero, got {value!r}")
    return parsed


Milliseconds = Annotated[
    timedelta,
    BeforeValidator(_milliseconds),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]


class RuleMatch(ConfigModel):
    """Which subjects a rule applies to; each given key must match, none means all.

    Every key takes one value or a list: ``id`` exact ids or globs, ``agency``
    agency ids, ``agency_kind`` platform, ministry or province.
    """

    id: Annotated[list[IdPattern], _ONE_OR_MANY] = Field(default_factory=list)
    agency: Annotated[list[Slug], _ONE_OR_MANY] = Field(default_factory=list)
    agency_kind: Annotated[list[AgencyKind], _ONE_OR_MANY] = Field(default_factory=list)


def _located(loc: tuple[str | int, ...], value: Any, message: str) -> InitErrorDetails:
    return {"type": "value_error", "loc": loc, "input": value, "ctx": {"error": message}}


def _raise_at(title: str, loc: tuple[str | int, ...], value: Any, message: str) -> None:
    # pydantic keeps the locations of a ValidationError raised inside a validator:
    # the operator is shown the line of the offending key, not of the whole rule.
    raise ValidationError.from_exception_data(title, [_located(loc, value, message)])


class _RuleBase(ConfigModel):
    """Keys every rule has."""

    id: Slug
    kind: RuleKind
    severity: Severity = "warning"
    match: RuleMatch = RuleMatch()
    for_: Duration = Field(default=timedelta(0), alias="for")
    """How long the condition must hold before the alert fires (0: at once)."""

    @property
    def subject_type(self) -> SubjectType:
        """What the rule watches: endpoints or series."""
        return rule_subject(self.kind, getattr(self, "subject", None))

    @classmethod
    def allowed_keys(cls) -> list[str]:
        """The keys a rule of this kind takes, as written in YAML."""
        return [field.alias or name for name, field in cls.model_fields.items()]

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        shorthand = rule_subject(str(data.get("kind")), data.get("subject"))
        allowed = [*cls.allowed_keys(), shorthand]
        errors = [
            _located((key,), value, _unknown_key(key, data.get("kind"), allowed))
            for key, value in data.items()
            if key not in allowed
        ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return _expand_shorthand(cls.__name__, data, shorthand)


def _unknown_key(key: object, kind: object, allowed: list[str]) -> str:
    message = f"unknown key {key!r} for a {kind} rule"
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{message}{hint} (expected one of {', '.join(sorted(allowed))})"


def _expand_shorthand(title: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """``series: ID`` → ``match: {id: ID}``, checked here so errors point at `key`."""
    if key not in data:
        return data
    ids = _one_or_many(data[key])
    problem = None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        problem = f"expected a {key} id or a list of them"
    elif isinstance(data.get("match"), dict) and "id" in data["match"]:
        problem = f"give the ids either in {key!r} or in 'match.id', not both"
    else:
        try:
            ids = [check_id_pattern(i) for i in ids]
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        _raise_at(title, (key,), data[key], problem)
    rest = {k: v for k, v in data.items() if k != key}
    match = data.get("match")
    rest["match"] = {**match, "id": ids} if isinstance(match, dict) else {"id": ids}
    return rest


class EndpointDownRule(_RuleBase):
    """``failures`` consecutive failed probes fire; ``recoveries`` good ones resolve."""

    kind: Literal["endpoint_down"]
    failures: int = Field(default=3, ge=1)
    recoveries: int = Field(default=1, ge=1)


class LatencyRule(_RuleBase):
    """The ``percentile`` of probe latency over ``window`` above ``threshold``."""

    kind: Literal["latency"]
    threshold: Milliseconds
    percentile: float = Field(default=95.0, gt=0, le=100)
    window: PositiveDuration = timedelta(minutes=5)
    min_samples: int = Field(default=3, ge=1)


def _percent_between(value: float, *, top_included: bool, example: str) -> float:
    if not (0 < value <= 100 if top_included else 0 < value < 100):
        upper = "100 included" if top_included else "100 excluded"
        raise ValueError(f"expected a percentage above 0 ({upper}), e.g. {example}; got {value:g}")
    return value


class BurnWindowConfig(ConfigModel):
    """A burn-rate window pair: both windows must burn faster than ``factor``."""

    long: PositiveDuration
    short: PositiveDuration
    factor: float = Field(gt=0)

    @model_validator(mode="after")
    def _short_within_long(self) -> BurnWindowConfig:
        if self.short >= self.long:
            raise ValueError(
                f"'short' ({format_duration(self.short)}) must be shorter than"
                f" 'long' ({format_duration(self.long)})"
            )
        return self


class AvailabilityRule(_RuleBase):
    """An SLO ``objective`` (percent) with multi-window burn-rate alerts."""

    kind: Literal["availability"]
    objective: float
    windows: list[BurnWindowConfig] | None = None
    """None: fast burn (1h and 5m at 14.4x) and slow burn (6h and 30m at 6x)."""

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        return _percent_between(value, top_included=False, example="99.5")

    @model_validator(mode="after")
    def _reachable(self) -> AvailabilityRule:
        budget = 1 - self.objective / 100
        for index, window in enumerate(self.windows or []):
            if window.factor * budget >= 1:
                message = (
                    f"a burn factor of {window.factor:g} with a {self.objective:g} % objective"
                    " would need more than 100 % failed probes; this window can never fire"
                )
                _raise_at(type(self).__name__, ("windows", index, "factor"), window.factor, message)
        return self


class VolumeDropRule(_RuleBase):
    """Volume over ``window`` below ``drop_percent`` % of the same window ``baseline`` ago."""

    kind: Literal["volume_drop"]
    drop_percent: float
    window: PositiveDuration = timedelta(hours=1)
    baseline: PositiveDuration = timedelta(days=7)
    min_volume: float = Field(default=0.0, ge=0)

    @field_validator("drop_percent")
    @classmethod
    def _drop_percent(cls, value: float) -> float:
        return _percent_between(value, top_included=True, example="50")

    @model_validator(mode="after")
    def _windows_apart(self) -> VolumeDropRule:
        if self.baseline < self.window:
            message = (
                f"'baseline' ({format_duration(self.baseline)}) must be at least"
                f" 'window' ({format_duration(self.window)}) so the two windows do not overlap"
            )
            _raise_at(type(self).__name__, ("baseline",), format_duration(self.baseline), message)
        return self


class KpiMinRule(_RuleBase):
    """The latest value misses ``target`` (default: each series' own target)."""

    kind: Literal["kpi_min"]
    target: float | None = None
    direction: Direction | None = None
    """None: each series' ``target_direction``."""


def _deadline(value: Any, info: ValidationInfo) -> Any:
    # A date is the start of that day in the center's time zone, like maintenance times.
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        value = date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, datetime) and value.tzinfo is None:
        context = info.context if isinstance(info.context, dict) else {}
        name = context.get("timezone")
        zone = name if isinstance(name, str) and is_timezone(name) else DEFAULT_TIMEZONE
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value


class KpiForecastRule(_RuleBase):
    """The least-squares trend over ``window`` projects a miss at ``deadline``."""

    kind: Literal["kpi_forecast"]
    deadline: Annotated[datetime, BeforeValidator(_deadline)]
    """A date means the start of that day in the center's time zone."""
    window: PositiveDuration = timedelta(days=30)
    min_samples: int = Field(default=5, ge=2)
    target: float | None = None
    direction: Direction | None = None


class NoDataRule(_RuleBase):
    """No fresh sample (or probe) for ``intervals`` collection intervals."""

    kind: Literal["no_data"]
    intervals: int = Field(default=3, ge=1)
    subject: SubjectType = "series"


Rule = Annotated[
    EndpointDownRule
    | LatencyRule
    | AvailabilityRule
    | VolumeDropRule
    | KpiMinRule
    | KpiForecastRule
    | NoDataRule,
    Field(discriminator="kind"),
]
"""One alert rule; ``kind`` picks the model."""
