"""Security headers for the wall page and its assets.

The Content-Security-Policy allows files from the server itself and nothing else: no
inline script or style (everything lives in ``static/``), no framing, no plugins, no
form posts, and DOM sinks such as ``innerHTML`` refused through Trusted Types (the page
builds its DOM with ``textContent``). ``connect-src`` names the feed's websocket origin
explicitly, because only CSP level 3 browsers count ``ws:`` of the same host as 'self'.
"""

from __future__ import annotations

import re

# A Host header is the client's to choose; only a plain host[:port] goes into the policy,
# so a crafted one cannot add directives (";") or sources (" ").
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def content_security_policy(host: str | None) -> str:
    """The policy for a page served to ``host`` (the request's ``Host`` header)."""
    connect = ["'self'"]
    if host is not None and _HOST.fullmatch(host):
        # Both schemes: behind a TLS-terminating proxy the server sees http but the
        # browser speaks wss; a browser never opens ws:// from an https page anyway.
        connect += [f"ws://{host}", f"wss://{host}"]
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src {' '.join(connect)}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
    return "; ".join(directives)


def security_headers(host: str | None) -> dict[str, str]:
    """Every header the wall's responses carry, for a request sent to ``host``."""
    return {
        "Content-Security-Policy": content_security_policy(host),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        # Revalidate every time: a wall runs for weeks and must pick up a new release.
        "Cache-Control": "no-cache",
    }
