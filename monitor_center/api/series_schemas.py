"""Request and response models of the series routes (see the README's API section)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SampleIn(BaseModel):
    """One pushed sample: an instant with its UTC offset, and a number."""

    model_config = ConfigDict(extra="forbid")

    time: AwareDatetime = Field(
        description="ISO 8601 with an offset, e.g. 2024-05-01T08:00:00+07:00"
    )
    # Strict: "12" (text) and true are refused. NaN and infinities pass the parser so the
    # route can name the sample (samples[i]) in its 422 answer.
    value: Annotated[float, Field(strict=True, description="a finite number")]


class SamplesIn(BaseModel):
    """A batch of samples for one series, in any order."""

    model_config = ConfigDict(extra="forbid")

    samples: list[SampleIn]


class PushOut(BaseModel):
    series: str
    received: int = Field(description="samples in the request")
    inserted: int = Field(description="samples that were new")
    duplicates: int = Field(description="samples whose (series, time) was already stored")


class LatestOut(BaseModel):
    time: datetime
    value: float


class SeriesErrorOut(BaseModel):
    time: datetime = Field(description="when the failed read started")
    reason: str = Field(description="timeout, not_json, path_missing, not_numeric, not_finite, ...")
    message: str = Field(description="e.g. 'expected JSON, got text/html'")


class SeriesOut(BaseModel):
    id: str
    agency: str
    kind: Literal["counter", "gauge"]
    unit: str
    interval_seconds: float
    source: Literal["json", "prometheus", "push"] = Field(
        description="how samples arrive: polled from a json or prometheus source, or pushed"
    )
    target: float | None
    target_direction: Literal["min", "max"]
    latest: LatestOut | None = Field(description="the newest stored sample")
    rate_per_minute: float | None = Field(
        description="counters: increase per minute over the last 5 minutes (resets handled"
        " as Prometheus rate()); null for gauges or with fewer than two samples"
    )
    last_error: SeriesErrorOut | None = Field(
        description="the most recent failed read (compare its time with latest.time)"
    )


class PointOut(BaseModel):
    time: datetime = Field(description="start of the bucket")
    samples: int
    last: float
    increase: float | None = Field(
        description="counters: increase within the bucket, resets handled; null for gauges"
    )
    avg: float | None = Field(description="gauges; null for counters")
    min: float | None = Field(description="gauges; null for counters")
    max: float | None = Field(description="gauges; null for counters")


class PointsOut(BaseModel):
    id: str
    kind: Literal["counter", "gauge"]
    unit: str
    start: datetime
    end: datetime
    step_seconds: float
    points: list[PointOut] = Field(description="non-empty buckets, oldest first")
