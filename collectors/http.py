"""HTTP(S) uptime probes on aiohttp.

A probe fetches one URL (following redirects itself), checks the status and optionally
the body, and always returns a :class:`~core.results.ProbeResult`: every failure, from a
refused connection to a gzip bomb, becomes ``ok=False`` with a short ``reason``.

Design notes:

* One :class:`aiohttp.ClientSession` is shared by all probes of a prober, so there is no
  per-probe session or connector setup; but its connector has ``force_close=True``, so
  every request opens a fresh connection. An uptime probe must measure what a new
  visitor gets (DNS, TCP, TLS), and a pooled connection would hide a dead listener.
* A single ``asyncio.timeout`` wraps the whole probe (DNS, connect, TLS, redirects,
  body) and aiohttp's own timeouts are disabled, so the deadline is exact and there is
  exactly one place that decides about time.
* The body is read in bounded pieces after decompression and counted against
  ``max_body_bytes``; see :mod:`collectors._http_body`.
* Phase timing comes from aiohttp tracing plus a stdlib TLS hook; see
  :mod:`collectors._http_timing`.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from time import perf_counter
from types import TracebackType
from typing import Self

import aiohttp
from yarl import URL

from collectors._http_body import (
    BodyTooLargeError,
    JsonPathError,
    check_body,
    compile_json_path,
    read_capped,
)
from collectors._http_errors import describe_error, shorten
from collectors._http_timing import Hop, current_hop, install_handshake_timer, make_trace_config
from core.clock import Clock
from core.results import ProbeResult

# compile_json_path lets configuration code reject a bad json_path before probing.
__all__ = ["HttpProber", "JsonPathError", "ProbeSpec", "compile_json_path"]

_SCHEMES = frozenset({"http", "https"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SECONDS_PER_DAY = 86400.0
# The probe deadline is enforced by asyncio.timeout; aiohttp must not add its own.
_NO_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_read=None, sock_connect=None)


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """What to probe and what counts as "up".

    ``timeout`` is a hard deadline in seconds for the whole probe, redirects and body
    included. ``json_path`` (``jsonpath_ng.ext`` syntax) must match something in the
    JSON body; with ``equals`` set, its first match must also equal ``equals`` as a
    JSON value. ``max_body_bytes`` caps the decompressed body; a larger body is a
    failure even when no body assertion is configured.
    """

    endpoint_id: str
    url: str
    timeout: float
    expect_status: frozenset[int] = frozenset(range(200, 300))
    body_contains: str | None = None
    json_path: str | None = None
    equals: object | None = None
    max_body_bytes: int = 1024 * 1024
    max_redirects: int = 10


@dataclass(slots=True)
class _Attempt:
    """What one probe learned so far; survives a timeout so partial timing is reported."""

    hop: Hop = field(default_factory=Hop)
    status: int | None = None


class HttpProber:
    """Runs :class:`ProbeSpec` probes; use as an async context manager or call :meth:`close`.

    Probes may run concurrently from many tasks; they share one session and DNS cache
    but never a connection. ``ssl_context`` verifies servers (default: the system trust
    store); the prober installs a handshake-timing ``sslobject_class`` on it, which is
    harmless for any other use of the context. ``limit`` caps concurrent connections,
    i.e. concurrent probes (0: no cap); waiting for a slot counts against the deadline.

    In a result, ``latency.total`` covers the whole probe, while ``connect``, ``tls``
    and ``first_byte`` describe the last request made (the end of a redirect chain, or
    the request that failed); a phase that did not complete is ``None``.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "monitor-center/0.1",
        limit: int = 0,
    ) -> None:
        self._clock = clock
        self._ssl_context = ssl_context or ssl.create_default_context()
        install_handshake_timer(self._ssl_context)
        self._user_agent = user_agent
        self._limit = limit
        self._trace_config = make_trace_config()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        if not self._closed:
            self._open_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the shared session; later probes fail with reason ``prober closed``."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def probe(self, spec: ProbeSpec) -> ProbeResult:
        """Probe ``spec`` once. Never raises, except ``asyncio.CancelledError``."""
        started_at = self._clock.now()
        started = perf_counter()
        attempt = _Attempt()
        try:
            async with asyncio.timeout(spec.timeout):
                reason = await self._follow_redirects(spec, attempt)
        except TimeoutError:
            reason = "timeout"
        except Exception as exc:  # a probe reports failures, it does not raise them
            reason = describe_error(exc)
        total = perf_counter() - started
        expiry = attempt.hop.cert_not_after
        return ProbeResult(
            endpoint_id=spec.endpoint_id,
            time=started_at,
            ok=reason is None,
            latency=attempt.hop.latency(total),
            status=attempt.status,
            reason=reason,
            cert_expiry_days=(
                None if expiry is None else (expiry - started_at.timestamp()) / _SECONDS_PER_DAY
            ),
        )

    def _open_session(self) -> aiohttp.ClientSession:
        # Created lazily because aiohttp wants a running event loop.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                force_close=True,  # a fresh connection per probe, never a pooled one
                limit=self._limit,
                ssl=self._ssl_context,
                use_dns_cache=True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=_NO_TIMEOUT,
                headers={"User-Agent": self._user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),  # no state may leak between probes
                trace_configs=[self._trace_config],
            )
        return self._session

    async def _follow_redirects(self, spec: ProbeSpec, attempt: _Attempt) -> str | None:
        """Request ``spec.url`` and follow redirects; the failure reason or ``None``."""
        if self._closed:
            return "prober closed"
        session = self._open_session()
        url = URL(spec.url)
        if url.scheme and url.scheme not in _SCHEMES:
            return shorten(f"unsupported scheme {url.scheme!r}")
        if not url.scheme or not url.host:
            return shorten(f"invalid url {spec.url!r}")
        seen = {url}
        redirects = 0
        while True:
            attempt.hop = Hop()
            outcome = await self._exchange(session, url, spec, attempt)
            if not isinstance(outcome, URL):
                return outcome
            if outcome.scheme not in _SCHEMES:
                return shorten(f"redirect to unsupported scheme {outcome.scheme!r}")
            if outcome in seen:
                return "redirect loop"
            if redirects >= spec.max_redirects:
                return "too many redirects"
            redirects += 1
            seen.add(outcome)
            url = outcome

    async def _exchange(
        self, session: aiohttp.ClientSession, url: URL, spec: ProbeSpec, attempt: _Attempt
    ) -> str | URL | None:
        """One request: a failure reason, the URL to redirect to, or ``None`` if all is well."""
        hop = attempt.hop
        token = current_hop.set(hop)  # lets the TLS hook find this hop
        try:
            async with session.get(url, allow_redirects=False, trace_request_ctx=hop) as resp:
                hop.headers_received = perf_counter()
                attempt.status = resp.status
                if resp.status in _REDIRECT_STATUSES and resp.status not in spec.expect_status:
                    location = resp.headers.get("Location")
                    if location:
                        return _resolve_location(url, location)
                if resp.status not in spec.expect_status:
                    return f"status {resp.status}"
                return await _check_response(resp, spec)
        finally:
            current_hop.reset(token)


def _resolve_location(current: URL, location: str) -> str | URL:
    """The absolute redirect target, resolved against ``current``, or a failure reason."""
    try:
        return current.join(URL(location)).with_fragment(None)
    except ValueError:
        return shorten(f"invalid redirect location {location!r}")


async def _check_response(resp: aiohttp.ClientResponse, spec: ProbeSpec) -> str | None:
    """Read the body within the cap and apply the body assertions of ``spec``."""
    keep = spec.body_contains is not None or spec.json_path is not None
    try:
        raw = await read_capped(resp, spec.max_body_bytes, keep=keep)
    except BodyTooLargeError as exc:
        return str(exc)
    if not keep:
        return None
    # Bodies are judged as UTF-8; undecodable bytes become U+FFFD instead of an error.
    text = raw.decode("utf-8", errors="replace")
    return check_body(
        text, contains=spec.body_contains, json_path=spec.json_path, equals=spec.equals
    )
