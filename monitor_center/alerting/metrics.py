"""Alerting's self-monitoring: alerts by state, notifications by outcome, outbox depth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from alerts.model import Alert


class _OpenAlerts(Collector):
    """``monitor_center_alerts{state,severity}``, read from the engine at scrape time."""

    def __init__(self, source: Callable[[], Sequence[Alert]]) -> None:
        self._source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "monitor_center_alerts",
            "Open alerts by state and severity (suppressed ones included).",
            labels=["state", "severity", "suppressed"],
        )
        counts = Counter(
            (a.state, a.severity, "true" if a.suppressed else "false") for a in self._source()
        )
        for (state, severity, suppressed), n in sorted(counts.items()):
            family.add_metric([state, severity, suppressed], n)
        yield family


class AlertMetrics:
    """Registered on the service's registry (injected, never the global one)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = PromCounter(
            "monitor_center_notifications",
            "Notification attempts by channel and outcome (sent, retry, permanent, expired).",
            ["channel", "outcome"],
            registry=registry,
        )
        self.transitions = PromCounter(
            "monitor_center_alert_events",
            "Alert events recorded (pending, firing, resolved, acknowledged...).",
            ["event"],
            registry=registry,
        )
        self.outbox_depth = Gauge(
            "monitor_center_outbox_depth", "Notifications waiting to be sent.", registry=registry
        )
        self.outbox_age = Gauge(
            "monitor_center_outbox_oldest_age_seconds",
            "Age of the oldest notification waiting to be sent.",
            registry=registry,
        )
        self._registry = registry
        self._collector: _OpenAlerts | None = None

    def watch(self, source: Callable[[], Sequence[Alert]]) -> None:
        if self._collector is not None:
            self._registry.unregister(self._collector)
        self._collector = _OpenAlerts(source)
        self._registry.register(self._collector)

    def unwatch(self) -> None:
        if self._collector is not None:
            self._registry.unregister(self._collector)
            self._collector = None

    def outcome(self, channel: str, outcome: str) -> None:
        self.notifications.labels(channel=channel, outcome=outcome).inc()
