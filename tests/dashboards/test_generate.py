"""The generated dashboards: committed JSON up to date, SDK round trip, provisioning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from monitor_center.dashboards import DASHBOARDS, build_all, render_all
from monitor_center.dashboards.sql import DATASOURCE_TYPE, DATASOURCE_UID, SqlQuery, register

ROOT = Path(__file__).resolve().parents[2]
JSON_DIR = ROOT / "dashboards" / "json"
PROVISIONING = ROOT / "dashboards" / "provisioning"


def test_committed_json_is_what_the_code_generates() -> None:
    """Run `monitor-center dashboards build` and commit when this fails."""
    committed = {path.name: path.read_text("utf-8") for path in JSON_DIR.glob("*.json")}
    assert committed == render_all()


def test_build_command_writes_the_same_files(tmp_path: Path) -> None:
    out = tmp_path / "json"
    run = subprocess.run(
        [sys.executable, "-m", "monitor_center.cli", "dashboards", "build", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(": written") == len(DASHBOARDS)
    for path in JSON_DIR.glob("*.json"):
        assert (out / path.name).read_text("utf-8") == path.read_text("utf-8")
    again = subprocess.run(
        [sys.executable, "-m", "monitor_center.cli", "dashboards", "build", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert again.stdout.count(": unchanged") == len(DASHBOARDS)


@pytest.mark.parametrize("path", sorted(JSON_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_json_loads_back_into_the_sdk(path: Path) -> None:
    """Each file decodes into the SDK's Dashboard, its targets into SqlQuery, unchanged."""
    register()
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    model = Dashboard.from_json(data)
    assert model.uid == data["uid"]
    targets = [t for panel in model.panels or [] for t in getattr(panel, "targets", None) or []]
    assert targets
    assert all(isinstance(t, SqlQuery) for t in targets)
    assert json.loads(json.dumps(model, cls=JSONEncoder)) == data


def test_dashboards_are_distinct_and_use_the_provisioned_source() -> None:
    models = build_all()
    uids = [m["uid"] for m in models.values()]
    assert len(set(uids)) == len(uids) == 5
    for model in models.values():
        ids = [panel["id"] for panel in model["panels"]]
        assert len(set(ids)) == len(ids)
        for panel in model["panels"]:
            assert panel["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
            assert panel["targets"], panel["title"]


def test_datasource_provisioning_matches_the_dashboards() -> None:
    doc = yaml.safe_load((PROVISIONING / "datasources" / "monitor-center.yaml").read_text())
    (source,) = doc["datasources"]
    assert source["type"] == DATASOURCE_TYPE
    assert source["uid"] == DATASOURCE_UID
    # The password is never in the file: Grafana reads it from its environment.
    assert source["secureJsonData"]["password"] == "${MONITOR_GRAFANA_DB_PASSWORD}"
    assert source["jsonData"]["timescaledb"] is True


def test_dashboard_provider_points_at_the_mounted_json() -> None:
    doc = yaml.safe_load((PROVISIONING / "dashboards" / "monitor-center.yaml").read_text())
    (provider,) = doc["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./dashboards/json:{provider['options']['path']}:ro" in mounts
    assert "./dashboards/provisioning:/etc/grafana/provisioning:ro" in mounts
