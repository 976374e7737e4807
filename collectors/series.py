"""Series collectors: read one number from a JSON endpoint or a Prometheus exposition.

A read always returns a :class:`SeriesReading`: a finite value, or an error with a
stable ``reason`` (a metrics label) and a short message for operators. Nothing that
fails is ever reported as 0: a login page instead of JSON, a path that matches nothing,
``"N/A"``, NaN, a 503, a timeout or a body past the cap are all errors.

Like the HTTP prober, one ``asyncio.timeout`` bounds the whole read (connect, redirects,
body) and the decompressed body is counted against a cap while it arrives. Unlike it,
connections are pooled: a series read measures a figure, not what a new visitor gets.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

import aiohttp

from collectors._http_body import BodyTooLargeError, read_capped
from collectors._http_errors import describe_error
from collectors._series_values import ValueFailure, json_value, prometheus_value
from core.clock import Clock

__all__ = [
    "ERROR_REASONS",
    "JsonQuery",
    "PrometheusQuery",
    "ReadError",
    "SeriesReader",
    "SeriesReading",
    "SeriesSpec",
]

ERROR_REASONS = (
    "timeout",
    "connection",
    "http_status",
    "body_too_large",
    "not_json",
    "not_exposition",
    "path_missing",
    "ambiguous",
    "not_numeric",
    "not_finite",
    "metric_missing",
)
"""Every ``ReadError.reason``: a bounded set, so it can label a Prometheus counter."""

# Parsing a big exposition takes a while; off the event loop past this size.
_PARSE_IN_THREAD_BYTES = 64 * 1024
_MAX_REDIRECTS = 5
_NO_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_read=None, sock_connect=None)
_ACCEPT_JSON = "application/json"
_ACCEPT_EXPOSITION = "text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5,*/*;q=0.1"


@dataclass(frozen=True, slots=True)
class JsonQuery:
    """GET ``url`` and read the number at ``path`` (``jsonpath_ng.ext`` syntax)."""

    url: str
    path: str


@dataclass(frozen=True, slots=True)
class PrometheusQuery:
    """GET ``url`` (an exposition) and sum the ``metric`` samples matching ``labels``.

    ``labels`` are (name, value) pairs: tuples keep the spec hashable and comparable.
    """

    url: str
    metric: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, url: str, metric: str, labels: Mapping[str, str]) -> PrometheusQuery:
        """Build one from a label mapping (pairs sorted, so equal mappings compare equal)."""
        return cls(url, metric, tuple(sorted(labels.items())))


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """One series to read: ``timeout`` is a hard deadline in seconds for the whole read."""

    series_id: str
    query: JsonQuery | PrometheusQuery
    timeout: float
    max_body_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReadError:
    """Why a read gave no value: ``reason`` from :data:`ERROR_REASONS`, and a message."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class SeriesReading:
    """The outcome of reading a series once, at ``time`` (the start of the read, UTC).

    Exactly one of ``value`` (finite) and ``error`` is set.
    """

    series_id: str
    time: datetime
    value: float | None = None
    error: ReadError | None = None


class _Failed(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.error = ReadError(reason, message)


class SeriesReader:
    """Reads :class:`SeriesSpec` values; an async context manager, or call :meth:`close`.

    ``limit`` caps concurrent connections (reads queue for a slot within their deadline).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "monitor-center/0.1",
        limit: int = 64,
    ) -> None:
        self._clock = clock
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._user_agent = user_agent
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session; later reads fail with reason ``connection``."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def read(self, spec: SeriesSpec) -> SeriesReading:
        """Read ``spec`` once. Never raises, except ``asyncio.CancelledError``."""
        started_at = self._clock.now()
        try:
            async with asyncio.timeout(spec.timeout):
                value = await self._fetch(spec)
        except _Failed as failed:
            error = failed.error
        except TimeoutError:
            error = ReadError("timeout", "timeout")
        except aiohttp.TooManyRedirects:
            error = ReadError("http_status", "too many redirects")
        except Exception as exc:  # a reader reports failures, it does not raise them
            error = ReadError("connection", describe_error(exc))
        else:
            return SeriesReading(spec.series_id, started_at, value=value)
        return SeriesReading(spec.series_id, started_at, error=error)

    def _open_session(self) -> aiohttp.ClientSession:
        # Created lazily because aiohttp wants a running event loop.
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl_context)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=_NO_TIMEOUT,  # the deadline is read()'s asyncio.timeout alone
                headers={"User-Agent": self._user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def _fetch(self, spec: SeriesSpec) -> float:
        if self._closed:
            raise _Failed("connection", "reader closed")
        query = spec.query
        accept = _ACCEPT_JSON if isinstance(query, JsonQuery) else _ACCEPT_EXPOSITION
        session = self._open_session()
        async with session.get(
            query.url, headers={"Accept": accept}, max_redirects=_MAX_REDIRECTS
        ) as resp:
            if not 200 <= resp.status < 300:
                raise _Failed("http_status", f"status {resp.status}")
            try:
                body = await read_capped(resp, spec.max_body_bytes, keep=True)
            except BodyTooLargeError as exc:
                raise _Failed("body_too_large", str(exc)) from exc
            content_type = resp.headers.get("Content-Type")
        if len(body) > _PARSE_IN_THREAD_BYTES:
            return await asyncio.to_thread(_extract, query, body, content_type)
        return _extract(query, body, content_type)


def _extract(query: JsonQuery | PrometheusQuery, body: bytes, content_type: str | None) -> float:
    try:
        if isinstance(query, JsonQuery):
            return json_value(body, content_type, query.path)
        return prometheus_value(body, content_type, query.metric, dict(query.labels))
    except ValueFailure as failure:
        raise _Failed(failure.reason, failure.message) from failure
