"""docker-compose.yml: accepted by `docker compose config` (no engine needed) and sound."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "GRAFANA_DB_PASSWORD": "reader-secret",
    "GRAFANA_ADMIN_PASSWORD": "admin-secret",
}


def _compose_command() -> list[str]:
    """`docker compose` (the plugin), else the standalone `docker-compose`; else skip."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone is not None:
        return [standalone]
    pytest.skip("neither the docker compose plugin nor docker-compose is installed")


def _config(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*_compose_command(), "-f", str(ROOT / "docker-compose.yml"), *args, "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**clean, "MONITOR_CONFIG": str(ROOT / "examples" / "fleet.yaml"), **env},
        check=False,
    )


@pytest.mark.parametrize("profile", [[], ["--profile", "demo"]], ids=["default", "demo"])
def test_compose_config_accepts_the_file(profile: list[str]) -> None:
    run = _config(*profile, env=SECRETS)
    assert run.returncode == 0, run.stderr
    services = yaml.safe_load(run.stdout)["services"]
    assert {"db", "center", "grafana-login", "grafana"} <= set(services)
    # docker-compose 1.x lists every service; the plugin only those of active profiles.
    assert ("demo" in services) or not profile
    assert services.get("demo", {}).get("profiles", ["demo"]) == ["demo"]


def test_compose_refuses_to_start_without_secrets() -> None:
    run = _config(env={})
    assert run.returncode != 0
    assert "POSTGRES_PASSWORD" in run.stderr


def test_no_secret_is_committed() -> None:
    """Every password in the file is a required variable, none has a default value."""
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    for name in SECRETS:
        assert f"${{{name}:?" in text
        assert f"${{{name}:-" not in text


def test_stack_layout() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    services = doc["services"]
    assert services["db"]["image"].startswith("timescale/timescaledb:")
    assert services["grafana"]["image"].startswith("grafana/grafana-oss:")
    assert services["center"]["build"] == "."
    assert services["demo"]["profiles"] == ["demo"]
    assert set(doc["volumes"]) == {"center-data", "db-data", "grafana-data", "demo-data"}
    # The working directory holds the outage spool: it must survive a new container.
    assert "center-data:/var/lib/monitor-center" in services["center"]["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "\nUSER monitor\n" in dockerfile
    assert "\nHEALTHCHECK " in dockerfile
