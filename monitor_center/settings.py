"""The one settings object, built from the environment at start-up and passed in.

Nothing else in the code base reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process settings; the fleet itself comes from the YAML config."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", frozen=True, extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="libpq URL of the center's database (MONITOR_DATABASE_URL)"
    )
    timescaledb: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="use TimescaleDB hypertables: auto = when the extension can be loaded",
    )
    pool_min_size: int = 2
    pool_max_size: int = 10
    write_batch_size: int = Field(default=2000, ge=1)
    write_flush_interval: float = Field(default=0.25, gt=0)
    write_buffer_limit: int = Field(
        default=50_000,
        ge=1,
        description="results (and, apart, series readings) kept in memory while the database"
        " is away; past it the oldest go to the on-disk spool",
    )
    spool_dir: Path = Field(
        default=Path("spool"),
        description="the on-disk spool of writes the database could not take yet"
        " (relative to the working directory; one folder per database inside)",
    )
    spool_max_bytes: int = Field(
        default=1024**3,
        ge=4096,
        description="cap of the spool per kind (results, series); past it the oldest"
        " segments are dropped and counted",
    )
    connect_retry_max_seconds: float = Field(
        default=30.0, gt=0, description="cap of the back-off between start-up connection tries"
    )
    connect_give_up_seconds: float | None = Field(
        default=None, description="stop retrying the database at start after this long"
    )
    probe_workers: int = Field(
        default=0,
        ge=0,
        description="probe in this many worker processes; 0 = in the service process",
    )
    rule_eval_interval: float = Field(
        default=15.0,
        gt=0,
        description="seconds between rounds of the periodic alert rules, repeats and escalations",
    )
    rollup_interval: float = Field(
        default=60.0,
        gt=0,
        description="seconds between rollup passes (changed hourly and daily buckets re-rolled)",
    )
    rollup_day_refresh: float = Field(
        default=900.0,
        ge=0,
        description="seconds between re-rolls of the current day (a whole day of raw rows)",
    )
    raw_retention_days: int = Field(
        default=90,
        ge=1,
        description="drop raw probe results and series samples after this many days"
        " (once rolled up; rollups are kept)",
    )
    live_coalesce: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="seconds the live feed gathers events before writing them to every"
        " client in one write per connection; 0 = write each event at once",
    )
    live_feed_shared: bool = Field(
        default=True,
        description="share the live feed with every serve process on the same database"
        " (PostgreSQL LISTEN/NOTIFY); off = this process's events only",
    )
    series_push_max_samples: int = Field(
        default=10_000,
        ge=1,
        description="most samples one POST /api/v1/series/{id}/samples may carry (413 past it)",
    )
    series_push_rate: float = Field(
        default=5.0,
        ge=0,
        description="pushes (POST /api/v1/series/{id}/samples) a second per API token, after"
        " the burst; past it 429 with Retry-After. 0 = no limit",
    )
    series_push_burst: int = Field(
        default=20,
        ge=1,
        description="pushes one API token may make at once before series_push_rate applies",
    )
    series_max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        description="cap on a series source's (decompressed) response body",
    )
    cluster_heartbeat_interval: float = Field(
        default=2.0,
        gt=0,
        description="seconds between a process's cluster heartbeats (membership, lease"
        " renewal, claims and hand-overs)",
    )
    cluster_lease_ttl: float = Field(
        default=6.0,
        gt=0,
        description="seconds a heartbeat keeps a process live and its leases (endpoints,"
        " leader) held; at least two heartbeats",
    )
    cluster_advertise_url: str | None = Field(
        default=None,
        description="the URL at which the other processes reach this serve process's API"
        " (forwarded alert routes); default: the host and port it serves on",
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> Settings:
        # A lease that lapses between two heartbeats would pass from process to process
        # whenever one heartbeat is a little late.
        if self.cluster_lease_ttl < 2 * self.cluster_heartbeat_interval:
            raise ValueError(
                f"cluster_lease_ttl ({self.cluster_lease_ttl:g}s) must be at least twice"
                f" cluster_heartbeat_interval ({self.cluster_heartbeat_interval:g}s)"
            )
        return self
