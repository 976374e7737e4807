"""Turn whatever a probe raised into a short, human-readable reason.

Reasons end up on an operator's wall and in alerts, so they are short, lower-case, free
of tracebacks and bounded in length, and the same failure always gives the same text.
"""

from __future__ import annotations

import errno
import ssl

import aiohttp
from aiohttp import http_exceptions

from core.redaction import redact_credentials

MAX_REASON = 200

# OpenSSL X509_V_ERR_* codes that operators care about, with the wording we show.
# Anything else shows OpenSSL's own verify message, e.g. "unable to get local issuer
# certificate" for a server signed by an authority we do not trust.
_VERIFY_REASONS = {
    10: "certificate expired",
    18: "self-signed certificate",
    19: "self-signed certificate",  # a self-signed root in the chain that we do not trust
    62: "hostname mismatch",
    64: "hostname mismatch",  # the IP address variant
}

_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EPIPE: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.ETIMEDOUT: "timeout",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
}


def shorten(text: str, limit: int = MAX_REASON) -> str:
    """Collapse whitespace, hide credentials in URLs (before cutting, so that a cut cannot
    leave half a password), and cut ``text`` to ``limit`` characters (with an ellipsis).
    Every free-text reason goes through here."""
    text = redact_credentials(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: BaseException) -> str:
    """The reason for a probe that failed with ``exc`` (never raises)."""
    return shorten(_describe(exc))


def _describe(exc: BaseException) -> str:
    # Order matters: the aiohttp classes form a hierarchy rooted in OSError.
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return _describe_tls(exc.certificate_error)
    if isinstance(exc, aiohttp.ClientSSLError):
        return _describe_tls(exc.os_error)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"dns: {_os_message(exc.os_error).lower()}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _describe_os(exc.os_error)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return _describe_payload(exc)
    if isinstance(exc, aiohttp.ClientResponseError):
        # aiohttp's parser messages end with a caret line pointing into the input.
        return "invalid response: " + " ".join(str(exc.message).split()).removesuffix(" ^")
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid url: {exc.url}"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return _describe_tls(exc)
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError):
        return _describe_os(exc)
    return f"error: {type(exc).__name__}: {exc}"


def _describe_tls(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        known = _VERIFY_REASONS.get(exc.verify_code)
        return f"tls: {known or exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        # e.g. WRONG_VERSION_NUMBER -> "wrong version number"
        return f"tls: {exc.reason.lower().replace('_', ' ')}"
    if isinstance(exc, OSError):
        return f"tls: {_os_message(exc)}"
    return f"tls: {exc}"


def _describe_os(exc: OSError) -> str:
    if exc.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[exc.errno]
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return _os_message(exc).lower() or type(exc).__name__


def _os_message(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _describe_payload(exc: aiohttp.ClientPayloadError) -> str:
    # aiohttp attaches the parser's error as the cause; the message is a fallback.
    cause = exc.__cause__
    truncated = (http_exceptions.ContentLengthError, http_exceptions.TransferEncodingError)
    if isinstance(cause, truncated) or "not completed" in str(exc):
        return "body incomplete (connection closed early)"
    return f"invalid body: {cause if cause is not None else exc}"
