"""The limits dashboard: rate limiting and the business messaging limit over hours and days."""

from __future__ import annotations

from typing import Any

from .._names import (
    ERRORS_TOTAL,
    LABEL_BUSINESS_ID,
    LABEL_CODE,
    LABEL_ROUTE,
    LABEL_STATUS_CODE,
    LABEL_TYPE,
    REQUESTS_TOTAL,
)
from ._common import ALERT_BUSINESS_LIMIT, ALERT_RATE_LIMITED, dashboard
from ._config import DashboardConfig
from ._panels import Grid, Query, runbook_link, stat, table, timeseries, trace_search_link
from ._promql import Selectors, equal, legend, not_equal, sum_by

__all__ = ["build_limits"]

_RATE_LIMIT_TYPE = "ERROR_TYPE_RATE_LIMIT"
_RATE_LIMIT_CODE = "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"
_BUSINESS_LIMIT_TYPE = "ERROR_TYPE_BUSINESS_LIMIT"
_BUSINESS_LIMIT_CODE = "ERROR_CODE_BUSINESS_REACHED_LIMITS"

_RETRY_AFTER_NOTE = "connectly-obs does not record the Retry-After header of 429 responses yet, so no panel shows it."

_BUSINESS_ID_NOTE = (
    "Series carry business_id only when business_id labels are enabled in connectly-obs; "
    "without it all businesses show as one row with an empty business_id."
)

# Shifts for the comparison series, with their legends.
_EARLIER = (("1d", "a day earlier"), ("1w", "a week earlier"))


class _Limit:
    """One kind of limit: which error responses count as hitting it."""

    def __init__(self, q: Selectors, type_: str, code: str) -> None:
        self._q = q
        self.type = type_
        self.code = code

    def errors(self, labels: tuple[str, ...], offset: str = "") -> str:
        """Return the summed per-second rate of errors of this limit's type or code.

        Type and code are not a strict hierarchy, so a response counts when either
        matches. The `!=` matcher keeps a response that matches both from counting twice.
        """
        by_type = self._q.rate(ERRORS_TOTAL, equal(LABEL_TYPE, self.type), offset=offset)
        by_code = self._q.rate(
            ERRORS_TOTAL,
            equal(LABEL_CODE, self.code),
            not_equal(LABEL_TYPE, self.type),
            offset=offset,
        )
        return sum_by(labels, f"{by_type} or {by_code}")


def build_limits(config: DashboardConfig) -> dict[str, Any]:
    """Build the limits dashboard."""
    q = Selectors(config.selector)
    rate_limit = _Limit(q, _RATE_LIMIT_TYPE, _RATE_LIMIT_CODE)
    business_limit = _Limit(q, _BUSINESS_LIMIT_TYPE, _BUSINESS_LIMIT_CODE)
    rate_limit_runbook = [runbook_link(config.runbook_url, ALERT_RATE_LIMITED)]
    business_limit_runbook = [runbook_link(config.runbook_url, ALERT_BUSINESS_LIMIT)]

    grid = Grid()
    grid.add_row("Rate limiting: HTTP 429 and ERROR_TYPE_RATE_LIMIT")
    grid.add(_rate_limited_now(q, rate_limit_runbook), 6, 8)
    grid.add(_rate_limited_share(q, rate_limit_runbook), 6, 8)
    grid.add(_rate_limited_compared(q, rate_limit_runbook), 12, 8)
    grid.add(
        _limit_errors_by_code(rate_limit, "Rate-limit errors by type and code", rate_limit_runbook),
        12,
        9,
    )
    grid.add(_rate_limited_by_route(q), 12, 9)
    grid.add(_rate_limited_per_hour(q, rate_limit_runbook), 16, 9)
    grid.add(_businesses(rate_limit, "Businesses being rate limited"), 8, 9)

    grid.add_row("Business limit: ERROR_TYPE_BUSINESS_LIMIT and BUSINESS_REACHED_LIMITS")
    grid.add(_business_limit_now(business_limit, business_limit_runbook), 6, 8)
    grid.add(_businesses_at_limit(business_limit, business_limit_runbook), 6, 8)
    grid.add(_business_limit_compared(business_limit, business_limit_runbook), 12, 8)
    grid.add(
        _limit_errors_by_code(business_limit, "Business-limit errors by type and code", business_limit_runbook),
        12,
        9,
    )
    grid.add(_business_limit_by_route(business_limit), 12, 9)
    grid.add(_business_limit_per_hour(business_limit, business_limit_runbook), 16, 9)
    grid.add(_businesses(business_limit, "Businesses at their messaging limit"), 8, 9)

    return dashboard(
        config,
        key="limits",
        title="Connectly API / Limits",
        description=(
            "Rate limiting and the business messaging limit over hours and days, compared with "
            "the same time a day and a week earlier, by route and business. " + _RETRY_AFTER_NOTE
        ),
        panels=grid.panels,
        time_from="now-24h",
    )


def _rate_limited(q: Selectors, offset: str = "") -> str:
    return f"sum({q.rate(REQUESTS_TOTAL, equal(LABEL_STATUS_CODE, '429'), offset=offset)})"


def _rate_limited_now(q: Selectors, links: list[dict[str, Any]]) -> dict[str, Any]:
    return stat(
        "Rate-limited responses",
        "Responses per second with status 429, with or without a Connectly error body. " + _RETRY_AFTER_NOTE,
        "reqps",
        [Query(f"{_rate_limited(q)} or vector(0)")],
        links=links,
    )


def _rate_limited_share(q: Selectors, links: list[dict[str, Any]]) -> dict[str, Any]:
    return stat(
        "Share of requests rate limited",
        "Responses with status 429 as a share of all responses.",
        "percentunit",
        [Query(f"({_rate_limited(q)} or vector(0)) / sum({q.rate(REQUESTS_TOTAL)})")],
        links=links,
        red_above=0.01,
    )


def _rate_limited_compared(q: Selectors, links: list[dict[str, Any]]) -> dict[str, Any]:
    return timeseries(
        "Rate-limited responses, now and earlier",
        "Responses per second with status 429, with the same time a day and a week earlier. "
        "A line above both earlier ones means rate limiting is getting worse.",
        "reqps",
        [
            Query(_rate_limited(q), "now"),
            *(Query(_rate_limited(q, offset), name) for offset, name in _EARLIER),
        ],
        links=links,
    )


def _limit_errors_by_code(limit: _Limit, title: str, links: list[dict[str, Any]]) -> dict[str, Any]:
    return timeseries(
        title,
        f"Error responses per second of type {limit.type} or code {limit.code}. Exemplar "
        "points link to the failing trace and carry cnt_trace_id for Connectly support.",
        "reqps",
        [
            Query(
                limit.errors((LABEL_TYPE, LABEL_CODE)),
                legend(LABEL_TYPE, LABEL_CODE),
                exemplar=True,
            )
        ],
        links=links,
        data_links=[trace_search_link(LABEL_CODE)],
    )


def _rate_limited_by_route(q: Selectors) -> dict[str, Any]:
    return timeseries(
        "Rate-limited responses by route",
        "Responses per second with status 429 by route template: which calls hit the limit.",
        "reqps",
        [
            Query(
                sum_by((LABEL_ROUTE,), q.rate(REQUESTS_TOTAL, equal(LABEL_STATUS_CODE, "429"))),
                legend(LABEL_ROUTE),
            )
        ],
    )


def _per_hour(title: str, description: str, expr_at: Any, links: list[dict[str, Any]]) -> dict[str, Any]:
    return timeseries(
        title,
        description + " Always the last 7 days in 1-hour steps, whatever the time picker shows.",
        "short",
        [
            Query(f"{expr_at('')} * 3600", "this week"),
            Query(f"{expr_at('1w')} * 3600", "a week earlier"),
        ],
        links=links,
        time_from="7d",
        min_interval="1h",
    )


def _rate_limited_per_hour(q: Selectors, links: list[dict[str, Any]]) -> dict[str, Any]:
    return _per_hour(
        "Rate-limited responses per hour, last 7 days",
        "Responses with status 429 per hour, with the week before for comparison.",
        lambda offset: _rate_limited(q, offset),
        links,
    )


def _businesses(limit: _Limit, title: str) -> dict[str, Any]:
    return table(
        title,
        f"Businesses and routes with errors of type {limit.type} or code {limit.code}, "
        "highest mean rate first. " + _BUSINESS_ID_NOTE,
        "reqps",
        [
            Query(
                limit.errors((LABEL_BUSINESS_ID, LABEL_ROUTE)),
                legend(LABEL_BUSINESS_ID, LABEL_ROUTE),
            )
        ],
    )


def _business_limit_now(limit: _Limit, links: list[dict[str, Any]]) -> dict[str, Any]:
    return stat(
        "Business-limit errors",
        "Error responses per second that say the business reached its messaging limit on a "
        "channel. Sends fail until Connectly lifts the restriction.",
        "reqps",
        [Query(f"{limit.errors(())} or vector(0)")],
        links=links,
    )


def _businesses_at_limit(limit: _Limit, links: list[dict[str, Any]]) -> dict[str, Any]:
    return stat(
        "Businesses at their limit",
        "Number of businesses that got a business-limit error in the rate window. " + _BUSINESS_ID_NOTE,
        "short",
        [Query(f"count({limit.errors((LABEL_BUSINESS_ID,))} > 0) or vector(0)")],
        links=links,
    )


def _business_limit_compared(limit: _Limit, links: list[dict[str, Any]]) -> dict[str, Any]:
    return timeseries(
        "Business-limit errors, now and earlier",
        "Business-limit errors per second, with the same time a day and a week earlier.",
        "reqps",
        [
            Query(limit.errors(()), "now", exemplar=True),
            *(Query(limit.errors((), offset), name) for offset, name in _EARLIER),
        ],
        links=links,
    )


def _business_limit_by_route(limit: _Limit) -> dict[str, Any]:
    return timeseries(
        "Business-limit errors by route",
        "Business-limit errors per second by route template: which kinds of send are blocked.",
        "reqps",
        [Query(limit.errors((LABEL_ROUTE,)), legend(LABEL_ROUTE), exemplar=True)],
    )


def _business_limit_per_hour(limit: _Limit, links: list[dict[str, Any]]) -> dict[str, Any]:
    return _per_hour(
        "Business-limit errors per hour, last 7 days",
        "Business-limit errors per hour, with the week before for comparison.",
        lambda offset: limit.errors((), offset),
        links,
    )
