"""Faults that can be injected into simulated endpoints, and parsing of control requests."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import Literal, cast

FaultMode = Literal["down", "slow", "wrong_content", "hang", "volume_drop", "ok"]
FAULT_MODES: tuple[FaultMode, ...] = ("down", "slow", "wrong_content", "hang", "volume_drop", "ok")
ENDPOINT_MODES: tuple[FaultMode, ...] = ("down", "slow", "wrong_content", "hang", "ok")
"""Modes an endpoint takes; a counter series takes ``volume_drop`` and ``ok``."""
SERIES_MODES: tuple[FaultMode, ...] = ("volume_drop", "ok")

# Slow but inside the demo's 5 s probe timeout, so latency rules fire rather than outages.
DEFAULT_SLOW_DELAY = 2.0
DEFAULT_DOWN_STATUS = 503
# A tenth of the usual volume: far below the demo's volume_drop threshold (50 %).
DEFAULT_DROP_FACTOR = 0.1
# A fault that outlives any sane probe timeout is a hang; cap delays to keep that explicit.
MAX_DELAY = 3600.0


class FaultError(ValueError):
    """A fault request that cannot be applied; the message names what was wrong."""


class UnknownEndpointError(LookupError):
    """The fault names an endpoint the fleet does not serve."""

    def __init__(self, endpoint_id: str) -> None:
        super().__init__(f"unknown endpoint {endpoint_id!r}")
        self.endpoint_id = endpoint_id


@dataclass(frozen=True, slots=True)
class Fault:
    """What a faulty endpoint does instead of answering normally.

    - ``down``: answer ``status`` (default 503) with a short body.
    - ``slow``: answer normally after an extra ``delay`` seconds.
    - ``wrong_content``: answer 200 without the page's marker (JSON status ``degraded``).
    - ``hang``: never answer; the client has to give up.
    - ``volume_drop`` (counter series only): the counter grows at ``factor`` times its
      usual rate, so a volume_drop rule can fire.
    - ``ok``: no fault (setting it clears the endpoint's fault).
    """

    mode: FaultMode
    delay: float = DEFAULT_SLOW_DELAY
    status: int = DEFAULT_DOWN_STATUS
    factor: float = DEFAULT_DROP_FACTOR

    def __post_init__(self) -> None:
        if self.mode not in FAULT_MODES:
            raise FaultError(f"mode must be one of {', '.join(FAULT_MODES)}, got {self.mode!r}")
        if not 0 <= self.delay <= MAX_DELAY:
            raise FaultError(f"delay must be between 0 and {MAX_DELAY:g} seconds")
        if not 400 <= self.status <= 599:
            raise FaultError(f"status must be an HTTP error status (400-599), got {self.status}")
        if not 0 <= self.factor < 1:
            raise FaultError(f"factor must be at least 0 and below 1, got {self.factor:g}")

    def as_dict(self) -> dict[str, object]:
        """The fault as the control API shows it: only the fields its mode uses."""
        shown: dict[str, object] = {"mode": self.mode}
        if self.mode == "slow":
            shown["delay"] = self.delay
        elif self.mode == "down":
            shown["status"] = self.status
        elif self.mode == "volume_drop":
            shown["factor"] = self.factor
        return shown


def parse_fault_request(body: object, known_endpoints: Container[str]) -> tuple[str, Fault]:
    """Validate a ``POST /_control/faults`` body and return ``(endpoint_id, fault)``.

    A counter series is named by ``endpoint`` too, or by ``series``. Raises
    ``UnknownEndpointError`` for an endpoint the fleet does not serve and ``FaultError``
    (naming the offending field) for anything else that is wrong.
    """
    if not isinstance(body, dict):
        raise FaultError("body must be a JSON object")
    endpoint_id = body.get("endpoint", body.get("series"))
    if not isinstance(endpoint_id, str) or not endpoint_id:
        raise FaultError("endpoint must be a non-empty string (an endpoint or series id)")
    if endpoint_id not in known_endpoints:
        raise UnknownEndpointError(endpoint_id)
    mode = body.get("mode")
    if mode not in FAULT_MODES:
        raise FaultError(f"mode must be one of {', '.join(FAULT_MODES)}, got {mode!r}")
    delay = body.get("delay", DEFAULT_SLOW_DELAY)
    # bool is an int in Python but never a meaningful delay or status in JSON.
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise FaultError(f"delay must be a number of seconds, got {delay!r}")
    status = body.get("status", DEFAULT_DOWN_STATUS)
    if isinstance(status, bool) or not isinstance(status, int):
        raise FaultError(f"status must be an integer HTTP status, got {status!r}")
    factor = body.get("factor", DEFAULT_DROP_FACTOR)
    if isinstance(factor, bool) or not isinstance(factor, int | float):
        raise FaultError(f"factor must be a number (share of the usual volume), got {factor!r}")
    chosen = cast(FaultMode, mode)
    return endpoint_id, Fault(chosen, delay=float(delay), status=status, factor=float(factor))
