"""Human durations: ``500ms``, ``10s``, ``5m``, ``1h``, ``1d`` and combinations.

Operators write durations the way Prometheus and Go do (``1h30m``); a bare
number means seconds. Arithmetic goes through `Decimal` and whole microseconds
so that ``format_duration`` and ``parse_duration`` round-trip exactly.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_UNIT_MICROSECONDS: dict[str, int] = {
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
# "ms" must be tried before "m" and "s", hence the explicit alternation order.
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|d|h|m|s)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MAX_MICROSECONDS = Decimal(
    timedelta.max.days * 86_400_000_000 + timedelta.max.seconds * 1_000_000 + 999_999
)
_EXPECTED = "expected a duration like 10s, 5m or 1h"


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse a duration; raise ValueError with a user-facing message if invalid.

    Accepts ``timedelta`` as is, ints and floats as seconds, numeric strings as
    seconds and unit strings (``d h m s ms us``, combinable: ``1h30m``, ``1.5s``).
    Negative durations are rejected; zero is allowed here and refused by
    `PositiveDuration` where it makes no sense.
    """
    if isinstance(value, timedelta):
        micros = Decimal(value // timedelta(microseconds=1))
    elif isinstance(value, bool):
        # YAML turns `yes`/`on` into booleans; never treat them as 1 second.
        raise ValueError(f"{_EXPECTED}, got {value!r}")
    elif isinstance(value, int | float):
        micros = _number_to_micros(value)
    elif isinstance(value, str):
        micros = _text_to_micros(value)
    else:
        raise ValueError(f"{_EXPECTED}, got {value!r}")
    if micros < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    if micros > _MAX_MICROSECONDS:
        raise ValueError(f"the duration {value!r} is too large")
    return timedelta(microseconds=int(micros))


def _number_to_micros(value: int | float) -> Decimal:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{_EXPECTED}, got {value!r}")
    # repr() keeps the float's shortest exact text, so 0.1 stays 0.1.
    return (Decimal(repr(value)) * _UNIT_MICROSECONDS["s"]).to_integral_value()


def _text_to_micros(value: str) -> Decimal:
    text = value.strip()
    if text.startswith("-") and _is_duration_text(text[1:]):
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    if not _is_duration_text(text):
        raise ValueError(f"{_EXPECTED}, got {value!r}")
    if _NUMBER.fullmatch(text):
        return (Decimal(text) * _UNIT_MICROSECONDS["s"]).to_integral_value()
    total = Decimal(0)
    for number, unit in _PART.findall(text):
        try:
            total += Decimal(number) * _UNIT_MICROSECONDS[unit]
        except InvalidOperation as exc:  # absurdly long digit strings
            raise ValueError(f"the duration {value!r} is too large") from exc
        if total > _MAX_MICROSECONDS:
            raise ValueError(f"the duration {value!r} is too large")
    return total.to_integral_value()


def _is_duration_text(text: str) -> bool:
    return bool(text) and bool(
        _NUMBER.fullmatch(text) or re.fullmatch(f"(?:{_PART.pattern})+", text)
    )


def format_duration(value: timedelta) -> str:
    """Render a duration in the shortest unit form, e.g. ``1h30m`` or ``500ms``.

    The output always parses back to the same `timedelta` with `parse_duration`.
    """
    if value < timedelta(0):
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    remaining = value // timedelta(microseconds=1)
    parts: list[str] = []
    for unit, size in _UNIT_MICROSECONDS.items():
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _require_positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("expected a duration greater than zero")
    return value


def _before(value: object) -> timedelta:
    # pydantic hands over raw YAML values; reject containers with the same message.
    if isinstance(value, str | int | float | timedelta):
        return parse_duration(value)
    raise ValueError(f"{_EXPECTED}, got {type(value).__name__}")


_AS_TEXT = PlainSerializer(format_duration, return_type=str, when_used="json")

Duration = Annotated[timedelta, BeforeValidator(_before), _AS_TEXT]
"""A duration of zero or more (e.g. a group wait that may be 0s)."""

PositiveDuration = Annotated[
    timedelta, BeforeValidator(_before), AfterValidator(_require_positive), _AS_TEXT
]
"""A duration that must be greater than zero (intervals, timeouts)."""
