"""Generate the center's YAML config for a simulated fleet.

The output follows the product's config contract (``center``, ``auth.tokens``,
``agencies``, ``endpoints``, ``rules``; with series ``series``; with a sink ``channels``
and ``routes``; with maintenance windows ``maintenance``), so the demo runs the real
config loader on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

import yaml

from monitor_center.config import format_duration
from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.fleet import SimEndpoint, SimSeries

CENTER_NAME = "Trung tâm Giám sát Chính phủ điện tử quốc gia (demo)"
CENTER_TIMEZONE = "Asia/Ho_Chi_Minh"
NATIONAL_PLATFORM = "ngsp"
# The National Public Service Portal authenticates citizens against the population
# database and exchanges dossiers with ministries and provinces over NGSP.
_PLATFORM_DEPENDENCIES = {"dvcqg": ("ngsp", "csdldc")}
SINK_CHANNEL = "demo-sink"
NGSP_TRANSACTIONS = "ngsp-transactions"
NATIONAL_LEVEL4 = "dvcqg-level4-share"


def demo_rules() -> list[dict[str, object]]:
    """One rule per probe-driven kind, so every kind can be seen firing in the demo.

    The fleet's ``slow`` fault adds 2 s, which takes a portal's p95 over the threshold;
    normal latencies stay far below it. The platforms carry a 99.5 % SLO.
    """
    return [
        {"id": "endpoint-down", "kind": "endpoint_down", "severity": "critical", "failures": 2},
        {
            "id": "slow-portal",
            "kind": "latency",
            "severity": "warning",
            "threshold": "2s",
            "percentile": 95,
            "window": "1m",
        },
        {
            "id": "platform-slo",
            "kind": "availability",
            "severity": "critical",
            "objective": 99.5,
            "match": {"agency_kind": "platform"},
        },
    ]


def series_rules(series_ids: Iterable[str]) -> list[dict[str, object]]:
    """Rules on the fleet's series, for those of them that are present.

    NGSP's busiest 10 minutes carry about 160 transactions, a night's about 3: with
    ``min_volume: 50`` only working hours are judged, so nights and Sundays never page.
    The national level-4 share sits below its 30 % target all year, as in 2020: the
    ``kpi_min`` alert is firing from the start (per-province shares show in the
    scorecard rather than as 40 alerts).
    """
    present = set(series_ids)
    rules: list[dict[str, object]] = []
    if NGSP_TRANSACTIONS in present:
        rules.append(
            {
                "id": "ngsp-volume-drop",
                "kind": "volume_drop",
                "severity": "warning",
                "series": NGSP_TRANSACTIONS,
                "drop_percent": 50,
                "window": "10m",
                "baseline": "7d",
                "min_volume": 50,
            }
        )
    if NATIONAL_LEVEL4 in present:
        rules.append(
            {
                "id": "level4-below-target",
                "kind": "kpi_min",
                "severity": "warning",
                "series": NATIONAL_LEVEL4,
            }
        )
    return rules


def fleet_config_yaml(
    sim_endpoints: Sequence[SimEndpoint],
    agencies: Sequence[AgencyInfo],
    *,
    interval: str = "10s",
    timeout: str = "5s",
    viewer_token: str,
    operator_token: str,
    admin_token: str,
    sink_url: str | None = None,
    sink_secret: str | None = None,
    series: Sequence[SimSeries] = (),
    maintenance: Sequence[Mapping[str, object]] = (),
) -> str:
    """A complete config for probing ``sim_endpoints``, as YAML text.

    With ``sink_url``, every alert is routed to a webhook channel there, signed with
    ``sink_secret`` when given. ``series`` (the fleet's transaction counters and KPIs)
    come with their rules (``series_rules``); ``maintenance`` entries are copied as
    given. Vietnamese names keep their diacritics (the text is meant to be written as
    UTF-8). Raises ``ValueError`` when an endpoint or series belongs to an agency not in
    ``agencies``.
    """
    known = {agency.id for agency in agencies}
    _check_owners(known, sim_endpoints, series)
    document: dict[str, object] = {
        "center": {"name": CENTER_NAME, "timezone": CENTER_TIMEZONE},
        "auth": {
            "tokens": [
                {"name": "demo-viewer", "token": viewer_token, "role": "viewer"},
                {"name": "demo-operator", "token": operator_token, "role": "operator"},
                {"name": "demo-admin", "token": admin_token, "role": "admin"},
            ]
        },
        "agencies": [_agency_entry(agency, known) for agency in agencies],
        "endpoints": [_endpoint_entry(ep, interval, timeout) for ep in sim_endpoints],
    }
    if series:
        document["series"] = [_series_entry(s) for s in series]
    document["rules"] = [*demo_rules(), *series_rules(s.id for s in series)]
    if maintenance:
        document["maintenance"] = [dict(entry) for entry in maintenance]
    if sink_url is not None:
        document.update(_sink_routing(sink_url, sink_secret))
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


def _check_owners(
    known: set[str], endpoints: Sequence[SimEndpoint], series: Sequence[SimSeries]
) -> None:
    owners = [("endpoint", e.id, e.agency_id) for e in endpoints]
    owners += [("series", s.id, s.agency_id) for s in series]
    for kind, item_id, agency_id in owners:
        if agency_id not in known:
            raise ValueError(f"{kind} {item_id!r} names unknown agency {agency_id!r}")


def _sink_routing(url: str, secret: str | None) -> dict[str, object]:
    """A webhook channel to the demo's sink and a catch-all route to it."""
    channel: dict[str, object] = {"id": SINK_CHANNEL, "kind": "webhook", "url": url}
    if secret is not None:
        channel["secret"] = secret
    return {"channels": [channel], "routes": [{"channels": [SINK_CHANNEL]}]}


def agency_dependencies(agency: AgencyInfo, known: Iterable[str]) -> list[str]:
    """Which agencies ``agency`` depends on, limited to those in ``known``.

    Ministries and provinces reach the national platform (through their LGSP for a
    province), so both depend on NGSP; this is what lets an NGSP outage inhibit the
    alerts it explains.
    """
    present = set(known)
    if agency.kind == "platform":
        wanted: tuple[str, ...] = _PLATFORM_DEPENDENCIES.get(agency.id, ())
    else:
        wanted = (NATIONAL_PLATFORM,)
    return [dep for dep in wanted if dep in present and dep != agency.id]


def _agency_entry(agency: AgencyInfo, known: set[str]) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": agency.id,
        "name": agency.name_vi,
        "kind": agency.kind,
        "depends_on": agency_dependencies(agency, known),
        "name_en": agency.name_en,
    }
    # National bodies have no place on the province map; leave the keys out, not null.
    if agency.lat is not None and agency.lon is not None:
        entry["lat"] = agency.lat
        entry["lon"] = agency.lon
    return entry


def _endpoint_entry(endpoint: SimEndpoint, interval: str, timeout: str) -> dict[str, object]:
    expect: dict[str, object] = {"status": [200]}
    if endpoint.body_contains is not None:
        expect["body_contains"] = endpoint.body_contains
    if endpoint.json_path is not None:
        expect["json_path"] = endpoint.json_path
        if endpoint.equals is not None:
            expect["equals"] = endpoint.equals
    return {
        "id": endpoint.id,
        "agency": endpoint.agency_id,
        "url": endpoint.url,
        "interval": interval,
        "timeout": timeout,
        "expect": expect,
    }


def _series_entry(series: SimSeries) -> dict[str, object]:
    source: dict[str, object] = {"type": series.source, "url": series.url}
    if series.source == "json":
        source["path"] = f"$.{series.key}"
    else:
        source["metric"] = series.key
        source["labels"] = dict(series.labels)
    entry: dict[str, object] = {
        "id": series.id,
        "agency": series.agency_id,
        "kind": series.kind,
        "unit": series.unit,
        "interval": format_duration(timedelta(seconds=series.interval)),
    }
    if series.target is not None:
        entry["target"] = series.target
        entry["target_direction"] = series.direction
    entry["source"] = source
    return entry
