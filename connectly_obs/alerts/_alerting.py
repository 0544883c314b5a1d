"""Alerting rules: what pages, what warns and what only informs.

Descriptions are Prometheus alert templates. They name the labels that tell
on-call where to look and the value that crossed the threshold.
"""

from __future__ import annotations

from typing import Any

from .._names import (
    ALERT_BUSINESS_LIMIT,
    ALERT_CREDENTIALS,
    ALERT_ERROR_BUDGET,
    ALERT_ERROR_RATIO,
    ALERT_ERROR_SPIKE,
    ALERT_HOOK_ERRORS,
    ALERT_LATENCY,
    ALERT_MESSAGING_WINDOW,
    ALERT_METRICS_ABSENT,
    ALERT_RATE_LIMIT_RISING,
    ALERT_RATE_LIMITED,
    ALERT_SERVER_ERRORS,
    ALERT_TEMPLATES,
    ALERT_TRANSPORT,
    ALERT_UNPARSED,
    ATTR_TRACE_ID,
    EXEMPLAR_CNT_TRACE_ID,
    HOOK_ERRORS_TOTAL,
    LABEL_BUSINESS_ID,
    LABEL_CODE,
    LABEL_EXCEPTION,
    LABEL_REASON,
    LABEL_STAGE,
    LABEL_STATUS_CODE,
    LABEL_TYPE,
)
from ._config import BurnRate, Config, ErrorClassConfig
from ._promql import Promql, number

__all__ = ["alerting_rules", "budget_rules"]

# How to reach Connectly support, repeated where Connectly has to act.
_SEND_TRACE_IDS = (
    f"Send Connectly support the cntTraceId of a few failed calls: the span attribute "
    f"{ATTR_TRACE_ID} or the {EXEMPLAR_CNT_TRACE_ID} exemplar on the errors counter holds it."
)


def _labels_of(promql: Promql) -> str:
    """Return a template that prints the group-by labels, such as "job=api"."""
    return ", ".join(f"{name}={{{{ $labels.{name} }}}}" for name in promql.config.group_by)


def _business() -> str:
    return f"{{{{ with $labels.{LABEL_BUSINESS_ID} }}}} for business {{{{ . }}}}{{{{ end }}}}"


def _alert(
    config: Config,
    name: str,
    expr: str,
    for_: str,
    severity: str,
    summary: str,
    description: str,
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, **(extra_labels or {})},
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": runbook_url(config.runbook_url, name),
        },
    }


def _traffic_guard(config: Config, promql: Promql, window: str) -> str:
    return f"and\n{promql.calls(window)} > {number(config.min_call_rate)}"


def _error_ratio(config: Config, promql: Promql) -> list[dict[str, Any]]:
    window = config.alert_window
    rules = []
    for severity, threshold, for_ in (
        ("warning", config.error_ratio.warning, config.error_ratio.warning_for),
        ("critical", config.error_ratio.critical, config.error_ratio.critical_for),
    ):
        expr = f"{promql.failed_ratio(window)} > {number(threshold)}\n{_traffic_guard(config, promql, window)}"
        rules.append(
            _alert(
                config,
                ALERT_ERROR_RATIO,
                expr,
                for_,
                severity,
                "A large share of Connectly API calls fail.",
                f"{{{{ $value | humanizePercentage }}}} of Connectly API calls failed over the "
                f"last {window} ({_labels_of(promql)}), above the {severity} threshold of "
                f"{number(threshold * 100)}%. The errors by type and code are in "
                f"{promql.errors_by_type_code(window)}.",
            )
        )
    return rules


def _error_spike(config: Config, promql: Promql) -> dict[str, Any]:
    spike = config.error_spike
    window = config.alert_window
    current = promql.failed_calls(window)
    baseline = f"avg_over_time({current}[{spike.baseline_window}] offset {window})"
    expr = f"{current} > {number(spike.factor)} * {baseline}\nand\n{current} > {number(spike.min_rate)}"
    return _alert(
        config,
        ALERT_ERROR_SPIKE,
        expr,
        spike.for_,
        spike.severity,
        "Connectly API calls fail much more often than in the last hour.",
        f'Connectly API calls fail at {{{{ $value | printf "%.3g" }}}} per second over the last '
        f"{window} ({_labels_of(promql)}), more than {number(spike.factor)} times the average "
        f"of the {spike.baseline_window} before. The errors by type and code are in "
        f"{promql.errors_by_type_code(window)}.",
    )


def _rate_limit(config: Config, promql: Promql) -> list[dict[str, Any]]:
    limit = config.rate_limit
    window = config.alert_window
    limited = promql.rate_limited(window)
    share = f"{limited}\n/\n{promql.calls(window)}"
    baseline = f"avg_over_time({limited}[{limit.rising_baseline_window}] offset {window})"
    sustained = _alert(
        config,
        ALERT_RATE_LIMITED,
        f"{share} > {number(limit.ratio)}\n{_traffic_guard(config, promql, window)}",
        limit.for_,
        limit.severity,
        "Connectly rejects many calls because of its rate limit.",
        f"{{{{ $value | humanizePercentage }}}} of Connectly API calls were rate limited over the "
        f"last {window} ({_labels_of(promql)}), for at least {limit.for_}. Messages are delayed "
        f"or lost unless the client retries after the Retry-After delay.",
    )
    rising = _alert(
        config,
        ALERT_RATE_LIMIT_RISING,
        f"{share} > {number(limit.rising_ratio)}\nand\n{limited} > {number(limit.rising_factor)} * {baseline}",
        limit.rising_for,
        limit.rising_severity,
        "Rate-limited Connectly API calls are rising.",
        f"{{{{ $value | humanizePercentage }}}} of Connectly API calls were rate limited over the "
        f"last {window} ({_labels_of(promql)}), more than {number(limit.rising_factor)} times "
        f"the rate of the {limit.rising_baseline_window} before. Slow down bulk sends before "
        f"the limit holds for good.",
    )
    return [sustained, rising]


def _error_class(
    config: Config,
    promql: Promql,
    name: str,
    section: ErrorClassConfig,
    summary: str,
    advice: str,
) -> dict[str, Any]:
    window = config.alert_window
    rates = promql.errors_of(section.types, section.codes, window, section.exclude_codes)
    by = f"{promql.by}, {LABEL_TYPE}, {LABEL_CODE}, {LABEL_BUSINESS_ID}"
    expr = f"sum by ({by}) (\n  {rates}\n) > {number(section.min_rate)}"
    description = (
        f"Connectly returned {{{{ $labels.{LABEL_TYPE} }}}} / {{{{ $labels.{LABEL_CODE} }}}} "
        f'at {{{{ $value | printf "%.3g" }}}} per second over the last {window} '
        f"({_labels_of(promql)}){_business()}. {advice}"
    )
    return _alert(config, name, expr, section.for_, section.severity, summary, description)


def _error_classes(config: Config, promql: Promql) -> list[dict[str, Any]]:
    return [
        _error_class(
            config,
            promql,
            ALERT_BUSINESS_LIMIT,
            config.business_limit,
            "Connectly stopped the business from sending: it reached its messaging limits.",
            "Stop bulk sends, review message quality and opt-in practice, and contact Connectly "
            "about the account's limits.",
        ),
        _error_class(
            config,
            promql,
            ALERT_CREDENTIALS,
            config.credentials,
            "Connectly rejects the API key.",
            "Check that the X-API-Key in use is current and issued for this business; a missing "
            "business API secret needs Connectly to set it up.",
        ),
        _error_class(
            config,
            promql,
            ALERT_TEMPLATES,
            config.templates,
            "Template messages fail because of the template or its parameters.",
            "Check the template's name, language, approval state and parameters in Connectly "
            "against what the application sends.",
        ),
        _error_class(
            config,
            promql,
            ALERT_MESSAGING_WINDOW,
            config.messaging_window,
            "The application sends messages that WhatsApp's rules do not allow.",
            "This is an application bug, not an outage: outside the 24-hour window, or before "
            "the customer wrote first, send a template message; never message opted-out customers.",
        ),
        _error_class(
            config,
            promql,
            ALERT_SERVER_ERRORS,
            config.connectly_side,
            "Connectly fails on its side.",
            _SEND_TRACE_IDS,
        ),
    ]


def _unparsed(config: Config, promql: Promql) -> dict[str, Any]:
    section = config.unparsed
    window = config.alert_window
    expr = f"{promql.unparsed(window)} > {number(section.min_rate)}"
    return _alert(
        config,
        ALERT_UNPARSED,
        expr,
        section.for_,
        section.severity,
        "Error responses arrive without a Connectly error body.",
        f'{{{{ $value | printf "%.3g" }}}} responses per second with status '
        f"{{{{ $labels.{LABEL_STATUS_CODE} }}}} and a body that is not a Connectly error "
        f"({LABEL_REASON} {{{{ $labels.{LABEL_REASON} }}}}) over the last {window} "
        f"({_labels_of(promql)}). A gateway or proxy answered instead of the API. Such responses "
        f"carry no cntTraceId: send Connectly support the times, status codes and routes.",
    )


def _transport(config: Config, promql: Promql) -> dict[str, Any]:
    section = config.transport
    window = config.alert_window
    expr = (
        f"{promql.transport(window)}\n/ on ({promql.by}) group_left\n{promql.calls(window)}\n"
        f"> {number(section.ratio)}\n"
        f"and on ({promql.by})\n{promql.calls(window)} > {number(config.min_call_rate)}"
    )
    return _alert(
        config,
        ALERT_TRANSPORT,
        expr,
        section.for_,
        section.severity,
        "Connectly API calls end without a response.",
        f"{{{{ $value | humanizePercentage }}}} of Connectly API calls ended with "
        f"{{{{ $labels.{LABEL_EXCEPTION} }}}} over the last {window} ({_labels_of(promql)}). "
        f"Check the network path to Connectly and the client's timeouts.",
    )


def _latency(config: Config, promql: Promql) -> dict[str, Any]:
    section = config.latency
    window = config.alert_window
    expr = (
        f"{promql.latency(window)} > {number(section.threshold_seconds)}\n"
        f"and on ({promql.by})\n{promql.calls(window)} > {number(config.min_call_rate)}"
    )
    return _alert(
        config,
        ALERT_LATENCY,
        expr,
        section.for_,
        section.severity,
        "Connectly API calls are slow.",
        f"The {{{{ $labels.quantile }}}} quantile of Connectly API call duration is "
        f"{{{{ $value | humanizeDuration }}}} over the last {window} ({_labels_of(promql)}), "
        f"above {number(section.threshold_seconds)} s.",
    )


def _absent(config: Config, promql: Promql) -> dict[str, Any]:
    section = config.metrics_absent
    up = "up" + promql.matchers()
    # The first branch keeps the group-by labels of a job whose targets are
    # all down; absent() covers a job that service discovery no longer finds.
    expr = f"max by ({promql.by}) ({up}) == 0\nor\nabsent({up})"
    return _alert(
        config,
        ALERT_METRICS_ABSENT,
        expr,
        section.for_,
        section.severity,
        "No application that exports Connectly metrics is being scraped.",
        f"No target matching {up} has been up for {section.for_} ({_labels_of(promql)}): "
        f"{{{{ if eq $value 0.0 }}}}every target is down{{{{ else }}}}Prometheus discovers no "
        f"target{{{{ end }}}}. Every other Connectly alert is blind until then. Check that the "
        f"application runs and that Prometheus still discovers and scrapes it.",
    )


def _hook_errors(config: Config, promql: Promql) -> dict[str, Any]:
    section = config.hook_errors
    window = config.alert_window
    expr = f"sum by ({promql.by}, {LABEL_STAGE}) (rate({HOOK_ERRORS_TOTAL}{promql.matchers()}[{window}])) > 0"
    return _alert(
        config,
        ALERT_HOOK_ERRORS,
        expr,
        section.for_,
        section.severity,
        "connectly-obs fails internally while observing Connectly calls.",
        f"connectly-obs failed at stage {{{{ $labels.{LABEL_STAGE} }}}} "
        f'{{{{ $value | printf "%.3g" }}}} times per second over the last {window} '
        f"({_labels_of(promql)}). Requests are unaffected but their metrics and spans are "
        f"incomplete; the application log has the exceptions.",
    )


def alerting_rules(config: Config) -> list[dict[str, Any]]:
    """Return every alert except the error-budget burn alerts."""
    promql = Promql(config)
    return [
        *_error_ratio(config, promql),
        _error_spike(config, promql),
        *_rate_limit(config, promql),
        *_error_classes(config, promql),
        _unparsed(config, promql),
        _transport(config, promql),
        _latency(config, promql),
        _absent(config, promql),
        _hook_errors(config, promql),
    ]


def _burn_rule(config: Config, promql: Promql, burn: BurnRate) -> dict[str, Any]:
    objective = config.error_budget.objective
    threshold = number(burn.factor * (1 - objective))
    # The traffic guard reads the short window: a long window's rate is too
    # low while Prometheus holds less history than the window is long.
    expr = (
        f"{promql.failed_ratio(burn.long_window)} > {threshold}\n"
        f"and\n{promql.failed_ratio(burn.short_window)} > {threshold}\n"
        f"and\n{promql.calls(burn.short_window)} > {number(config.min_call_rate)}"
    )
    return _alert(
        config,
        ALERT_ERROR_BUDGET,
        expr,
        burn.for_,
        burn.severity,
        "Connectly API calls fail fast enough to use up the error budget.",
        f"{{{{ $value | humanizePercentage }}}} of Connectly API calls failed over the last "
        f"{burn.long_window} ({_labels_of(promql)}), and failures go on over the last "
        f"{burn.short_window}: a burn rate of at least {number(burn.factor)} against the "
        f"{number(objective * 100)}% success objective.",
        {"long_window": burn.long_window, "short_window": burn.short_window},
    )


def budget_rules(config: Config) -> list[dict[str, Any]]:
    """Return the multi-window, multi-burn-rate alerts on the success-ratio objective."""
    promql = Promql(config)
    return [_burn_rule(config, promql, burn) for burn in config.error_budget.burn_rates]


def runbook_url(pattern: str, alert: str) -> str:
    """Return the runbook link of an alert: the pattern filled in, or the page with the alert's anchor."""
    if "{alert}" in pattern or "{anchor}" in pattern:
        return pattern.format(alert=alert, anchor=alert.lower())
    return f"{pattern}#{alert.lower()}"
