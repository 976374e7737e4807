"""The HTTP surface: REST API under /api/v1, /healthz, /metrics."""

from monitor_center.api.app import AppContext, create_app

__all__ = ["AppContext", "create_app"]
