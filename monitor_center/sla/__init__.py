"""SLA history: availability with unknown time and maintenance excluded, incidents with
MTTA/MTTR, KPI attainment, the agency scorecard, and CSV/HTML reports.

See the README's "SLA and scorecard" section for the formulas.
"""

from monitor_center.sla.availability import SlaQuery, compute_sla
from monitor_center.sla.kpi import KpiAttainment, attainment, kpi_attainments
from monitor_center.sla.model import (
    AgencySla,
    DayFigures,
    EndpointSla,
    Figures,
    Incident,
    SlaReport,
)
from monitor_center.sla.periods import Period, PeriodError
from monitor_center.sla.scorecard import Scorecard, ScoreRow, build_scorecard, score

__all__ = [
    "AgencySla",
    "DayFigures",
    "EndpointSla",
    "Figures",
    "Incident",
    "KpiAttainment",
    "Period",
    "PeriodError",
    "ScoreRow",
    "Scorecard",
    "SlaQuery",
    "SlaReport",
    "attainment",
    "build_scorecard",
    "compute_sla",
    "kpi_attainments",
    "score",
]
