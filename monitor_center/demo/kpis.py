"""KPI gauges of the simulated fleet, around the seeds' figures (see ``seeds``).

Level-4 share: each ministry and province gets a share at the seed date (July 2020),
spread log-normally so that about as many are above the 30 % target as the seeds report
(11 of 63 provinces, 9 of 22 ministries), with the Ministry of Health and the former
Ministry of Information and Communications at 100 % and Nghe An at its 87 of 1,887.
All shares then move with the national trend, which rises about 1 point a month.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from statistics import NormalDist

from monitor_center.demo import seeds
from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.telemetry import clamp, days_since_in_year, smooth_noise

LEVEL4_SLOPE = (seeds.LEVEL4_NATIONAL - seeds.LEVEL4_FEBRUARY) / (
    seeds.LEVEL4_SEED_DATE - seeds.LEVEL4_FEBRUARY_DATE
).days
"""Points a day the national level-4 share gained between the two reports (~0.034)."""
EDOC_SLOPE = (seeds.EDOC_RATE - seeds.EDOC_FEBRUARY) / (
    seeds.EDOC_SEED_DATE - seeds.EDOC_FEBRUARY_DATE
).days
"""Points a day the e-document exchange rate gained between the two reports (~0.010)."""

# Log-normal spread of level-4 shares (sigma of the log): provinces ranged from a few
# percent to over 30 % in 2020.
_SIGMA = {"province": 0.9, "ministry": 0.8}
_ABOVE = {"province": seeds.PROVINCES_ABOVE_TARGET, "ministry": seeds.MINISTRIES_ABOVE_TARGET}
# Only the agencies the seeds name reach 100 %; the spread's tail is cut below that.
_SPREAD_CAP = 95.0
# Daily wander of each KPI, in percentage points (one standard deviation).
_LEVEL4_WANDER = 0.1
_EDOC_WANDER = 0.15
_ON_TIME_WANDER = 0.3
_ON_TIME_SIGMA = 0.5  # of the log of the shortfall from 100 %
_CEILING = 99.9


def level4_shares_at_seed(agencies: Iterable[AgencyInfo], seed: int) -> dict[str, float]:
    """Each ministry's and province's level-4 share (percent) in July 2020."""
    shares: dict[str, float] = {}
    for kind in ("ministry", "province"):
        group = [a.id for a in agencies if a.kind == kind]
        fixed = {aid for aid in group if aid in seeds.LEVEL4_FULL or aid in seeds.LEVEL4_PINNED}
        spread = _spread([aid for aid in group if aid not in fixed], seed, kind)
        shares.update(spread)
        for aid in fixed:
            shares[aid] = 100.0 if aid in seeds.LEVEL4_FULL else seeds.LEVEL4_PINNED[aid]
    return shares


def _spread(ids: list[str], seed: int, kind: str) -> dict[str, float]:
    """Log-normal quantiles dealt out in a seeded order, so the share above the target
    is as reported whatever the seed, and each seed ranks the agencies differently."""
    if not ids:
        return {}
    order = sorted(ids, key=lambda aid: random.Random(f"{seed}:level4:{aid}").random())
    normal = NormalDist()
    sigma = _SIGMA[kind]
    median = seeds.LEVEL4_TARGET * math.exp(-sigma * normal.inv_cdf(1 - _ABOVE[kind]))
    count = len(order)
    return {
        aid: min(_SPREAD_CAP, median * math.exp(sigma * normal.inv_cdf((rank + 0.5) / count)))
        for rank, aid in enumerate(order)
    }


def on_time_at_seed(agencies: Iterable[AgencyInfo], seed: int) -> dict[str, float]:
    """Each province's share of procedures settled on time, around the national 95.8 %.

    The shortfall from 100 % is log-normal (most provinces settle 95-99 % on time, a few
    lag well behind), dealt out in a seeded order like the level-4 shares.
    """
    ids = [a.id for a in agencies if a.kind == "province"]
    order = sorted(ids, key=lambda aid: random.Random(f"{seed}:on-time:{aid}").random())
    normal = NormalDist()
    mean_shortfall = 100.0 - seeds.ON_TIME_NATIONAL
    median = mean_shortfall * math.exp(-(_ON_TIME_SIGMA**2) / 2)
    return {
        aid: 100.0 - median * math.exp(_ON_TIME_SIGMA * normal.inv_cdf((rank + 0.5) / len(order)))
        for rank, aid in enumerate(order)
    }


class KpiModel:
    """Every KPI of the fleet at any time; pure functions of the seed and the time."""

    def __init__(self, agencies: Iterable[AgencyInfo], seed: int = 0) -> None:
        listed = list(agencies)
        self.seed = seed
        self.level4_at_seed = level4_shares_at_seed(listed, seed)
        self.on_time_base = on_time_at_seed(listed, seed)

    def level4_trend(self, t: float) -> float:
        """The national level-4 share's trend, without the daily wander."""
        days = days_since_in_year(t, seeds.LEVEL4_SEED_DATE)
        return seeds.LEVEL4_NATIONAL + LEVEL4_SLOPE * days

    def national_level4(self, t: float) -> float:
        """The national level-4 share (percent): 15.91 on 31 July, ~8.8 to ~21 a year."""
        noise = smooth_noise(self.seed, "level4:national", t)
        return self.level4_trend(t) + _LEVEL4_WANDER * noise

    def level4(self, agency_id: str, t: float) -> float:
        """An agency's level-4 share (percent), moving with the national trend."""
        base = self.level4_at_seed[agency_id]
        if base >= 100.0:
            return 100.0
        growth = self.level4_trend(t) / seeds.LEVEL4_NATIONAL
        noise = smooth_noise(self.seed, f"level4:{agency_id}", t)
        return clamp(base * growth + _LEVEL4_WANDER * noise, 0.1, _CEILING)

    def edoc_rate(self, t: float) -> float:
        """The national e-document exchange rate (percent): 88.53 on 26 August."""
        days = days_since_in_year(t, seeds.EDOC_SEED_DATE)
        noise = smooth_noise(self.seed, "edoc:national", t)
        return clamp(seeds.EDOC_RATE + EDOC_SLOPE * days + _EDOC_WANDER * noise, 0.0, _CEILING)

    def on_time(self, agency_id: str | None, t: float) -> float:
        """Procedures settled on time (percent), national when ``agency_id`` is None."""
        base = seeds.ON_TIME_NATIONAL if agency_id is None else self.on_time_base[agency_id]
        noise = smooth_noise(self.seed, f"on-time:{agency_id or 'national'}", t)
        return clamp(base + _ON_TIME_WANDER * noise, 0.0, _CEILING)
