"""``monitor-center worker`` refusing settings that would make leases flap."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cluster.harness import CLI, fleet_yaml


def test_a_worker_refuses_a_lease_ttl_shorter_than_two_heartbeats(tmp_path: Path) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(fleet_yaml("http://127.0.0.1:9", "http://127.0.0.1:9"), encoding="utf-8")
    env = {
        **os.environ,
        "MONITOR_DATABASE_URL": "postgresql://127.0.0.1:9/nowhere",
        "MONITOR_CLUSTER_HEARTBEAT_INTERVAL": "2",
        "MONITOR_CLUSTER_LEASE_TTL": "3",
    }
    done = subprocess.run(
        [*CLI, "worker", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "cluster_lease_ttl (3s) must be at least twice" in done.stderr
