"""The demo's alert receiver: a signed webhook endpoint that prints what it is sent.

The demo routes every alert to this sink, so an injected fault shows up as a line in
the terminal the way an operator's own receiver would see it: the body is the webhook
channel's Alertmanager-style JSON and it is only accepted with a valid HMAC signature.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from rich.console import Console
from rich.text import Text

from alerts.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

SINK_PATH = "/alerts"
_STATUS_STYLE = {"firing": "bold red", "resolved": "bold green"}
_SEVERITY_STYLE = {"critical": "red", "warning": "yellow", "info": "cyan"}


class WebhookSink:
    """An aiohttp server on a free 127.0.0.1 port; prints one line per alert it receives.

    A request without a valid signature is refused with 401 and a body that is not the
    webhook JSON with 400; either way a line says so (a misconfigured secret should be
    as visible as an alert).
    """

    def __init__(
        self, secret: str, printer: Console, *, clock: Callable[[], float] = time.time
    ) -> None:
        """``clock`` (unix seconds) judges the signature's freshness."""
        self._secret = secret
        self._printer = printer
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def url(self) -> str:
        """Where to POST alerts, e.g. ``http://127.0.0.1:41234/alerts``."""
        if not self._port:
            raise RuntimeError("WebhookSink is not started; use 'async with'")
        return f"http://127.0.0.1:{self._port}{SINK_PATH}"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post(SINK_PATH, self._receive)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        # Bind first and hand the socket over: the port is ours, no free-port race.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify_signature(
            self._secret,
            request.headers.get(TIMESTAMP_HEADER),
            body,
            request.headers.get(SIGNATURE_HEADER),
            now=self._clock(),
        )
        if not signed:
            self._say(f"refused a webhook from {request.remote}: missing or wrong signature")
            return web.Response(status=401, text="bad signature\n")
        alerts = _alerts_of(body)
        if alerts is None:
            self._say("refused a signed webhook whose body is not Alertmanager-style JSON")
            return web.Response(status=400, text="expected webhook JSON with 'alerts'\n")
        for alert in alerts:
            self._printer.print(alert_line(alert, received=self._clock()), soft_wrap=True)
        return web.Response(text="ok\n")

    def _say(self, message: str) -> None:
        self._printer.print(Text.assemble(("sink ", "dim"), (message, "bold magenta")))


def _alerts_of(body: bytes) -> list[Mapping[str, Any]] | None:
    """The body's ``alerts`` list when it is webhook JSON, else None."""
    try:
        document = json.loads(body)
    except ValueError:  # also covers bytes that are not UTF-8
        return None
    alerts = document.get("alerts") if isinstance(document, dict) else None
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        return None
    return alerts


def alert_line(alert: Mapping[str, Any], *, received: float) -> Text:
    """``12:00:03 FIRING critical endpoint-down ngsp-portal  summary`` as styled text.

    The time is when the sink received it, in local time, as in a log: a repeat or an
    escalation of an old alert is still news now. Text, not markup, so that a ``[`` in
    a summary stays literal.
    """
    labels = _strings(alert.get("labels"))
    notes = _strings(alert.get("annotations"))
    status = str(alert.get("status", "?"))
    severity = labels.get("severity", "?")
    when = datetime.fromtimestamp(received).astimezone()
    reason = notes.get("reason", "transition")
    return Text.assemble(
        (when.strftime("%H:%M:%S"), "dim"),
        " ",
        (f"{status.upper():<8}", _STATUS_STYLE.get(status, "bold")),
        " ",
        (f"{severity:<8}", _SEVERITY_STYLE.get(severity, "")),
        " ",
        (labels.get("rule", labels.get("alertname", "?")), "bold"),
        " ",
        (labels.get("subject", "?"), "cyan"),
        "  ",
        notes.get("summary", ""),
        (f" ({reason})" if reason != "transition" else "", "dim"),
    )


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}
