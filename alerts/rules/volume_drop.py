"""``volume_drop``: transactions in a window fall below a share of the seasonal baseline.

The baseline is the same window one ``baseline_offset`` earlier (a week by default:
Monday 10:00 is compared with last Monday 10:00, not with Sunday night). Quiet
windows whose baseline is below ``min_volume`` are not judged: at 3 a.m. five
dossiers instead of ten is noise, not an outage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerts.rules.common import Verdict, format_number, format_seconds
from core.samples import Sample, increase


@dataclass(frozen=True, slots=True)
class VolumeDropParams:
    """Fire when the volume is below ``drop_percent`` % of the baseline's.

    ``window`` and ``baseline_offset`` are in seconds; ``counter`` says whether the
    series is a counter (resets handled) or a gauge (volume = last minus first).
    """

    drop_percent: float
    window: float = 3600.0
    baseline_offset: float = 604_800.0
    min_volume: float = 0.0
    counter: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.drop_percent <= 100:
            raise ValueError("drop_percent must be in (0, 100]")
        if self.window <= 0 or self.baseline_offset <= 0 or self.min_volume < 0:
            raise ValueError("window and baseline_offset must be positive, min_volume >= 0")


def evaluate_volume_drop(
    current: Sequence[Sample], baseline: Sequence[Sample], p: VolumeDropParams
) -> Verdict:
    """Compare the current window's volume with the baseline window's.

    The value is the current volume as a percentage of the baseline's; ``None``
    when either window has fewer than two samples or the baseline is too quiet.
    """
    now = increase(current, counter=p.counter)
    before = increase(baseline, counter=p.counter)
    window = format_seconds(p.window)
    if now is None or before is None:
        side = "this window" if now is None else "the baseline window"
        return Verdict.insufficient(f"not enough data: fewer than 2 samples in {side} ({window})")
    if before <= 0 or before < p.min_volume:
        return Verdict.insufficient(
            f"baseline volume {format_number(before)} over {window} is below the minimum"
            f" {format_number(p.min_volume)}: too quiet to judge"
        )
    share = now / before * 100
    relation = "below" if share < p.drop_percent else "not below"
    return Verdict(
        active=share < p.drop_percent,
        value=share,
        summary=(
            f"volume {format_number(now)} over the last {window} is {format_number(share)} %"
            f" of {format_number(before)} {format_seconds(p.baseline_offset)} earlier"
            f" ({relation} {format_number(p.drop_percent)} %)"
        ),
    )
