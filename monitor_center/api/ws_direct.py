"""The live feed's direct path to a websocket connection, when uvicorn serves it.

ASGI gives an app one way to send: an awaited ``send`` per message and per client, which
costs 15-20 µs of CPU each through the framework and the server's protocol (measured by
``bench/fanout.py``): at 1,000 screens and 200 events a second that is several cores.
The hub instead writes one pre-built frame to every caught-up connection in a single
synchronous pass (``monitor_center/live/hub.py``), which needs the connection's transport.

``KeepServerSend``, the outermost middleware, notes the server's own ``send`` in the
scope before Starlette wraps it; under uvicorn's websockets-sansio implementation that is
a bound method of the connection's protocol. ``direct_sink`` finds the protocol there and
returns None for anything else (a test client, another server, a negotiated extension
such as compression, which would change the frames): the feed then keeps to ordinary
sends, slower, never wrong.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

SERVER_SEND = "monitor_center.server_send"


class KeepServerSend:
    """Records a websocket connection's server-level ``send`` in its scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


class TransportSink:
    """Writes whole frames to one connection's transport while it keeps up.

    A frame is refused (the subscriber then queues, and its reader awaits the protocol's
    back-pressure) once the transport holds more unsent bytes than its high-water mark,
    and once the connection is closing.
    """

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def try_write(self, frame: bytes) -> bool:
        protocol = self._protocol
        transport = protocol.transport
        if protocol.close_sent or protocol.disconnected or transport.is_closing():
            return False
        if transport.get_write_buffer_size() >= transport.get_write_buffer_limits()[1]:
            return False
        transport.write(frame)
        return True


def direct_sink(websocket: WebSocket) -> TransportSink | None:
    """A sink for ``websocket``'s connection, or None when there is no safe direct path."""
    protocol = getattr(websocket.scope.get(SERVER_SEND), "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    if protocol.conn.extensions or not protocol.handshake_complete:
        return None
    return TransportSink(protocol)
