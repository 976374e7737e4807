"""Websocket framing for the feed's direct path (RFC 6455, section 5.2).

A server's frames are not masked, so one finished frame serves every client: the hub
builds it once per message and writes the same bytes to each connection.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81  # FIN bit + opcode 1 (text)


def text_frame(text: str) -> bytes:
    """``text`` as one complete, unmasked, unfragmented text frame."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN_TEXT, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload
