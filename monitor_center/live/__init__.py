"""The live feed: an in-process hub with sequence numbers, a resume ring and bounded queues,
the bridge that shares it between processes through PostgreSQL, and the builders of the
messages it carries."""

from monitor_center.live.bridge import SharedFeed
from monitor_center.live.hub import Hub, SnapshotProvider, Subscription, SubscriptionClosed
from monitor_center.live.messages import (
    agency_entry,
    alert_message,
    endpoint_entry,
    endpoint_message,
    json_safe,
)

__all__ = [
    "Hub",
    "SharedFeed",
    "SnapshotProvider",
    "Subscription",
    "SubscriptionClosed",
    "agency_entry",
    "alert_message",
    "endpoint_entry",
    "endpoint_message",
    "json_safe",
]
