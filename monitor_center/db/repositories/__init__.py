"""Repositories: raw SQL, one module per table family."""

from monitor_center.db.repositories.catalog import AgencyRow, CatalogRepository, EndpointRow
from monitor_center.db.repositories.probe_results import ProbeResultRepository
from monitor_center.db.repositories.rollups import RollupRepository
from monitor_center.db.repositories.rule_inputs import RuleInputs as RuleInputs
from monitor_center.db.repositories.series import SeriesRepository
from monitor_center.db.repositories.sla import SlaRepository

__all__ = [
    "AgencyRow",
    "CatalogRepository",
    "EndpointRow",
    "ProbeResultRepository",
    "RollupRepository",
    "SeriesRepository",
    "SlaRepository",
]
