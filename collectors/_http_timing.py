"""Phase timing and certificate capture for one HTTP request ("hop") of a probe.

aiohttp opens the TCP connection and performs the TLS handshake inside one call
(``loop.create_connection(ssl=...)``), and its tracing API only reports the start and
the end of that whole step. To split TCP from TLS without touching aiohttp internals we
time the handshake from the ``ssl`` side instead: ``SSLContext.sslobject_class`` is a
documented stdlib hook that decides which class ``wrap_bio`` instantiates, and asyncio
drives every TLS handshake through ``SSLObject.do_handshake()``. Its first call sends
the ClientHello right after the TCP connect has completed (so it marks TCP end / TLS
start), and its first successful return marks the end of the handshake. At that moment
the verified peer certificate is also available, which gives us the expiry date even
when aiohttp has already released the connection.

The SSL object has no link to the probe that caused it, so the probe publishes its
current hop in a ``ContextVar``: asyncio runs the transport callbacks in a copy of the
context of the task that opened the connection, i.e. the probe's task. When the hook is
not active (an event loop that does not use ``wrap_bio``, or a caller's context with a
custom ``sslobject_class``) nothing breaks: ``tls`` is simply ``None`` and ``connect``
then covers TCP and TLS together.
"""

from __future__ import annotations

import ssl
from contextvars import ContextVar
from dataclasses import dataclass
from time import perf_counter
from types import SimpleNamespace
from typing import Any

import aiohttp

from core.results import Latency


@dataclass(slots=True)
class Hop:
    """Timestamps (``perf_counter``) and facts collected while one request runs."""

    create_start: float | None = None
    create_end: float | None = None
    tls_start: float | None = None
    tls_end: float | None = None
    request_sent: float | None = None
    headers_received: float | None = None
    cert_not_after: float | None = None  # POSIX timestamp of the peer certificate's notAfter

    def latency(self, total: float) -> Latency:
        """Turn the collected timestamps into a :class:`Latency` with ``total``."""
        connect = tls = first_byte = None
        if self.create_start is not None:
            # With TLS timing available, TCP ends where the handshake starts.
            tcp_end = self.tls_start if self.tls_start is not None else self.create_end
            if tcp_end is not None:
                connect = tcp_end - self.create_start
        if self.tls_start is not None and self.tls_end is not None:
            tls = self.tls_end - self.tls_start
        if self.request_sent is not None and self.headers_received is not None:
            first_byte = self.headers_received - self.request_sent
        return Latency(total=total, connect=connect, tls=tls, first_byte=first_byte)


current_hop: ContextVar[Hop | None] = ContextVar("collectors_http_current_hop", default=None)


class TimedSSLObject(ssl.SSLObject):
    """An ``SSLObject`` that reports handshake timing and the peer certificate to the hop."""

    _hop_bound = False
    _hop: Hop | None = None

    def do_handshake(self) -> None:
        """Run one handshake step, stamping the start and the successful end on the hop."""
        if not self._hop_bound:
            # First step: we are in the probe task's context, right after TCP connect.
            self._hop_bound = True
            self._hop = current_hop.get()
            if self._hop is not None:
                self._hop.tls_start = perf_counter()
        super().do_handshake()  # raises SSLWantReadError until the handshake is done
        hop = self._hop
        if hop is not None:
            hop.tls_end = perf_counter()
            hop.cert_not_after = _not_after(self)
            self._hop = None  # the hop must not outlive the probe through the transport


def _not_after(sslobj: ssl.SSLObject) -> float | None:
    """The peer certificate's notAfter as a POSIX timestamp, if it can be read."""
    try:
        cert = sslobj.getpeercert()
        not_after = cert.get("notAfter") if cert else None
        if isinstance(not_after, str):
            return float(ssl.cert_time_to_seconds(not_after))
        # An unverified context yields an empty dict; fall back to the raw certificate.
        der = sslobj.getpeercert(binary_form=True)
        return _der_not_after(der) if der else None
    except (ValueError, ssl.SSLError):
        return None


def _der_not_after(der: bytes) -> float | None:
    """Parse notAfter from DER with ``cryptography`` when it is installed (optional)."""
    try:
        from cryptography import x509  # optional: only needed for unverified contexts
    except ImportError:
        return None
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
    except ValueError:
        return None


def install_handshake_timer(context: ssl.SSLContext) -> None:
    """Make ``context`` create :class:`TimedSSLObject` objects, unless that would override
    a custom ``sslobject_class`` the caller installed (TLS timing is then unavailable)."""
    if context.sslobject_class is ssl.SSLObject:
        context.sslobject_class = TimedSSLObject


def _hop_of(ctx: SimpleNamespace) -> Hop | None:
    hop = getattr(ctx, "trace_request_ctx", None)
    return hop if isinstance(hop, Hop) else None


async def _on_create_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop_of(ctx)) is not None:
        hop.create_start = perf_counter()


async def _on_create_end(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop_of(ctx)) is not None:
        hop.create_end = perf_counter()


async def _on_headers_sent(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (hop := _hop_of(ctx)) is not None:
        hop.request_sent = perf_counter()


def make_trace_config() -> aiohttp.TraceConfig:
    """A trace config that stamps connection and request phases on the hop passed as
    ``trace_request_ctx``. Only the three signals we need are subscribed, to keep the
    per-request cost low."""
    config = aiohttp.TraceConfig()
    config.on_connection_create_start.append(_on_create_start)
    config.on_connection_create_end.append(_on_create_end)
    config.on_request_headers_sent.append(_on_headers_sent)
    return config
