"""Read generated dashboards the way Grafana would, for the lint and live tests.

Grafana replaces its variables in a query before it sends the query to
Prometheus, and `expand_variables` does the same with values the tests choose.
`walk_selectors` reports every series selector in a parsed query with the
function that reads it. Together they let the tests check the conventions of
Grafana's dashboard linter without its Go binary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import promql_parser

# A rate window that no generated query writes by itself, so a range equal to it
# must have come from `$__rate_interval`.
MARKER_RATE_INTERVAL = "7m13s"
MARKER_RATE_INTERVAL_DELTA = timedelta(minutes=7, seconds=13)

_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class PanelQuery:
    """One query of one panel, with where it came from."""

    dashboard: str
    panel: dict[str, Any]
    target: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.dashboard} / {self.panel['title']} / {self.target['refId']}"


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the dashboard's panels other than row headers."""
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def panel_queries(dashboards: dict[str, dict[str, Any]]) -> list[PanelQuery]:
    """Return every query of every panel of `dashboards` (file name to dashboard)."""
    return [
        PanelQuery(file_name, panel, target)
        for file_name, dashboard in dashboards.items()
        for panel in panels(dashboard)
        for target in panel["targets"]
    ]


def expand_variables(expr: str, values: dict[str, str]) -> str:
    """Replace `$name` and `${name}` in `expr` with `values[name]`, failing on unknown names."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no test value for Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


@dataclass(frozen=True)
class SelectorUse:
    """A series selector in a query and how the query reads it."""

    metric: str
    matchers: dict[str, str]
    # The function a range selector is passed to, e.g. "rate"; "" for an instant selector.
    range_function: str
    range: timedelta | None


def walk_selectors(expr: promql_parser.Expr) -> Iterator[SelectorUse]:
    """Yield every series selector in a parsed query, depth first."""
    yield from _walk(expr, "")


def _walk(node: Any, calling_function: str) -> Iterator[SelectorUse]:
    if isinstance(node, promql_parser.VectorSelector):
        yield _selector_use(node, "", None)
    elif isinstance(node, promql_parser.MatrixSelector):
        yield _selector_use(node.vector_selector, calling_function or "(none)", node.range)
    elif isinstance(node, promql_parser.Call):
        for argument in node.args:
            yield from _walk(argument, node.func.name)
    elif isinstance(node, promql_parser.BinaryExpr):
        yield from _walk(node.lhs, "")
        yield from _walk(node.rhs, "")
    elif isinstance(node, promql_parser.AggregateExpr):
        yield from _walk(node.expr, "")
        if node.param is not None:
            yield from _walk(node.param, "")
    elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr)):
        yield from _walk(node.expr, "")
    elif isinstance(node, promql_parser.SubqueryExpr):
        raise AssertionError(f"subqueries are not expected in dashboards: {node}")


def _selector_use(selector: Any, function: str, range_: timedelta | None) -> SelectorUse:
    matchers = {matcher.name: matcher.value for matcher in selector.matchers.matchers}
    return SelectorUse(selector.name or "", matchers, function, range_)
