"""Wait on a condition, with a deadline; never sleep and hope."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(
    check: Callable[[], Awaitable[T | None]], *, timeout: float, what: str, poll: float = 0.05
) -> T:
    """Return ``check()``'s first truthy value; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
