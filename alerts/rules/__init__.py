"""Alert rules: each kind a pure function of state and samples (no I/O, no clock).

The engine feeds them what the database holds and turns their verdicts into alert
states; ``monitor_center.rule_specs`` builds `RuleSpec` values from the config.
"""

from alerts.rules.availability import (
    DEFAULT_WINDOWS,
    AvailabilityParams,
    BurnWindow,
    WindowCounts,
    evaluate_availability,
)
from alerts.rules.common import (
    ENDPOINT_KINDS,
    Direction,
    RuleKind,
    Selector,
    Severity,
    SubjectInfo,
    SubjectType,
    Verdict,
)
from alerts.rules.endpoint_down import DownState, EndpointDownParams, step, summary
from alerts.rules.kpi import (
    KpiForecastParams,
    KpiMinParams,
    evaluate_kpi_forecast,
    evaluate_kpi_min,
)
from alerts.rules.latency import LatencyParams, evaluate_latency, percentile
from alerts.rules.no_data import NoDataParams, evaluate_no_data
from alerts.rules.spec import PARAMS_BY_KIND, RuleParams, RuleSpec, subject_type
from alerts.rules.volume_drop import VolumeDropParams, evaluate_volume_drop

__all__ = [
    "DEFAULT_WINDOWS",
    "ENDPOINT_KINDS",
    "PARAMS_BY_KIND",
    "AvailabilityParams",
    "BurnWindow",
    "Direction",
    "DownState",
    "EndpointDownParams",
    "KpiForecastParams",
    "KpiMinParams",
    "LatencyParams",
    "NoDataParams",
    "RuleKind",
    "RuleParams",
    "RuleSpec",
    "Selector",
    "Severity",
    "SubjectInfo",
    "SubjectType",
    "Verdict",
    "VolumeDropParams",
    "WindowCounts",
    "evaluate_availability",
    "evaluate_kpi_forecast",
    "evaluate_kpi_min",
    "evaluate_latency",
    "evaluate_no_data",
    "evaluate_volume_drop",
    "percentile",
    "step",
    "subject_type",
    "summary",
]
