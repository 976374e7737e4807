"""Configuration of the Prometheus + blackbox_exporter + Alertmanager reference.

What a typical operator writes to watch HTTP endpoints with the Prometheus stack: one
scrape job that sends every target through blackbox_exporter's ``/probe`` (the
relabelling from blackbox_exporter's README), an alert rule on ``probe_success == 0``,
and an Alertmanager route to a webhook.

Equivalences with the center's ``endpoint_down`` rule (``failures`` consecutive failed
probes every ``interval``):

* scrape and rule evaluation both every ``interval``;
* ``for: (failures - 1) x interval``: the alert turns pending at the evaluation that
  sees the first failed probe and fires at the one ``for`` later, which sees the
  ``failures``-th (``for: 0s`` would fire on a single failure);
* Alertmanager at its defaults, which Debian's packaged ``alertmanager.yml`` repeats:
  ``group_wait: 30s``, ``group_interval: 5m`` (repeat 3h in the package, 4h built in;
  no repeat happens within a run); grouped per ``alertname`` and ``instance``, so each
  endpoint is its own group like the center's dedup per rule x subject, and outages of
  different endpoints never wait on each other's group.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

GROUP_WAIT = 30.0
GROUP_INTERVAL = 300.0
REPEAT_INTERVAL = "3h"
ALERT = "EndpointDown"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def prometheus_config(
    targets: Iterable[tuple[str, str]],
    blackbox_port: int,
    interval: float,
    *,
    rules_file: str | None = None,
    alertmanagers: Sequence[int] = (),
) -> str:
    """``prometheus.yml`` scraping ``targets`` ((subject, url) pairs) through the
    blackbox_exporter on ``blackbox_port`` every ``interval`` seconds, alerts sent to
    every port in ``alertmanagers`` (on 127.0.0.1)."""
    # JSON is YAML: no quoting surprises in URLs.
    static = [{"targets": [url], "labels": {"subject": subject}} for subject, url in targets]
    config: dict[str, object] = {
        "global": {
            "scrape_interval": _seconds(interval),
            "evaluation_interval": _seconds(interval),
            "scrape_timeout": _seconds(min(10.0, interval)),
        },
        "scrape_configs": [
            {
                "job_name": "blackbox",
                "metrics_path": "/probe",
                "params": {"module": ["http_2xx"]},
                "static_configs": static,
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": f"127.0.0.1:{blackbox_port}"},
                ],
            }
        ],
    }
    if rules_file is not None:
        config["rule_files"] = [rules_file]
    if alertmanagers:
        am = {"static_configs": [{"targets": [f"127.0.0.1:{port}" for port in alertmanagers]}]}
        config["alerting"] = {"alertmanagers": [am]}
    return json.dumps(config, indent=1)


def rules(interval: float, failures: int) -> str:
    """The alert rule equivalent to ``endpoint_down`` with ``failures``."""
    rule = {
        "alert": ALERT,
        "expr": "probe_success == 0",
        "for": _seconds((failures - 1) * interval),
        "labels": {"severity": "critical"},
    }
    group = {"name": "bench", "interval": _seconds(interval), "rules": [rule]}
    return json.dumps({"groups": [group]}, indent=1)


def alertmanager_config(webhook_url: str) -> str:
    """``alertmanager.yml``: every alert to ``webhook_url``, resolved ones too."""
    route = {
        "receiver": "bench",
        "group_by": ["alertname", "instance"],
        "group_wait": _seconds(GROUP_WAIT),
        "group_interval": _seconds(GROUP_INTERVAL),
        "repeat_interval": REPEAT_INTERVAL,
    }
    receiver = {"name": "bench", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}
    return json.dumps({"route": route, "receivers": [receiver]}, indent=1)
