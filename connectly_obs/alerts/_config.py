"""The one config behind every recording rule and alert.

Each key carries its one-line comment as field metadata, so that
`connectly-obs rules --print-config` shows the comment beside the value.
Durations are Prometheus durations ("30s", "5m", "1h", "3d"). Rates are per
second, as PromQL's `rate()` returns them. Ratios are shares between 0 and 1
(0.05 is 5 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._names import LABEL_EXCEPTION

__all__ = [
    "AbsentConfig",
    "BurnRate",
    "Config",
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
]


def key(default: Any, comment: str, *, check: str = "") -> Any:
    """Declare a config key with its default, its one-line comment and its check."""
    return field(default=default, metadata={"comment": comment, "check": check})


def section(comment: str, *, check: str = "") -> dict[str, str]:
    """Return the field metadata of a key whose default is built by a factory."""
    return {"comment": comment, "check": check}


@dataclass(frozen=True)
class ErrorRatioConfig:
    """The share of failed calls over the alert window."""

    warning: float = key(0.05, "share of failed calls that raises a warning", check="ratio")
    critical: float = key(0.20, "share of failed calls that pages", check="ratio")
    warning_for: str = key("15m", "how long the warning condition must hold", check="for_duration")
    critical_for: str = key("5m", "how long the critical condition must hold", check="for_duration")


@dataclass(frozen=True)
class ErrorSpikeConfig:
    """A failure rate well above its own recent baseline."""

    factor: float = key(3.0, "how many times the baseline rate counts as a spike", check="factor")
    baseline_window: str = key("1h", "window whose average failure rate is the baseline", check="duration")
    min_rate: float = key(0.05, "failed calls per second below which no spike is reported", check="nonnegative")
    severity: str = key("warning", "severity label of the alert", check="severity")
    for_: str = key("10m", "how long the condition must hold", check="for_duration")


@dataclass(frozen=True)
class RateLimitConfig:
    """Calls rejected by Connectly's rate limit, sustained and rising."""

    types: tuple[str, ...] = key(("ERROR_TYPE_RATE_LIMIT",), "error types that mean rate limited", check="error_types")
    codes: tuple[str, ...] = key(
        ("ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED",),
        "error codes that mean rate limited",
        check="error_codes",
    )
    ratio: float = key(0.05, "share of rate-limited calls that counts as sustained", check="ratio")
    severity: str = key("warning", "severity label of the sustained alert", check="severity")
    for_: str = key("15m", "how long the sustained condition must hold", check="for_duration")
    rising_ratio: float = key(0.01, "share of rate-limited calls from which a rise is reported", check="ratio")
    rising_factor: float = key(2.0, "how many times the baseline rate counts as rising", check="factor")
    rising_baseline_window: str = key("1h", "window whose average rate-limited rate is the baseline", check="duration")
    rising_severity: str = key("info", "severity label of the rising alert", check="severity")
    rising_for: str = key("5m", "how long the rising condition must hold", check="for_duration")


@dataclass(frozen=True)
class ErrorClassConfig:
    """Connectly error responses of a group of types and codes."""

    types: tuple[str, ...] = key((), "error types in the group", check="error_types")
    codes: tuple[str, ...] = key((), "error codes in the group", check="error_codes")
    exclude_codes: tuple[str, ...] = key(
        (), "error codes left out even when their type is in the group", check="error_codes"
    )
    min_rate: float = key(0.0, "errors per second above which the alert fires; 0 fires on any", check="nonnegative")
    severity: str = key("warning", "severity label of the alert", check="severity")
    for_: str = key("5m", "how long the condition must hold", check="for_duration")


@dataclass(frozen=True)
class UnparsedConfig:
    """Error responses whose body is not a Connectly error, such as gateway pages."""

    min_rate: float = key(0.0, "such responses per second above which the alert fires", check="nonnegative")
    severity: str = key("warning", "severity label of the alert", check="severity")
    for_: str = key("5m", "how long the condition must hold", check="for_duration")


@dataclass(frozen=True)
class TransportConfig:
    """Calls that ended without a response: timeouts and connection failures."""

    ratio: float = key(0.05, "share of calls without a response that alerts", check="ratio")
    severity: str = key("warning", "severity label of the alert", check="severity")
    for_: str = key("10m", "how long the condition must hold", check="for_duration")


@dataclass(frozen=True)
class LatencyConfig:
    """A high quantile of the request duration."""

    quantile: float = key(0.99, "quantile of the request duration to watch", check="ratio")
    threshold_seconds: float = key(5.0, "duration in seconds above which the quantile alerts", check="positive")
    severity: str = key("warning", "severity label of the alert", check="severity")
    for_: str = key("10m", "how long the condition must hold", check="for_duration")


@dataclass(frozen=True)
class AbsentConfig:
    """No target of the selected job is up, so every other alert is blind."""

    severity: str = key("warning", "severity label of the alert", check="severity")
    for_: str = key("15m", "how long no target may be up before the alert fires", check="for_duration")


@dataclass(frozen=True)
class HookErrorsConfig:
    """Failures inside connectly-obs itself, which never affect the caller's request."""

    severity: str = key("info", "severity label of the alert", check="severity")
    for_: str = key("15m", "how long the condition must hold", check="for_duration")


@dataclass(frozen=True)
class BurnRate:
    """One long and short window pair of the multi-window, multi-burn-rate alert."""

    long_window: str = key("1h", "the window that shows the burn is significant", check="duration")
    short_window: str = key("5m", "the window that shows the burn still goes on", check="duration")
    factor: float = key(14.4, "burn rate: multiples of the error budget rate", check="factor")
    severity: str = key("critical", "severity label of the alert", check="severity")
    for_: str = key("2m", "how long the condition must hold", check="for_duration")


# Multi-window, multi-burn-rate alerting. A burn rate of 1 spends the error
# budget in exactly 30 days, so 14.4 over 1h spends 2 % of it, 6 over 6h 5 %,
# 3 over 1d 10 % and 1 over 3d 10 %. The first two page, the last two warn.
_DEFAULT_BURN_RATES = (
    BurnRate("1h", "5m", 14.4, "critical", "2m"),
    BurnRate("6h", "30m", 6.0, "critical", "15m"),
    BurnRate("1d", "2h", 3.0, "warning", "1h"),
    BurnRate("3d", "6h", 1.0, "warning", "3h"),
)


@dataclass(frozen=True)
class ErrorBudgetConfig:
    """The success-ratio objective and the burn rates that alert on its error budget."""

    objective: float = key(0.995, "share of calls that must succeed", check="ratio")
    burn_rates: tuple[BurnRate, ...] = key(
        _DEFAULT_BURN_RATES, "window pairs and burn rates, one alert each", check="nonempty"
    )


@dataclass(frozen=True)
class OperatorConfig:
    """The prometheus-operator PrometheusRule manifest."""

    name: str = key("connectly-obs", "metadata.name of the manifest", check="dns_name")
    namespace: str = key("", "metadata.namespace; empty leaves it to kubectl", check="dns_label")
    labels: dict[str, str] = field(
        default_factory=dict,
        metadata=section("metadata.labels that the Prometheus ruleSelector matches", check="label_map"),
    )


@dataclass(frozen=True)
class GrafanaConfig:
    """Grafana-managed alert rule provisioning."""

    datasource_uid: str = key("prometheus", "uid of the Prometheus data source the rules query", check="grafana_uid")
    folder: str = key("Connectly", "folder that holds the rule group", check="nonempty")
    org_id: int = key(1, "id of the Grafana organization", check="positive")
    interval: str = key("1m", "how often Grafana evaluates the rule group", check="duration")


def _credentials() -> ErrorClassConfig:
    return ErrorClassConfig(
        types=("ERROR_TYPE_AUTHENTICATION", "ERROR_TYPE_AUTHORIZATION"),
        codes=("ERROR_CODE_BUSINESS_KEY_SECRET_ABSENT",),
        severity="critical",
        for_="1m",
    )


def _business_limit() -> ErrorClassConfig:
    return ErrorClassConfig(
        types=("ERROR_TYPE_BUSINESS_LIMIT",),
        codes=("ERROR_CODE_BUSINESS_REACHED_LIMITS",),
        severity="critical",
        for_="1m",
    )


def _templates() -> ErrorClassConfig:
    return ErrorClassConfig(
        codes=(
            "ERROR_CODE_MESSAGE_TEMPLATE_NOT_FOUND",
            "ERROR_CODE_MESSAGE_TEMPLATE_DELETED",
            "ERROR_CODE_MESSAGE_TEMPLATE_INPUT_INVALID",
            "ERROR_CODE_MESSAGE_TEMPLATE_INVALID_PARAM",
        ),
        severity="warning",
        for_="5m",
    )


# Session messages sent where only a template message is allowed, or to a
# customer who opted out: a bug in the application, not an outage.
_MESSAGING_WINDOW_CODES = (
    "ERROR_CODE_MESSAGE_OUTSIDE_OF_ELIGIBILITY_WINDOW",
    "ERROR_CODE_MESSAGE_CUSTOMER_NO_CONVERSATION_INITIATION",
    "ERROR_CODE_MESSAGE_CUSTOMER_OPTED_OUT",
)


def _messaging_window() -> ErrorClassConfig:
    return ErrorClassConfig(codes=_MESSAGING_WINDOW_CODES, severity="info", for_="15m")


def _connectly_side() -> ErrorClassConfig:
    # Connectly's own example pairs ERROR_TYPE_DEADLINE_EXCEEDED with the
    # messaging-window code, which is the caller's mistake, so those codes are
    # left out here and alert as messaging-window misuse instead.
    return ErrorClassConfig(
        types=("ERROR_TYPE_UNSPECIFIED", "ERROR_TYPE_DEADLINE_EXCEEDED"),
        exclude_codes=_MESSAGING_WINDOW_CODES,
        severity="warning",
        for_="5m",
    )


@dataclass(frozen=True)
class Config:
    """Every selector, window, threshold and severity of the rules."""

    selector: str = key(
        'job="connectly-obs"',
        "PromQL label matchers that select the applications' series, also on `up`",
        check="selector",
    )
    group_by: tuple[str, ...] = key(
        ("job",),
        "labels that rules keep when they sum; also the level in rule names",
        check="label_names",
    )
    alert_window: str = key("5m", "window of the rates that alerts compare", check="duration")
    failed_status_codes: str = key(
        "4..|5..",
        "regular expression of the status codes that count as failed calls",
        check="regex",
    )
    ignored_exceptions: tuple[str, ...] = key(
        ("CancelledError",),
        f"`{LABEL_EXCEPTION}` values not counted as calls: the caller cancelled them",
        check="exceptions",
    )
    min_call_rate: float = key(
        0.1,
        "calls per second below which ratio alerts stay quiet (0.1 is 6 a minute)",
        check="nonnegative",
    )
    # NOTE: the project's public address is not settled, so the default points at
    # the runbook page on GitHub's main branch, as the dashboards' links do.
    runbook_url: str = key(
        "https://github.com/connectly-obs/connectly-obs/blob/main/docs/runbooks.md#{anchor}",
        "runbook link; {alert} is the alert name, {anchor} its lower-case form",
        check="runbook_url",
    )
    error_ratio: ErrorRatioConfig = field(
        default_factory=ErrorRatioConfig, metadata=section("the ConnectlyErrorRatioHigh alert")
    )
    error_spike: ErrorSpikeConfig = field(
        default_factory=ErrorSpikeConfig, metadata=section("the ConnectlyErrorSpike alert")
    )
    rate_limit: RateLimitConfig = field(
        default_factory=RateLimitConfig,
        metadata=section("the ConnectlyRateLimited and ConnectlyRateLimitRising alerts"),
    )
    business_limit: ErrorClassConfig = field(
        default_factory=_business_limit, metadata=section("the ConnectlyBusinessLimitReached alert")
    )
    credentials: ErrorClassConfig = field(
        default_factory=_credentials, metadata=section("the ConnectlyCredentialsBroken alert")
    )
    templates: ErrorClassConfig = field(
        default_factory=_templates, metadata=section("the ConnectlyTemplatesBroken alert")
    )
    messaging_window: ErrorClassConfig = field(
        default_factory=_messaging_window,
        metadata=section("the ConnectlyMessagingWindowMisuse alert"),
    )
    connectly_side: ErrorClassConfig = field(
        default_factory=_connectly_side, metadata=section("the ConnectlyServerErrors alert")
    )
    unparsed: UnparsedConfig = field(
        default_factory=UnparsedConfig,
        metadata=section("the ConnectlyUnparsedErrorResponses alert"),
    )
    transport: TransportConfig = field(
        default_factory=TransportConfig, metadata=section("the ConnectlyTransportErrors alert")
    )
    latency: LatencyConfig = field(default_factory=LatencyConfig, metadata=section("the ConnectlyLatencyHigh alert"))
    metrics_absent: AbsentConfig = field(
        default_factory=AbsentConfig, metadata=section("the ConnectlyMetricsAbsent alert")
    )
    hook_errors: HookErrorsConfig = field(
        default_factory=HookErrorsConfig, metadata=section("the ConnectlyObsHookErrors alert")
    )
    error_budget: ErrorBudgetConfig = field(
        default_factory=ErrorBudgetConfig, metadata=section("the ConnectlyErrorBudgetBurn alert")
    )
    operator: OperatorConfig = field(
        default_factory=OperatorConfig,
        metadata=section("the PrometheusRule manifest of --format prometheus-operator"),
    )
    grafana: GrafanaConfig = field(
        default_factory=GrafanaConfig, metadata=section("the provisioning file of --format grafana")
    )
