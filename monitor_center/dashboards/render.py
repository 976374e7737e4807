"""Build the dashboards and turn them into the JSON files Grafana loads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from monitor_center.dashboards import agency, alert_history, kpi, overview, sla
from monitor_center.dashboards.base import number_panels

# File name (without .json) -> builder, in the order the README lists them.
DASHBOARDS: dict[str, Callable[[], dashboard_b.Dashboard]] = {
    "national-overview": overview.build,
    "agency-detail": agency.build,
    "sla-history": sla.build,
    "kpi-targets": kpi.build,
    "alerts": alert_history.build,
}


def build_all() -> dict[str, dict[str, Any]]:
    """Each dashboard's JSON model (plain dicts and lists), by file name."""
    models: dict[str, dict[str, Any]] = {}
    for name, build in DASHBOARDS.items():
        model = number_panels(build().build())
        # A round trip through the encoder turns the SDK's objects into plain JSON values.
        models[name] = json.loads(json.dumps(model, cls=JSONEncoder))
    return models


def to_text(model: dict[str, Any]) -> str:
    """Stable JSON text: sorted keys and a final newline, so diffs show real changes."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """Each dashboard's JSON text by file name (``name.json``)."""
    return {f"{name}.json": to_text(model) for name, model in build_all().items()}


def write_all(out: Path) -> list[tuple[Path, bool]]:
    """Write every dashboard into ``out``; return each path and whether it changed."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, bool]] = []
    for filename, text in render_all().items():
        path = out / filename
        changed = not path.exists() or path.read_text("utf-8") != text
        if changed:
            path.write_text(text, "utf-8")
        written.append((path, changed))
    return written
