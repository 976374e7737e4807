"""``/api/v1/series``: the series with their latest values, bucketed points, and pushes.

Who may push to ``POST /series/{id}/samples``: a token scoped to the series' agency
(any role: an agency reports its own figures), or an unscoped token with the operator
role or above. A token scoped to another agency gets 403 (the series exists, it is just
not theirs); a viewer without a scope gets 403. Reads follow the other routes: viewer,
and an agency-scoped token sees its own agency's series only (404 for the others).

Pushes are rate-limited per API token (a token bucket: ``series_push_burst`` at once, then
``series_push_rate`` a second): past it, 429 with ``Retry-After``, checked after the
caller's rights and before the body is looked at. Reads are not limited.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Query, Request, status

from core.samples import Sample
from monitor_center.api.auth import Principal, require
from monitor_center.api.ratelimit import RateLimiter
from monitor_center.api.series_schemas import (
    LatestOut,
    PointOut,
    PointsOut,
    PushOut,
    SamplesIn,
    SeriesErrorOut,
    SeriesOut,
)
from monitor_center.config import Config, Series, parse_duration
from monitor_center.db.repositories.series import Bucket
from monitor_center.series.live import RATE_WINDOW, per_minute
from monitor_center.series.points import (
    MAX_POINTS,
    auto_step,
    bucket_count,
    grid_origin,
    smallest_step,
)
from monitor_center.series.runtime import SeriesRuntime

if TYPE_CHECKING:
    from monitor_center.api.app import AppContext

log = logging.getLogger(__name__)

Viewer = Annotated[Principal, Depends(require("viewer"))]
FUTURE_SLACK = timedelta(minutes=5)
# A pushed sample is about 60 bytes of JSON; refuse absurd bodies before parsing them.
_BYTES_PER_SAMPLE = 1024
_ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}


def _runtime(request: Request) -> SeriesRuntime:
    runtime = getattr(request.app.state, "series", None)
    if not isinstance(runtime, SeriesRuntime) or not runtime.started:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "series are not running")
    return runtime


Runtime = Annotated[SeriesRuntime, Depends(_runtime)]


def _config(request: Request) -> Config:
    ctx: AppContext = request.app.state.ctx
    return ctx.config


def _find(config: Config, series_id: str) -> Series:
    for series in config.series:
        if series.id == series_id:
            return series
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"no series '{series_id}'")


def _visible_series(series_id: str, request: Request, principal: Viewer) -> Series:
    series = _find(_config(request), series_id)
    if principal.agency is not None and principal.agency != series.agency:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no series '{series_id}'")
    return series


def _pushable_series(
    series_id: str, request: Request, principal: Viewer, runtime: Runtime
) -> Series:
    """The series the caller may push to (a dependency: runs before the body is parsed)."""
    series = _find(_config(request), series_id)
    if principal.agency is not None and principal.agency != series.agency:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"token '{principal.name}' is scoped to agency '{principal.agency}';"
            f" series '{series_id}' belongs to '{series.agency}'",
        )
    if principal.agency is None and _ROLE_RANK[principal.role] < _ROLE_RANK["operator"]:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "pushing samples needs the operator role or a token scoped to the series' agency",
        )
    _take_push_token(request, runtime, principal)
    limit = runtime.settings.series_push_max_samples
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit * _BYTES_PER_SAMPLE + 1024:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"request body too large for a batch of at most {limit} samples",
        )
    return series


@dataclass(frozen=True, slots=True)
class RateLimited:
    """The body of a 429 (under ``detail``): which limit, its figures and when to retry."""

    message: str
    limit: str
    rate_per_second: float
    burst: int
    retry_after_seconds: int


def _take_push_token(request: Request, runtime: SeriesRuntime, principal: Principal) -> None:
    """Take one push from the caller's token bucket, or refuse with 429 and Retry-After."""
    limiter = getattr(request.app.state, "push_limiter", None)
    if not isinstance(limiter, RateLimiter):  # one per app, made on the first push
        settings = runtime.settings
        limiter = RateLimiter(settings.series_push_rate, settings.series_push_burst, runtime.clock)
        request.app.state.push_limiter = limiter
    wait = limiter.take(principal.name)
    if wait <= 0:
        return
    retry_after = max(1, math.ceil(wait))  # Retry-After takes whole seconds
    body = RateLimited(
        message=f"token '{principal.name}' is over the push rate limit of"
        f" {limiter.rate:g} a second (burst {limiter.burst}); retry in {retry_after} s",
        limit="series_push_rate",
        rate_per_second=limiter.rate,
        burst=limiter.burst,
        retry_after_seconds=retry_after,
    )
    raise HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, asdict(body), headers={"Retry-After": str(retry_after)}
    )


def add_series_routes(app: FastAPI) -> None:
    """Register the series routes; each declares the role it needs."""
    _list_route(app)
    _points_route(app)
    _push_route(app)


def _list_route(app: FastAPI) -> None:
    @app.get("/api/v1/series", response_model=list[SeriesOut], tags=["series"])
    async def list_series(
        request: Request,
        principal: Viewer,
        runtime: Runtime,
        agency: Annotated[str | None, Query(description="only this agency's series")] = None,
    ) -> list[SeriesOut]:
        """Every series with its latest sample, counter rate and last read error."""
        chosen = [
            s
            for s in _config(request).series
            if (agency is None or s.agency == agency)
            and (principal.agency is None or s.agency == principal.agency)
        ]
        try:
            return await _describe(runtime, chosen)
        except psycopg.Error as exc:
            raise _storage_unavailable(exc) from exc


def _points_route(app: FastAPI) -> None:
    @app.get("/api/v1/series/{series_id}/points", response_model=PointsOut, tags=["series"])
    async def series_points(
        request: Request,
        series: Annotated[Series, Depends(_visible_series)],
        runtime: Runtime,
        start: Annotated[
            datetime | None, Query(description="ISO 8601; default end - 1 day")
        ] = None,
        end: Annotated[
            datetime | None, Query(description="ISO 8601, exclusive; default now")
        ] = None,
        step: Annotated[
            str | None, Query(description="bucket size: 5m, 1h, 1d, or seconds")
        ] = None,
    ) -> PointsOut:
        """Raw samples in ``[start, end)`` in ``step`` buckets: counters give the increase
        per bucket (resets handled), gauges avg/min/max/last. Empty buckets are left out."""
        end = _aware(end, "end") if end is not None else runtime.clock.now()
        start = _aware(start, "start") if start is not None else end - timedelta(days=1)
        size = _step(step, start, end, series.interval)
        origin = grid_origin(_config(request).center.zone)
        try:
            buckets = await runtime.repo.buckets(series.id, start, end, size, origin)
        except psycopg.Error as exc:
            raise _storage_unavailable(exc) from exc
        return PointsOut(
            id=series.id,
            kind=series.kind,
            unit=series.unit,
            start=start,
            end=end,
            step_seconds=size.total_seconds(),
            points=[_point(b, series.kind == "counter") for b in buckets],
        )


def _push_route(app: FastAPI) -> None:
    @app.post(
        "/api/v1/series/{series_id}/samples",
        response_model=PushOut,
        tags=["series"],
        responses={
            413: {"description": "more samples than the batch limit"},
            429: {"description": "over the token's push rate limit; see Retry-After"},
        },
    )
    async def push_samples(
        body: SamplesIn,
        series: Annotated[Series, Depends(_pushable_series)],
        runtime: Runtime,
    ) -> PushOut:
        """Store a batch of samples (idempotent: a (series, time) already stored keeps its
        first value; order does not matter). Answers how many samples were new."""
        limit = runtime.settings.series_push_max_samples
        if len(body.samples) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"{len(body.samples)} samples in one batch; the limit is {limit}",
            )
        samples = _checked(body, runtime.clock.now())
        try:
            inserted = await runtime.push(series.id, samples)
        except psycopg.Error as exc:
            raise _storage_unavailable(exc) from exc
        return PushOut(
            series=series.id,
            received=len(samples),
            inserted=inserted,
            duplicates=len(samples) - inserted,
        )


def _checked(body: SamplesIn, now: datetime) -> list[Sample]:
    """The samples, or 422 naming every sample that is not finite or is in the future."""
    problems: list[dict[str, Any]] = []
    latest = now + FUTURE_SLACK
    for i, s in enumerate(body.samples):
        if not math.isfinite(s.value):
            problems.append(
                _problem(i, "value", f"samples[{i}].value must be a finite number, got {s.value}")
            )
        if s.time > latest:
            problems.append(
                _problem(
                    i,
                    "time",
                    f"samples[{i}].time {s.time.isoformat()} is more than 5 minutes in the future",
                )
            )
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problems[:100])
    return [Sample(s.time, s.value) for s in body.samples]


def _problem(index: int, field: str, message: str) -> dict[str, Any]:
    # The shape of FastAPI's own validation errors, so clients parse one format.
    return {"loc": ["body", "samples", index, field], "msg": message, "type": "value_error"}


async def _describe(runtime: SeriesRuntime, chosen: list[Series]) -> list[SeriesOut]:
    ids = [s.id for s in chosen]
    counters = [s.id for s in chosen if s.kind == "counter"]
    latest = await runtime.repo.latest(ids)
    errors = await runtime.repo.last_errors(ids)
    recent = await runtime.repo.since(counters, runtime.clock.now() - RATE_WINDOW)
    out = []
    for s in chosen:
        last, error = latest.get(s.id), errors.get(s.id)
        out.append(
            SeriesOut(
                id=s.id,
                agency=s.agency,
                kind=s.kind,
                unit=s.unit,
                interval_seconds=s.interval.total_seconds(),
                source=s.source.type if s.source else "push",
                target=s.target,
                target_direction=s.target_direction,
                latest=None if last is None else LatestOut(time=last.time, value=last.value),
                rate_per_minute=per_minute(recent.get(s.id, [])) if s.kind == "counter" else None,
                last_error=None
                if error is None
                else SeriesErrorOut(time=error.time, reason=error.reason, message=error.message),
            )
        )
    return out


def _point(bucket: Bucket, counter: bool) -> PointOut:
    return PointOut(
        time=bucket.time,
        samples=bucket.samples,
        last=bucket.last,
        increase=bucket.increase if counter else None,
        avg=None if counter else bucket.avg,
        min=None if counter else bucket.min,
        max=None if counter else bucket.max,
    )


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name} needs a UTC offset, e.g. +07:00 or Z"
        )
    return value


def _step(text: str | None, start: datetime, end: datetime, interval: timedelta) -> timedelta:
    if end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end must be after start")
    if text is None:
        return auto_step(start, end, interval)
    try:
        step = parse_duration(text)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"step: {exc}") from exc
    if step < timedelta(seconds=1):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "step must be at least 1s")
    count = bucket_count(start, end, step)
    if count > MAX_POINTS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"step {text} gives {count} points, more than {MAX_POINTS}; ask for a step of"
            f" at least {int(smallest_step(start, end).total_seconds())}s",
        )
    return step


def _storage_unavailable(exc: psycopg.Error) -> HTTPException:
    log.warning("series storage unavailable: %s", exc)
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the database is unavailable")
