"""The root `Config` model: the whole fleet, rules and channels."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr

from monitor_center.config.alerting import Channel, Maintenance, Route, Rule
from monitor_center.config.fields import ConfigModel
from monitor_center.config.models import Agency, AuthConfig, CenterConfig, Endpoint, Series


class Config(ConfigModel):
    """A validated configuration.

    Build it with `load_config` or `parse_config_text`: they also check the
    references between objects (unknown agencies, channels, duplicate ids),
    which this model alone does not.
    """

    center: CenterConfig = CenterConfig()
    auth: AuthConfig = AuthConfig()
    agencies: list[Agency] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    series: list[Series] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)

    # Lookup indexes: the API resolves ids on every request. Built eagerly so
    # that equal configs have equal private state (pydantic compares it), and
    # rebuilt if a model_copy(update=...) replaced the lists they were built from.
    _agencies: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _endpoints: dict[str, Endpoint] = PrivateAttr(default_factory=dict)
    _indexed: tuple[list[Agency], list[Endpoint]] | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        """Build the id indexes."""
        self._index()

    def _index(self) -> None:
        indexed = self._indexed
        if indexed is not None and indexed[0] is self.agencies and indexed[1] is self.endpoints:
            return
        # First definition wins, although duplicates are rejected at load time.
        self._agencies = {a.id: a for a in reversed(self.agencies)}
        self._endpoints = {e.id: e for e in reversed(self.endpoints)}
        self._indexed = (self.agencies, self.endpoints)

    def agency(self, agency_id: str) -> Agency | None:
        """The agency with this id, or None if there is none."""
        self._index()
        return self._agencies.get(agency_id)

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        """The endpoint with this id, or None (e.g. an API request for a removed id)."""
        self._index()
        return self._endpoints.get(endpoint_id)


# Top-level keys a file may contain; `include` is consumed by the loader.
TOP_LEVEL_KEYS: tuple[str, ...] = (*Config.model_fields, "include")
