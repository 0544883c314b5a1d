"""The overview dashboard: is Connectly failing or are we, with what, where, and how slow."""

from __future__ import annotations

from typing import Any

from .._names import (
    ERRORS_TOTAL,
    HOOK_ERRORS_TOTAL,
    LABEL_CODE,
    LABEL_EXCEPTION,
    LABEL_METHOD,
    LABEL_REASON,
    LABEL_ROUTE,
    LABEL_STAGE,
    LABEL_STATUS_CODE,
    LABEL_TYPE,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
    TRANSPORT_ERRORS_TOTAL,
    UNPARSED_ERRORS_TOTAL,
)
from ._common import (
    ALERT_CREDENTIALS,
    ALERT_ERROR_RATIO,
    ALERT_ERROR_SPIKE,
    ALERT_RATE_LIMITED,
    dashboard,
)
from ._config import DashboardConfig
from ._panels import (
    Grid,
    Query,
    runbook_link,
    stat,
    table,
    timeseries,
    trace_search_link,
)
from ._promql import Selectors, equal, legend, matches, not_equal, sum_by

__all__ = ["build_overview"]

_CREDENTIAL_TYPES = "ERROR_TYPE_AUTHENTICATION|ERROR_TYPE_AUTHORIZATION"

# Alert at or above this share of failed calls; matches the error ratio alert.
_ERROR_RATIO_WARNING = 0.05


def build_overview(config: DashboardConfig) -> dict[str, Any]:
    """Build the overview dashboard."""
    q = Selectors(config.selector)
    grid = Grid()

    grid.add_row("Is Connectly failing, or are we?")
    for panel in _headline_stats(config, q):
        grid.add(panel, 4, 5)
    grid.add(_failures_by_side(q), 12, 9)
    grid.add(_error_ratio_over_time(config, q), 12, 9)

    grid.add_row("Traffic and latency")
    grid.add(_requests_by_status(q), 8, 9)
    grid.add(_requests_by_route(q), 8, 9)
    grid.add(_latency_percentiles(q), 8, 9)

    grid.add_row("Connectly errors")
    grid.add(_errors_by(config, q, LABEL_TYPE, "Errors by type"), 12, 10)
    grid.add(_errors_by(config, q, LABEL_CODE, "Errors by code"), 12, 10)
    grid.add(_top_codes(q), 8, 10)
    grid.add(_credential_errors(config, q), 8, 10)
    grid.add(_errors_by_route(q), 8, 10)

    grid.add_row("Failures without a Connectly error body")
    grid.add(_unparsed_errors(q), 8, 9)
    grid.add(_transport_errors(q), 8, 9)
    grid.add(_hook_errors(q), 8, 9)

    return dashboard(
        config,
        key="overview",
        title="Connectly API / Overview",
        description=(
            "Calls to the Connectly API made through connectly-obs: request and error rates, "
            "error ratio, errors by type and code, latency, and failures without a Connectly "
            "error body. Hover an exemplar point on an error panel to open its trace."
        ),
        panels=grid.panels,
        time_from="now-6h",
    )


def error_ratio(q: Selectors) -> str:
    """Return the share of calls that failed: status 4xx or 5xx, or no response at all."""
    failed = f"sum({q.rate(REQUESTS_TOTAL, matches(LABEL_STATUS_CODE, '[45]..'))})"
    transport = f"(sum({q.rate(TRANSPORT_ERRORS_TOTAL)}) or vector(0))"
    every = f"sum({q.rate(REQUESTS_TOTAL)})"
    return f"({failed} + {transport}) / ({every} + {transport})"


def _headline_stats(config: DashboardConfig, q: Selectors) -> list[dict[str, Any]]:
    credential_errors = q.rate(ERRORS_TOTAL, matches(LABEL_TYPE, _CREDENTIAL_TYPES))
    return [
        stat(
            "Request rate",
            "Calls per second that got an HTTP response from the Connectly API.",
            "reqps",
            [Query(f"sum({q.rate(REQUESTS_TOTAL)})")],
        ),
        stat(
            "Error ratio",
            "Share of calls that got a 4xx or 5xx response or no response at all.",
            "percentunit",
            [Query(error_ratio(q))],
            links=[runbook_link(config.runbook_url, ALERT_ERROR_RATIO)],
            red_above=_ERROR_RATIO_WARNING,
        ),
        stat(
            "Connectly server errors (5xx)",
            "Responses per second with a 5xx status: failures on Connectly's side or in a gateway in front of it.",
            "reqps",
            [Query(f"sum({q.rate(REQUESTS_TOTAL, matches(LABEL_STATUS_CODE, '5..'))}) or vector(0)")],
        ),
        stat(
            "Rate limited (429)",
            "Responses per second with status 429. The limits dashboard shows the trend.",
            "reqps",
            [Query(f"sum({q.rate(REQUESTS_TOTAL, equal(LABEL_STATUS_CODE, '429'))}) or vector(0)")],
            links=[runbook_link(config.runbook_url, ALERT_RATE_LIMITED)],
        ),
        stat(
            "Credential errors",
            "Errors per second of type AUTHENTICATION or AUTHORIZATION: a missing, revoked or "
            "wrong API key, or a key without access to the business.",
            "reqps",
            [Query(f"sum({credential_errors}) or vector(0)")],
            links=[runbook_link(config.runbook_url, ALERT_CREDENTIALS)],
        ),
        stat(
            "Calls without a response",
            "Calls per second that ended without an HTTP response: timeouts, refused or reset "
            "connections, DNS failures.",
            "reqps",
            [Query(f"sum({q.rate(TRANSPORT_ERRORS_TOTAL)}) or vector(0)")],
        ),
    ]


def _failures_by_side(q: Selectors) -> dict[str, Any]:
    client_errors = q.rate(REQUESTS_TOTAL, matches(LABEL_STATUS_CODE, "4.."), not_equal(LABEL_STATUS_CODE, "429"))
    return timeseries(
        "Failures by side: Connectly or our requests",
        "5xx responses and calls without a response point at Connectly or the network; 4xx "
        "responses other than 429 point at the requests we send; 429 means we send too fast.",
        "reqps",
        [
            Query(
                f"sum({q.rate(REQUESTS_TOTAL, matches(LABEL_STATUS_CODE, '5..'))})",
                "Connectly: 5xx",
            ),
            Query(f"sum({q.rate(TRANSPORT_ERRORS_TOTAL)})", "Network: no response"),
            Query(f"sum({client_errors})", "Our requests: 4xx except 429"),
            Query(
                f"sum({q.rate(REQUESTS_TOTAL, equal(LABEL_STATUS_CODE, '429'))})",
                "Rate limited: 429",
            ),
        ],
        stacked=True,
    )


def _error_ratio_over_time(config: DashboardConfig, q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Error ratio",
        "Share of calls that got a 4xx or 5xx response or no response at all. The dashed line "
        "is the level at which the error ratio alert fires.",
        "percentunit",
        [Query(error_ratio(q), "error ratio")],
        links=[runbook_link(config.runbook_url, ALERT_ERROR_RATIO)],
        red_above=_ERROR_RATIO_WARNING,
    )


def _requests_by_status(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Requests by status code",
        "Responses per second by HTTP status code.",
        "reqps",
        [Query(sum_by((LABEL_STATUS_CODE,), q.rate(REQUESTS_TOTAL)), legend(LABEL_STATUS_CODE))],
        stacked=True,
    )


def _requests_by_route(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Requests by route",
        "Responses per second by HTTP method and route template.",
        "reqps",
        [
            Query(
                sum_by((LABEL_METHOD, LABEL_ROUTE), q.rate(REQUESTS_TOTAL)),
                legend(LABEL_METHOD, LABEL_ROUTE),
            )
        ],
    )


def _latency_percentiles(q: Selectors) -> dict[str, Any]:
    buckets = sum_by(("le",), q.rate(REQUEST_DURATION_SECONDS + "_bucket"))
    return timeseries(
        "Latency percentiles",
        "Time from sending a request to receiving the response headers, as 50th, 90th and "
        "99th percentiles estimated from the histogram buckets (0.02 s to 30 s).",
        "s",
        [
            Query(f"histogram_quantile({quantile}, {buckets})", f"p{round(quantile * 100)}")
            for quantile in (0.5, 0.9, 0.99)
        ],
    )


def _errors_by(config: DashboardConfig, q: Selectors, label: str, title: str) -> dict[str, Any]:
    return timeseries(
        title,
        f"Responses per second with a Connectly error body, by error {label}. Exemplar points "
        "link to the failing trace; their cnt_trace_id label is the id Connectly support asks for.",
        "reqps",
        [Query(sum_by((label,), q.rate(ERRORS_TOTAL)), legend(label), exemplar=True)],
        links=[runbook_link(config.runbook_url, ALERT_ERROR_SPIKE)],
        data_links=[trace_search_link(label)],
    )


def _top_codes(q: Selectors) -> dict[str, Any]:
    return table(
        "Top error codes",
        "The ten error codes with the highest mean rate over the time range, with their type.",
        "reqps",
        [
            Query(
                sum_by((LABEL_CODE, LABEL_TYPE), q.rate(ERRORS_TOTAL)),
                legend(LABEL_CODE, LABEL_TYPE),
            )
        ],
    )


def _credential_errors(config: DashboardConfig, q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Credential errors by type and route",
        "AUTHENTICATION errors mean the API key is missing or invalid; AUTHORIZATION errors "
        "mean the key has no access to the business or resource.",
        "reqps",
        [
            Query(
                sum_by(
                    (LABEL_TYPE, LABEL_ROUTE),
                    q.rate(ERRORS_TOTAL, matches(LABEL_TYPE, _CREDENTIAL_TYPES)),
                ),
                legend(LABEL_TYPE, LABEL_ROUTE),
                exemplar=True,
            )
        ],
        links=[runbook_link(config.runbook_url, ALERT_CREDENTIALS)],
    )


def _errors_by_route(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Errors by route",
        "Responses per second with a Connectly error body, by route template and status code.",
        "reqps",
        [
            Query(
                sum_by((LABEL_ROUTE, LABEL_STATUS_CODE), q.rate(ERRORS_TOTAL)),
                legend(LABEL_ROUTE, LABEL_STATUS_CODE),
                exemplar=True,
            )
        ],
    )


def _unparsed_errors(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Error responses without a Connectly body",
        "Responses with status 400 or above whose body is not a Connectly error, by reason: "
        "html is typically a gateway page, empty a bare 502/503, truncated a cut-off body.",
        "reqps",
        [
            Query(
                sum_by((LABEL_REASON, LABEL_STATUS_CODE), q.rate(UNPARSED_ERRORS_TOTAL)),
                legend(LABEL_REASON, LABEL_STATUS_CODE),
            )
        ],
    )


def _transport_errors(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Calls without a response",
        "Calls per second that ended without an HTTP response, by httpx exception and route.",
        "reqps",
        [
            Query(
                sum_by((LABEL_EXCEPTION, LABEL_ROUTE), q.rate(TRANSPORT_ERRORS_TOTAL)),
                legend(LABEL_EXCEPTION, LABEL_ROUTE),
            )
        ],
    )


def _hook_errors(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "connectly-obs internal failures",
        "Failures inside connectly-obs by stage. They never change the outcome of a call, but "
        "the metrics and spans of that call may be incomplete. Any value here is a bug to report.",
        "reqps",
        [Query(sum_by((LABEL_STAGE,), q.rate(HOOK_ERRORS_TOTAL)), legend(LABEL_STAGE))],
    )
