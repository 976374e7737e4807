"""From configured endpoints to what the scheduler probes: specs and targets."""

from __future__ import annotations

from collectors.http import ProbeSpec
from monitor_center.config import Config, Endpoint
from monitor_center.scheduling import Target


def probe_spec(endpoint: Endpoint) -> ProbeSpec:
    """The collector's view of a configured endpoint."""
    return ProbeSpec(
        endpoint_id=endpoint.id,
        url=endpoint.url,
        timeout=endpoint.timeout.total_seconds(),
        expect_status=endpoint.expected_statuses,
        body_contains=endpoint.expect.body_contains,
        json_path=endpoint.expect.json_path,
        equals=endpoint.expect.equals,
        max_body_bytes=endpoint.max_body_bytes,
    )


def probe_targets(config: Config) -> list[Target]:
    """One target per endpoint, with fast re-probes where ``retry_interval`` is set.

    A failure is re-probed up to ``failures - 1`` times, ``failures`` taken from the
    strictest ``endpoint_down`` rule (3 without one), so the rule can fire before the
    next interval.
    """
    # getattr: ``failures`` only means something on endpoint_down rules, and a rule that
    # leaves it out means the documented default, 3.
    thresholds = [
        getattr(rule, "failures", None) for rule in config.rules if rule.kind == "endpoint_down"
    ]
    failures = max((f if isinstance(f, int) else 3 for f in thresholds), default=3)
    return [
        Target(
            probe_spec(e),
            e.interval.total_seconds(),
            retry_interval=e.retry_interval.total_seconds() if e.retry_interval else None,
            retries=max(failures - 1, 0),
        )
        for e in config.endpoints
    ]
