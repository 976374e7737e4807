"""A rule as the engine sees it: id, kind, severity, selector, ``for`` and typed params."""

from __future__ import annotations

from dataclasses import dataclass

from alerts.rules.availability import AvailabilityParams
from alerts.rules.common import ENDPOINT_KINDS, RuleKind, Selector, Severity, SubjectType
from alerts.rules.endpoint_down import EndpointDownParams
from alerts.rules.kpi import KpiForecastParams, KpiMinParams
from alerts.rules.latency import LatencyParams
from alerts.rules.no_data import NoDataParams
from alerts.rules.volume_drop import VolumeDropParams

RuleParams = (
    EndpointDownParams
    | LatencyParams
    | AvailabilityParams
    | VolumeDropParams
    | KpiMinParams
    | KpiForecastParams
    | NoDataParams
)

PARAMS_BY_KIND: dict[str, type[RuleParams]] = {
    "endpoint_down": EndpointDownParams,
    "latency": LatencyParams,
    "availability": AvailabilityParams,
    "volume_drop": VolumeDropParams,
    "kpi_min": KpiMinParams,
    "kpi_forecast": KpiForecastParams,
    "no_data": NoDataParams,
}


def subject_type(kind: str, params: RuleParams | None = None) -> SubjectType:
    """Whether a rule of this kind watches endpoints or series (``no_data`` says which)."""
    if isinstance(params, NoDataParams):
        return params.subject
    return "endpoint" if kind in ENDPOINT_KINDS else "series"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One configured rule, free of config types. ``for_seconds`` is how long the
    condition must hold before the alert fires (the engine keeps it pending until then)."""

    id: str
    kind: RuleKind
    severity: Severity
    selector: Selector
    for_seconds: float
    params: RuleParams

    def __post_init__(self) -> None:
        expected = PARAMS_BY_KIND[self.kind]
        if not isinstance(self.params, expected):
            raise TypeError(f"a {self.kind} rule needs {expected.__name__}")
        if self.for_seconds < 0:
            raise ValueError("for_seconds cannot be negative")

    @property
    def subject_type(self) -> SubjectType:
        """What this rule watches: endpoints or series."""
        return subject_type(self.kind, self.params)
