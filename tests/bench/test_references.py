"""The reference configurations are valid for the real tools, and process memory is read
from the real process tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.memory import peak_mb, rss_mb, tree
from bench.prom_config import alertmanager_config, prometheus_config, rules


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (bench/install-references.sh installs it)")
    return path


def test_prometheus_accepts_the_reference_scrape_config_and_rule(tmp_path: Path) -> None:
    promtool = _tool("promtool")
    (tmp_path / "rules.yml").write_text(rules(10.0, 3))
    config = prometheus_config(
        [("portal-1", "http://127.0.0.1:9/e/portal-1")],
        9115,
        10.0,
        rules_file=str(tmp_path / "rules.yml"),
        alertmanagers=(9093, 9094),
    )
    (tmp_path / "prometheus.yml").write_text(config)
    checked = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 rules found" in checked.stdout


def test_the_reference_rule_waits_for_the_same_number_of_failed_probes() -> None:
    # Pending at the first failed probe's evaluation, firing two intervals later: the
    # third failed probe, as `endpoint_down` with `failures: 3`.
    assert '"for": "20s"' in rules(10.0, 3)
    assert '"for": "0s"' in rules(10.0, 1)


def test_alertmanager_accepts_the_reference_route(tmp_path: Path) -> None:
    amtool = _tool("amtool")
    (tmp_path / "am.yml").write_text(alertmanager_config("http://127.0.0.1:9/hook"))
    checked = subprocess.run(
        [amtool, "check-config", str(tmp_path / "am.yml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_memory_of_a_process_tree_includes_its_children() -> None:
    # A child holding 64 MB under a parent that holds little: the tree's figure has it.
    child = "x = bytearray(64 * 1024 * 1024); import sys; sys.stdout.write('ready\\n');"
    child += " sys.stdout.flush(); sys.stdin.read()"
    parent = (
        "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', sys.argv[1]],"
        " stdin=sys.stdin, stdout=sys.stdout); p.wait()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", parent, child], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdin is not None
        try:
            assert proc.stdout.readline() == b"ready\n"
            assert rss_mb([proc.pid]) < 64
            assert rss_mb(tree(proc.pid)) >= 64
            assert peak_mb(tree(proc.pid)) >= 64
        finally:
            proc.stdin.close()
            proc.wait(10)
