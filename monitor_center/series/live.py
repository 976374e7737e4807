"""The latest value of every series and its recent samples, for the live feed.

Collected readings and pushed samples both pass through :meth:`SeriesLive.observe`; a
sample newer than the series' latest becomes a ``series`` message, and the snapshot
lists every series with its latest value. Counters carry ``rate_per_minute`` over the
last five minutes (resets handled as Prometheus ``rate()`` does, see ``core.samples``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.clock import Clock
from core.samples import Sample, rate
from monitor_center.config import Series

RATE_WINDOW = timedelta(minutes=5)


def per_minute(samples: Sequence[Sample]) -> float | None:
    """A counter's increase per minute across ``samples``; None with fewer than two."""
    per_second = rate(samples)
    return None if per_second is None else per_second * 60.0


def _time(sample: Sample) -> datetime:
    return sample.time


@dataclass
class _Track:
    series: Series
    latest: Sample | None = None
    recent: list[Sample] = field(default_factory=list)  # ordered by time

    def add(self, sample: Sample, since: datetime) -> bool:
        """Keep ``sample``; True when it is the new latest. The first value of a time wins."""
        if sample.time > since:
            at = bisect.bisect_left(self.recent, sample.time, key=_time)
            if at == len(self.recent) or self.recent[at].time != sample.time:
                self.recent.insert(at, sample)
        if self.latest is None or sample.time > self.latest.time:
            self.latest = sample
            return True
        return False


class SeriesLive:
    """In-memory view of the configured series (event loop only, like the hub)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tracks: dict[str, _Track] = {}

    def configure(self, series: Iterable[Series]) -> None:
        """Follow exactly these series; keep what is known of those that stay."""
        tracks: dict[str, _Track] = {}
        for s in series:
            old = self._tracks.get(s.id)
            tracks[s.id] = _Track(s, old.latest, old.recent) if old else _Track(s)
        self._tracks = tracks

    def seed(self, latest: Mapping[str, Sample], recent: Mapping[str, list[Sample]]) -> None:
        """Start from the stored data (after a restart the wall is not blank)."""
        for series_id, sample in latest.items():
            self.observe(series_id, [*recent.get(series_id, []), sample])

    def observe(self, series_id: str, samples: Iterable[Sample]) -> dict[str, Any] | None:
        """Take new samples of a series; the ``series`` message if its latest moved."""
        track = self._tracks.get(series_id)
        if track is None:
            return None
        since = self._clock.now() - RATE_WINDOW
        moved = False
        for sample in samples:
            moved = track.add(sample, since) or moved
        track.recent = [s for s in track.recent if s.time > since]
        return {"type": "series", **self._entry(track)} if moved else None

    def snapshot(self) -> list[dict[str, Any]]:
        """Every series as the live snapshot lists it."""
        since = self._clock.now() - RATE_WINDOW
        for track in self._tracks.values():
            track.recent = [s for s in track.recent if s.time > since]
        return [self._entry(t) for t in self._tracks.values()]

    def _entry(self, track: _Track) -> dict[str, Any]:
        s = track.series
        latest = track.latest
        entry: dict[str, Any] = {
            "id": s.id,
            "agency": s.agency,
            "kind": s.kind,
            "value": None if latest is None else latest.value,
            "unit": s.unit,
            "target": s.target,
            "target_direction": s.target_direction,
            "time": None if latest is None else latest.time.isoformat(),
        }
        if s.kind == "counter":
            entry["rate_per_minute"] = per_minute(track.recent)
        return entry
