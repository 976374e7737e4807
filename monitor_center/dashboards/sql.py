"""The PostgreSQL data source's query, as a foundation-SDK dataquery.

The SDK ships query types for many data sources but none for Grafana's SQL ones, so this
module supplies one: ``SqlQuery`` (the model: the JSON Grafana stores in a panel's
``targets``) and ``Sql`` (its builder). ``register()`` teaches the SDK's runtime to decode
targets of ``grafana-postgresql-datasource`` panels back into ``SqlQuery``.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_TYPE = "grafana-postgresql-datasource"
# Provisioning creates the data source with this uid, so the dashboards find it anywhere.
DATASOURCE_UID = "monitor-center-pg"
DATASOURCE = DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)

Format = Literal["table", "time_series"]


class SqlQuery(cogvariants.Dataquery):
    """One raw SQL target (``editorMode: code``) of the PostgreSQL data source."""

    def __init__(self, raw_sql: str = "", ref_id: str = "A", fmt: Format = "table") -> None:
        self.raw_sql = raw_sql
        self.ref_id = ref_id
        self.format: Format = fmt

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it."""
        return {
            "datasource": DATASOURCE.to_json(),
            "editorMode": "code",
            "format": self.format,
            "rawQuery": True,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Decode a stored target; fields Grafana adds (``sql`` builder state) are dropped."""
        return cls(
            raw_sql=str(data.get("rawSql", "")),
            ref_id=str(data.get("refId", "A")),
            fmt="time_series" if data.get("format") == "time_series" else "table",
        )


class Sql(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builder of an ``SqlQuery``: ``Sql(text).time_series()``."""

    def __init__(self, raw_sql: str) -> None:
        self._internal = SqlQuery(raw_sql=clean(raw_sql))

    def build(self) -> SqlQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def time_series(self) -> Self:
        """Grafana's time-series format: a ``time`` column, then metric/value columns."""
        self._internal.format = "time_series"
        return self


def clean(raw_sql: str) -> str:
    """Strip the indentation of a triple-quoted query so the JSON stays readable."""
    lines = [line.rstrip() for line in raw_sql.strip("\n").splitlines()]
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    margin = min(indents, default=0)
    return "\n".join(line[margin:] for line in lines)


def register() -> None:
    """Decode PostgreSQL targets as ``SqlQuery`` (idempotent)."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=SqlQuery.from_json)
    )
