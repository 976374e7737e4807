"""Configuration of the monitoring center: fleet, rules and channels in YAML.

Typical use at start-up (the only place that reads the environment)::

    import os
    from monitor_center.config import ConfigError, load_config

    try:
        config = load_config("fleet.yaml", os.environ)
    except ConfigError as exc:
        print(exc)  # every problem, one per line: file:line: path: message

`load_config` follows ``include:`` entries, expands ``${VAR}`` from the
mapping it is given, validates every object and checks references between
them (agencies, endpoints, channels, rules).
"""

from monitor_center.config.alerting import (
    Channel,
    ChannelKind,
    Maintenance,
    Route,
    RouteMatch,
    Rule,
    RuleKind,
    Severity,
)
from monitor_center.config.durations import (
    Duration,
    PositiveDuration,
    format_duration,
    parse_duration,
)
from monitor_center.config.errors import ConfigError, ConfigIssue
from monitor_center.config.loader import load_config, parse_config_text
from monitor_center.config.models import (
    Agency,
    ApiToken,
    AuthConfig,
    CenterConfig,
    Endpoint,
    Expect,
    JsonSource,
    PrometheusSource,
    Series,
    SeriesSource,
)
from monitor_center.config.root import Config

__all__ = [
    "Agency",
    "ApiToken",
    "AuthConfig",
    "CenterConfig",
    "Channel",
    "ChannelKind",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "Duration",
    "Endpoint",
    "Expect",
    "JsonSource",
    "Maintenance",
    "PositiveDuration",
    "PrometheusSource",
    "Route",
    "RouteMatch",
    "Rule",
    "RuleKind",
    "Series",
    "SeriesSource",
    "Severity",
    "format_duration",
    "load_config",
    "parse_config_text",
    "parse_duration",
]
