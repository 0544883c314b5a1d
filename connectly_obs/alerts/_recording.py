"""Recording rules: the rates and ratios that the alerts and dashboards read."""

from __future__ import annotations

from typing import Any

from .._names import (
    ERRORS_TOTAL,
    LABEL_CODE,
    LABEL_EXCEPTION,
    LABEL_REASON,
    LABEL_STATUS_CODE,
    LABEL_TYPE,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
    UNPARSED_ERRORS_TOTAL,
)
from ._config import Config
from ._load import duration_seconds
from ._promql import Promql, number

__all__ = ["ratio_windows", "recording_rules"]


def ratio_windows(config: Config) -> list[str]:
    """Return the alert window and every error-budget window, shortest first."""
    windows = {config.alert_window}
    for burn in config.error_budget.burn_rates:
        windows.update((burn.long_window, burn.short_window))
    return sorted(windows, key=duration_seconds)


def _record(name: str, expr: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"record": name, "expr": expr}
    if labels:
        rule["labels"] = labels
    return rule


def _ratio_rules(promql: Promql, window: str) -> list[dict[str, Any]]:
    by = promql.by
    calls = f"sum by ({by}) (rate({promql.calls_selector()}[{window}]))"
    failed = f"sum by ({by}) (rate({promql.failed_calls_selector()}[{window}]))"
    return [
        _record(promql.calls(window), calls),
        # Zero where there are calls but no failures yet, so that ratios and
        # baselines exist before the first failure.
        _record(promql.failed_calls(window), f"{failed}\nor\n0 * {promql.calls(window)}"),
        _record(promql.failed_ratio(window), f"{promql.failed_calls(window)}\n/\n{promql.calls(window)}"),
    ]


def _breakdown_rules(config: Config, promql: Promql) -> list[dict[str, Any]]:
    window = config.alert_window
    by = promql.by
    rate_limit = config.rate_limit
    rate_limited = promql.errors_of(rate_limit.types, rate_limit.codes, window)
    quantile = number(config.latency.quantile)
    buckets = f"{REQUEST_DURATION_SECONDS}_bucket{promql.matchers()}"
    return [
        _record(
            promql.requests(window),
            f"sum by ({by}) (rate({REQUESTS_TOTAL}{promql.matchers()}[{window}]))",
        ),
        _record(
            promql.errors_by_type_code(window),
            f"sum by ({by}, {LABEL_TYPE}, {LABEL_CODE}) (rate({ERRORS_TOTAL}{promql.matchers()}[{window}]))",
        ),
        _record(
            promql.rate_limited(window),
            f"sum by ({by}) (\n  {rate_limited}\n)\nor\n0 * {promql.calls(window)}",
        ),
        _record(
            promql.unparsed(window),
            f"sum by ({by}, {LABEL_REASON}, {LABEL_STATUS_CODE}) "
            f"(rate({UNPARSED_ERRORS_TOTAL}{promql.matchers()}[{window}]))",
        ),
        _record(
            promql.transport(window),
            f"sum by ({by}, {LABEL_EXCEPTION}) (rate({promql.transport_selector()}[{window}]))",
        ),
        _record(
            promql.latency(window),
            f"histogram_quantile({quantile}, sum by ({by}, le) (rate({buckets}[{window}])))",
            {"quantile": quantile},
        ),
    ]


def recording_rules(config: Config) -> list[dict[str, Any]]:
    """Return the recording rules, in an order where each rule's inputs come first."""
    promql = Promql(config)
    rules: list[dict[str, Any]] = []
    for window in ratio_windows(config):
        rules.extend(_ratio_rules(promql, window))
    rules.extend(_breakdown_rules(config, promql))
    return rules
