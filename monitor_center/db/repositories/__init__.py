"""Repositories: raw SQL, one module per table family."""

from monitor_center.db.repositories.catalog import AgencyRow, CatalogRepository, EndpointRow
from monitor_center.db.repositories.probe_results import ProbeResultRepository

__all__ = ["AgencyRow", "CatalogRepository", "EndpointRow", "ProbeResultRepository"]
