"""``monitor-center tail``: follow the live feed in a terminal.

Connects to ``/ws/live`` with the websockets client, prints a one-line summary of the
snapshot, then one coloured, aligned line per delta: time, type, subject, the state
transition (``up -> down``) and the reason or summary. When the connection is lost or
refused it says so on one line and reconnects by itself with back-off, resuming with
``since`` (the last ``seq`` printed) so nothing is missed or printed twice. A refused
token (HTTP 403) stops it: retrying would not help.

The token is passed in (the CLI reads ``--token`` or ``MONITOR_TOKEN``); it goes in the
query string, like the wall page does, and is never printed.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from rich.console import Console
from rich.text import Text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from monitor_center.api.live_route import LIVE_PATH

EXIT_TOKEN_REFUSED = 1

_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_STATE_STYLES = {
    "up": "green",
    "down": "bold red",
    "unknown": "yellow",
    "pending": "yellow",
    "firing": "bold red",
    "resolved": "green",
    "acknowledged": "cyan",
    "silenced": "magenta",
}
_TYPE_STYLES = {"endpoint": "blue", "alert": "magenta", "series": "cyan"}
_CLOSE_REASONS = {1000: "closed", 1001: "server going away", 1012: "server restarting"}
_CLOSE_REASONS[1013] = "too slow, dropped by the server"
_SUBJECT_WIDTH = 28
_TRANSITION_WIDTH = 22


@dataclass(frozen=True, slots=True)
class TailOptions:
    """Where to connect and how to retry; ``since`` resumes after that ``seq``."""

    url: str = "http://127.0.0.1:8080"
    token: str = ""
    since: int | None = None
    retry_initial: float = 0.5
    retry_max: float = 10.0
    open_timeout: float = 10.0


def live_url(base: str, token: str, since: int | None) -> str:
    """The feed's websocket URL for a center at ``base`` (http, https, ws or wss)."""
    parts = urlsplit(base.strip())
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"not an http(s) or ws(s) URL of the center: {base!r}")
    query = {"token": token} | ({} if since is None else {"since": str(since)})
    path = parts.path.rstrip("/") + LIVE_PATH
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def snapshot_summary(snapshot: dict[str, Any]) -> str:
    """E.g. ``61 endpoints: 58 up, 2 down, 1 unknown; 3 alerts firing``."""
    endpoints = [e for e in snapshot.get("endpoints", []) if isinstance(e, dict)]
    states = Counter(str(e.get("state", "unknown")) for e in endpoints)
    # up, down and unknown always (a "0 down" is news too), then anything else seen.
    shown = ["up", "down", "unknown", *sorted(set(states) - {"up", "down", "unknown"})]
    counts = ", ".join(f"{states[s]} {s}" for s in shown)
    alerts = [a for a in snapshot.get("alerts", []) if isinstance(a, dict)]
    firing = sum(1 for a in alerts if a.get("state") == "firing")
    noun = "endpoint" if len(endpoints) == 1 else "endpoints"
    return (
        f"{len(endpoints)} {noun}: {counts}; {firing} {'alert' if firing == 1 else 'alerts'} firing"
    )


class FeedPrinter:
    """Turns feed messages into lines; remembers the last ``seq`` and alert states."""

    def __init__(self, console: Console, since: int | None = None) -> None:
        self.console = console
        self.seq = since
        """The last ``seq`` printed: where a reconnection resumes."""
        self._alert_states: dict[str, str] = {}

    def show(self, message: dict[str, Any]) -> None:
        kind = str(message.get("type", "?"))
        seq = message.get("seq")
        if isinstance(seq, int):
            self.seq = seq
        if kind == "snapshot":
            self._remember_alerts(message.get("alerts", []))
            self._line("snapshot", "", Text(snapshot_summary(message), style="bold"))
            return
        subject, previous, current, detail = self._fields(kind, message)
        transition = Text()
        if previous:
            transition.append(previous, style=_STATE_STYLES.get(previous, ""))
            transition.append(" -> ")
        transition.append(current, style=_STATE_STYLES.get(current, "bold"))
        transition.pad_right(max(_TRANSITION_WIDTH - len(transition), 0))
        self._line(kind, subject, transition + Text(detail))

    def status(self, text: str, style: str = "dim") -> None:
        """A line about the connection itself."""
        self.console.print(Text(f"{_now()}  -- {text}", style=style))

    def _fields(self, kind: str, message: dict[str, Any]) -> tuple[str, str, str, str]:
        """(subject, previous state, current state, detail) of a delta."""
        if kind == "endpoint":
            reason = message.get("reason") or ""
            latency = message.get("latency_ms")
            detail = reason if reason or latency is None else f"{latency} ms"
            return (
                _s(message.get("id")),
                _s(message.get("previous")),
                _s(message.get("state")),
                detail,
            )
        if kind == "alert":
            key = _s(message.get("id"))
            current = _s(message.get("state"))
            previous = self._alert_states.get(key, "")
            self._alert_states[key] = current
            subject = f"{_s(message.get('rule'))} {_s(message.get('subject'))}"
            detail = f"[{_s(message.get('severity'))}] {_s(message.get('summary'))}"
            if message.get("acknowledged_by"):
                detail += f" (acknowledged by {message['acknowledged_by']})"
            return subject, previous, current, detail
        value = message.get("value")
        return (
            _s(message.get("id")),
            "",
            "" if value is None else str(value),
            _s(message.get("unit")),
        )

    def _remember_alerts(self, alerts: Any) -> None:
        self._alert_states = {
            _s(a.get("id")): _s(a.get("state")) for a in alerts if isinstance(a, dict)
        }

    def _line(self, kind: str, subject: str, rest: Text) -> None:
        line = Text(f"{_now()}  ")
        line.append(f"{kind:<9}", style=_TYPE_STYLES.get(kind, "bold"))
        line.append(f"{_fit(subject, _SUBJECT_WIDTH):<{_SUBJECT_WIDTH}}  ")
        self.console.print(line + rest, overflow="ellipsis", no_wrap=True)


async def tail(options: TailOptions, console: Console) -> int:
    """Follow the feed until cancelled; return an exit status when retrying cannot help."""
    printer = FeedPrinter(console, options.since)
    delay = options.retry_initial
    while True:
        url = live_url(options.url, options.token, printer.seq)
        try:
            reason = await _follow(url, options, printer)
            delay = options.retry_initial  # it worked: the next loss retries quickly
        except InvalidStatus as exc:
            if exc.response.status_code == 403:
                printer.status(
                    "token refused (HTTP 403): check --token or MONITOR_TOKEN", "bold red"
                )
                return EXIT_TOKEN_REFUSED
            reason = f"refused with HTTP {exc.response.status_code}"
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            reason = f"cannot connect to {options.url}: {_describe(exc)}"
        printer.status(f"feed lost: {reason}; reconnecting in {delay:.1f}s", "yellow")
        await asyncio.sleep(delay)
        delay = min(delay * 2, options.retry_max)


async def _follow(url: str, options: TailOptions, printer: FeedPrinter) -> str:
    """Print the feed from one connection; return why it ended."""
    async with connect(url, proxy=None, open_timeout=options.open_timeout) as ws:
        resuming = f" (resuming after seq {printer.seq})" if printer.seq is not None else ""
        printer.status(f"connected to {options.url}{resuming}", "green")
        try:
            async for raw in ws:
                message = json.loads(raw)
                if isinstance(message, dict):
                    printer.show(message)
        except ConnectionClosed:
            pass  # described below from the close code
        code = ws.close_code
    return _CLOSE_REASONS.get(code or 0, f"connection closed (code {code})")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _now() -> str:
    return datetime.now().astimezone().strftime("%H:%M:%S")
