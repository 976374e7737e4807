"""Self-monitoring: Prometheus metrics on an injected registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.results import ProbeResult
from monitor_center.live import Hub
from monitor_center.state import EndpointStates

PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SKIP_REASONS = ("in_flight", "missed", "retrying")
RETRY_OUTCOMES = ("ok", "failed")


class Metrics:
    """Every metric the center exposes, registered on the registry passed in."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.probe_results = Counter(
            "monitor_center_probe_results",
            "Probe results by outcome (success or failure).",
            ["outcome"],
            registry=registry,
        )
        self.probe_duration = Histogram(
            "monitor_center_probe_duration_seconds",
            "Wall time of one probe, start to verdict.",
            buckets=PROBE_BUCKETS,
            registry=registry,
        )
        self.skipped_runs = Counter(
            "monitor_center_scheduler_skipped_runs",
            "Scheduled probe runs not started: previous still in flight, missed, or"
            " the endpoint was being re-probed.",
            ["reason"],
            registry=registry,
        )
        # Labelled by outcome only: a label per endpoint would multiply the series by
        # the fleet's size.
        self.probe_retries = Counter(
            "monitor_center_probe_retries",
            "Fast re-probes of a failing endpoint (retry_interval), by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.results_written = Counter(
            "monitor_center_results_written",
            "Probe results stored in the database.",
            registry=registry,
        )
        self.storage_errors = Counter(
            "monitor_center_storage_errors",
            "Failed attempts to write a batch to the database.",
            registry=registry,
        )
        self.write_queue = Gauge(
            "monitor_center_write_queue_depth",
            "Results waiting to be written to the database.",
            registry=registry,
        )
        self.results_dropped = Counter(
            "monitor_center_results_dropped",
            "Results dropped because the write buffer was full.",
            registry=registry,
        )
        for outcome in ("success", "failure"):
            self.probe_results.labels(outcome)
        for reason in SKIP_REASONS:
            self.skipped_runs.labels(reason)
        for outcome in RETRY_OUTCOMES:
            self.probe_retries.labels(outcome)

    def observe_probe(self, result: ProbeResult) -> None:
        self.probe_results.labels("success" if result.ok else "failure").inc()
        self.probe_duration.observe(result.latency.total)

    def watch_writer(self, pending: Callable[[], int]) -> None:
        """Read the write queue depth from the writer at scrape time (no per-result cost)."""
        self.write_queue.set_function(pending)

    def watch_endpoints(self, states: EndpointStates) -> None:
        """Export each endpoint's up state, read from ``states`` at scrape time."""
        self.registry.register(_EndpointUpCollector(states))

    def watch_live(self, hub: Hub) -> None:
        """Export the live feed's subscribers and deliveries, read from ``hub`` at scrape time."""
        self.registry.register(_LiveFeedCollector(hub))


class _LiveFeedCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        clients = GaugeMetricFamily(
            "monitor_center_live_clients", "Clients subscribed to the live feed now."
        )
        clients.add_metric([], self._hub.subscribers)
        yield clients
        sent = CounterMetricFamily(
            "monitor_center_live_messages_sent",
            "Live feed messages sent to clients: 'direct' written by the publisher straight"
            " to a caught-up connection, 'queued' sent by a client's reader (snapshots,"
            " replays, and what piled up while the connection was backed up).",
            labels=["path"],
        )
        sent.add_metric(["direct"], self._hub.sent_direct)
        sent.add_metric(["queued"], self._hub.handed_to_readers)
        yield sent


class _EndpointUpCollector(Collector):
    def __init__(self, states: EndpointStates) -> None:
        self._states = states

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "monitor_center_endpoint_up",
            "1 when the monitored endpoint's last fresh probe succeeded, 0 when it failed;"
            " absent while unknown.",
            labels=["endpoint", "agency"],
        )
        for view in self._states.views():
            if view.state != "unknown":
                up.add_metric([view.id, view.agency], 1.0 if view.state == "up" else 0.0)
        yield up
