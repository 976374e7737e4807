"""``availability``: an SLO with multi-window, multi-burn-rate alerts.

The error budget is ``1 - objective``. A burn rate of 1 spends it exactly over the
SLO period; 14.4 spends a 30-day budget's 2 % in one hour. A window pair fires
when both its long and its short window burn faster than its factor: the long one
proves the problem is significant, the short one that it is still happening (so
the alert resolves soon after the fix). See the Google SRE workbook, "Alerting on
SLOs".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerts.rules.common import Verdict, format_number, format_seconds


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """A long and a short window (seconds) and the burn rate both must exceed."""

    long: float
    short: float
    factor: float

    def __post_init__(self) -> None:
        if not 0 < self.short < self.long or self.factor <= 0:
            raise ValueError("a burn window needs 0 < short < long and a positive factor")


DEFAULT_WINDOWS = (BurnWindow(3600, 300, 14.4), BurnWindow(21600, 1800, 6.0))
"""Fast burn (1 h and 5 min at 14.4x) and slow burn (6 h and 30 min at 6x)."""


@dataclass(frozen=True, slots=True)
class AvailabilityParams:
    """``objective`` in percent (99.5 means at most 0.5 % failed probes)."""

    objective: float
    windows: tuple[BurnWindow, ...] = DEFAULT_WINDOWS

    def __post_init__(self) -> None:
        if not 0 < self.objective < 100:
            raise ValueError("objective must be a percentage between 0 and 100")
        if not self.windows:
            raise ValueError("at least one burn window is needed")

    @property
    def budget(self) -> float:
        """The allowed error rate, as a fraction (0.005 for 99.5)."""
        return 1 - self.objective / 100

    def window_lengths(self) -> tuple[float, ...]:
        """Every distinct window length in seconds, shortest first (what to count)."""
        return tuple(sorted({w for pair in self.windows for w in (pair.long, pair.short)}))


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Probes in one window and how many of them failed."""

    total: int
    failed: int

    @property
    def error_rate(self) -> float | None:
        """Failed share of the probes, or None when there were none."""
        return self.failed / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class _Burn:
    window: BurnWindow
    long: float
    short: float

    @property
    def firing(self) -> bool:
        return self.long > self.window.factor and self.short > self.window.factor


def _burns(counts: Mapping[float, WindowCounts], p: AvailabilityParams) -> list[_Burn]:
    burns = []
    for window in p.windows:
        long, short = counts.get(window.long), counts.get(window.short)
        long_rate = long.error_rate if long else None
        short_rate = short.error_rate if short else None
        if long_rate is not None and short_rate is not None:
            burns.append(_Burn(window, long_rate / p.budget, short_rate / p.budget))
    return burns


def _describe(burn: _Burn) -> str:
    w = burn.window
    return (
        f"burn rate {format_number(burn.long)}x over {format_seconds(w.long)}"
        f" and {format_number(burn.short)}x over {format_seconds(w.short)}"
        f" (alert above {format_number(w.factor)}x)"
    )


def evaluate_availability(counts: Mapping[float, WindowCounts], p: AvailabilityParams) -> Verdict:
    """Active when any window pair burns the error budget too fast in both windows.

    `counts` maps a window length in seconds to the probes counted over it, for
    every length in ``p.window_lengths()``. The value is the long-window burn rate
    of the pair that fires (the fastest one), or of the fastest pair when none does.
    """
    burns = _burns(counts, p)
    if not burns:
        return Verdict.insufficient("not enough data: no probes in the burn-rate windows")
    objective = f"{format_number(p.objective)} % objective"
    firing = [burn for burn in burns if burn.firing]
    if firing:
        worst = max(firing, key=lambda burn: burn.long)
        summary = f"burning the error budget of the {objective}: {_describe(worst)}"
        return Verdict(True, worst.long, summary)
    worst = max(burns, key=lambda burn: burn.long)
    return Verdict(False, worst.long, f"within the {objective}: {_describe(worst)}")
