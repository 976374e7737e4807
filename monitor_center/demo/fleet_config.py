"""Generate the center's YAML config for a simulated fleet.

The output follows the product's config contract (``center``, ``auth.tokens``,
``agencies``, ``endpoints``, ``rules``, and with a sink ``channels`` and ``routes``), so
the demo runs the real config loader on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import yaml

from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.fleet import SimEndpoint

CENTER_NAME = "Trung tâm Giám sát Chính phủ điện tử quốc gia (demo)"
CENTER_TIMEZONE = "Asia/Ho_Chi_Minh"
NATIONAL_PLATFORM = "ngsp"
# The National Public Service Portal authenticates citizens against the population
# database and exchanges dossiers with ministries and provinces over NGSP.
_PLATFORM_DEPENDENCIES = {"dvcqg": ("ngsp", "csdldc")}
SINK_CHANNEL = "demo-sink"


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
) -> str:
    """A complete config for probing ``sim_endpoints``, as YAML text.

    With ``sink_url``, every alert is routed to a webhook channel there, signed with
    ``sink_secret`` when given. Vietnamese names keep their diacritics (the text is meant
    to be written as UTF-8). Raises ``ValueError`` when an endpoint belongs to an agency
    not in ``agencies``.
    """
    known = {agency.id for agency in agencies}
    for endpoint in sim_endpoints:
        if endpoint.agency_id not in known:
            raise ValueError(
                f"endpoint {endpoint.id!r} names unknown agency {endpoint.agency_id!r}"
            )
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
        "rules": demo_rules(),
    }
    if sink_url is not None:
        document.update(_sink_routing(sink_url, sink_secret))
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


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
