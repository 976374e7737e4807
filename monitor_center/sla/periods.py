"""Report periods in the center's time zone: a month is a local month, a day a local day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be reported on (bad month, end before start...)."""


def local(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware datetime; a naive one is read in the center's time zone."""
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of a period: ``lo``/``hi`` clipped to the period, ``midnight`` and
    ``next_midnight`` its full extent (``midnight`` is its day-rollup bucket)."""

    date: date
    lo: float
    hi: float
    midnight: float
    next_midnight: float

    @property
    def whole(self) -> bool:
        return self.lo == self.midnight and self.hi == self.next_midnight


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)``, both aware, reported in ``zone``."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise PeriodError("period bounds must carry a time zone")
        if self.end <= self.start:
            raise PeriodError("the period's end must be after its start")

    @classmethod
    def month(cls, text: str, zone: ZoneInfo) -> Period:
        """``YYYY-MM`` as the local month: midnight of its first day to the next month's."""
        match = _MONTH.match(text)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise PeriodError(f"expected a month as YYYY-MM (e.g. 2026-10), got {text!r}")
        year, month = int(match[1]), int(match[2])
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(_midnight(date(year, month, 1), zone), _midnight(following, zone), zone)

    @property
    def label(self) -> str:
        """``2026-10`` for a whole local month, else ``start .. end`` in local time."""
        start, end = self.start.astimezone(self.zone), self.end.astimezone(self.zone)
        whole_month = start == _midnight(start.date().replace(day=1), self.zone)
        if whole_month and end == Period.month(f"{start:%Y-%m}", self.zone).end:
            return f"{start:%Y-%m}"
        return f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M}"

    def days(self, until: datetime | None = None) -> list[Day]:
        """The local days of ``[start, min(end, until))``; empty when that is empty."""
        stop = min(self.end, until) if until is not None else self.end
        lo, hi = self.start.timestamp(), stop.timestamp()
        result: list[Day] = []
        day = self.start.astimezone(self.zone).date()
        while True:
            midnight = _midnight(day, self.zone).timestamp()
            following = _midnight(day + timedelta(days=1), self.zone).timestamp()
            if midnight >= hi:
                return result
            result.append(Day(day, max(lo, midnight), min(hi, following), midnight, following))
            day += timedelta(days=1)

    def calendar(self) -> list[date]:
        """Every local date the period touches (the columns of a report's daily strip)."""
        first = self.start.astimezone(self.zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
