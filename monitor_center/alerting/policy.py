"""Turn the config (and the stored silences and windows) into the engine's ``Policy``
and the dispatcher's channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from alerts.channels import Channel, build_channel
from alerts.policy import MaintenanceSpec, Policy, RouteSpec, SilenceSpec
from alerts.rules import SubjectInfo
from monitor_center.config import Config
from monitor_center.config.alerting import Channel as ChannelConfig
from monitor_center.db.repositories.silences import MaintenanceRow, SilenceRow


def route_specs(config: Config) -> list[RouteSpec]:
    specs = []
    for route in config.routes:
        match = route.match
        specs.append(
            RouteSpec(
                channels=tuple(route.channels),
                severity=match.severity if match else None,
                agency=match.agency if match else None,
                agency_kind=match.agency_kind if match else None,
                kind=match.kind if match else None,
                rule=match.rule if match else None,
                group_wait=route.group_wait,
                repeat_interval=route.repeat_interval,
                escalate_after=route.escalate_after,
                escalate_to=tuple(route.escalate_to),
            )
        )
    return specs


def build_policy(
    config: Config, silences: Sequence[SilenceRow], windows: Sequence[MaintenanceRow]
) -> Policy:
    """Routes and dependencies from the config; silences and windows from the database
    (the config's own windows are mirrored there, so they come in with the rest)."""
    return Policy(
        routes=route_specs(config),
        silences=[SilenceSpec(s.id, s.matchers, s.starts_at, s.ends_at) for s in silences],
        maintenance=[
            MaintenanceSpec(w.starts_at, w.ends_at, w.agency_id, w.endpoint_id, w.recurring)
            for w in windows
        ],
        depends_on={a.id: tuple(a.depends_on) for a in config.agencies},
    )


def config_maintenance(config: Config) -> list[dict[str, Any]]:
    """The config's windows as rows for ``SilenceRepository.sync_config_maintenance``."""
    return [
        {
            "name": m.id,
            "agency_id": m.agency,
            "endpoint_id": m.endpoint,
            "starts_at": m.start,
            "ends_at": m.end,
            "recurring": m.recurring,
            "comment": m.comment or "",
        }
        for m in config.maintenance
    ]


def channel_settings(channel: ChannelConfig) -> dict[str, Any]:
    """A channel's config keys as plain values, secrets unwrapped for the transport."""
    raw = channel.model_dump(exclude={"id", "kind"}, exclude_none=True)
    extras = channel.model_extra or {}
    raw.update(extras)
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in raw.items()}


def build_channels(config: Config) -> dict[str, Channel]:
    return {c.id: build_channel(c.kind, c.id, channel_settings(c)) for c in config.channels}


def endpoint_subjects(config: Config) -> dict[str, SubjectInfo]:
    """Every endpoint as a rule subject, with its agency and agency kind."""
    kinds = {a.id: a.kind for a in config.agencies}
    return {
        e.id: SubjectInfo(e.id, "endpoint", e.agency, kinds.get(e.agency)) for e in config.endpoints
    }


def series_subjects(config: Config) -> dict[str, SubjectInfo]:
    """Every series as a rule subject (ids are a namespace apart from endpoints')."""
    kinds = {a.id: a.kind for a in config.agencies}
    return {s.id: SubjectInfo(s.id, "series", s.agency, kinds.get(s.agency)) for s in config.series}
