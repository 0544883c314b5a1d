"""Prometheus recording and alerting rules for Connectly API errors.

`Config` contains every selector, window, threshold and severity; `render` turns
it into a Prometheus rule file, a prometheus-operator PrometheusRule manifest
or Grafana alert provisioning. `load_config` applies overrides and raises
`ConfigError` for a bad key or value.
"""

from __future__ import annotations

from ._config import (
    AbsentConfig,
    BurnRate,
    Config,
    ErrorBudgetConfig,
    ErrorClassConfig,
    ErrorRatioConfig,
    ErrorSpikeConfig,
    GrafanaConfig,
    HookErrorsConfig,
    LatencyConfig,
    OperatorConfig,
    RateLimitConfig,
    TransportConfig,
    UnparsedConfig,
)
from ._load import (
    ConfigError,
    config_as_dict,
    dump_config,
    load_config,
    merge_overrides,
    parse_assignment,
    read_config_file,
)
from ._render import FORMATS, render, rule_groups

__all__ = [
    "FORMATS",
    "AbsentConfig",
    "BurnRate",
    "Config",
    "ConfigError",
    "ErrorBudgetConfig",
    "ErrorClassConfig",
    "ErrorRatioConfig",
    "ErrorSpikeConfig",
    "GrafanaConfig",
    "HookErrorsConfig",
    "LatencyConfig",
    "OperatorConfig",
    "RateLimitConfig",
    "TransportConfig",
    "UnparsedConfig",
    "config_as_dict",
    "dump_config",
    "load_config",
    "merge_overrides",
    "parse_assignment",
    "read_config_file",
    "render",
    "rule_groups",
]
