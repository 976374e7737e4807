"""Real loopback receivers that record what arrives: an HTTP server and an SMTP server.

``Receiver`` stands in for a webhook, Slack, Telegram or Alertmanager endpoint and can be
scripted to answer errors or to hang; ``SmtpReceiver`` is an aiosmtpd server that can
refuse the next messages with a chosen SMTP code. Waiting is on events, never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from multidict import CIMultiDict, CIMultiDictProxy


def unused_port() -> int:
    """A loopback port nothing listens on (for "connection refused" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as it arrived."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it isn't JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(
        cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """A JSON answer."""
        return cls(
            status,
            {"Content-Type": "application/json", **(headers or {})},
            json.dumps(payload).encode(),
        )


class Receiver:
    """An aiohttp server on 127.0.0.1 recording every request to any path.

    Answers come from the script (``script(...)``, in turn) and then ``default``. After
    ``hang()`` requests are recorded but not answered until ``release()``.
    """

    def __init__(self, *, default: Reply | None = None) -> None:
        self.default = default or Reply(200, body=b"ok")
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._arrived = asyncio.Condition()
        self._answering = asyncio.Event()
        self._answering.set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); kept after the server stops."""
        if not self._port:
            raise RuntimeError("Receiver was never started; use 'async with'")
        return f"http://127.0.0.1:{self._port}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order, then ``default`` again."""
        self._script.extend(replies)

    def hang(self) -> None:
        """Leave the following requests unanswered until ``release()``."""
        self._answering.clear()

    def release(self) -> None:
        """Answer the hanging requests (and later ones) again."""
        self._answering.set()

    def reset(self) -> None:
        """Forget recorded requests and the script; answer again."""
        self.requests.clear()
        self._script.clear()
        self.release()

    async def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[Recorded]:
        """All requests so far once at least ``n`` have arrived; fail after ``timeout``."""
        try:
            async with asyncio.timeout(timeout), self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= n)
        except TimeoutError:
            raise AssertionError(
                f"expected {n} request(s) within {timeout}s, got {len(self.requests)}"
            ) from None
        return list(self.requests)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
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
        self.release()  # let hanging handlers finish so shutdown is quick
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        recorded = Recorded(
            request.method,
            request.path,
            dict(request.query),
            CIMultiDictProxy(CIMultiDict(request.headers)),
            body,
        )
        async with self._arrived:
            self.requests.append(recorded)
            self._arrived.notify_all()
        await self._answering.wait()
        reply = self._script.popleft() if self._script else self.default
        return web.Response(status=reply.status, headers=dict(reply.headers), body=reply.body)


class SmtpReceiver:
    """An aiosmtpd server on a free loopback port collecting the messages it accepts.

    ``fail_next(451, 2)`` answers the next two messages' DATA with 451. With a
    ``tls_context`` it offers STARTTLS (and requires it); with ``credentials``
    (login -> password) it offers AUTH PLAIN/LOGIN and rejects other logins with 535.
    """

    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = unused_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.attempts = 0
        self._failures: deque[tuple[int, str]] = deque()
        self._credentials = dict(credentials or {})
        self._lock = threading.Lock()  # the server runs in its own thread and loop
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",
            tls_context=tls_context,
            require_starttls=tls_context is not None,
            authenticator=self._authenticate if credentials else None,
            auth_require_tls=False,
            ready_timeout=5.0,
        )

    def fail_next(self, code: int, n: int = 1, text: str = "scripted failure") -> None:
        """Refuse the next ``n`` messages with ``code text`` at the end of DATA."""
        with self._lock:
            self._failures.extend([(code, text)] * n)

    def reset(self) -> None:
        """Forget collected messages, logins and scripted failures."""
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()
            self.logins.clear()
            self._failures.clear()
            self.attempts = 0

    async def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[EmailMessage]:
        """All messages so far once at least ``n`` were accepted; fail after ``timeout``."""
        assert self._changed is not None, "SmtpReceiver is not running; use 'async with'"
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()  # before the check, so no arrival is missed
                    with self._lock:
                        if len(self.messages) >= n:
                            return list(self.messages)
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"expected {n} message(s) within {timeout}s, got {len(self.messages)}"
            ) from None

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        await asyncio.to_thread(self._controller.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._controller.stop)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd hook: accept (and collect) the message or answer a scripted failure."""
        with self._lock:
            self.attempts += 1
            if self._failures:
                code, text = self._failures.popleft()
                failure: str | None = f"{code} {text}"
            else:
                failure = None
                raw = envelope.original_content or b""
                self.messages.append(BytesParser(policy=policy.default).parsebytes(raw))
                self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        self._notify()
        return failure or "250 OK"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8")
        ok = self._credentials.get(login) == data.password.decode("utf-8")
        if ok:
            with self._lock:
                self.logins.append(login)
        return AuthResult(success=ok, handled=False)

    def _notify(self) -> None:
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(self._changed.set)
