"""Grafana panel JSON builders for the dashboard schema Grafana 11 writes.

Each builder returns a plain dict; `Grid` then gives the panels their ids and
positions in reading order.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._names import ATTR_ERROR_CODE, ATTR_ERROR_TYPE, LABEL_CODE, LABEL_TYPE

__all__ = [
    "PROMETHEUS",
    "Grid",
    "Query",
    "bar_gauge",
    "row",
    "runbook_link",
    "stat",
    "table",
    "timeseries",
    "trace_search_link",
]

# Every panel and query reads from the data source the `datasource` variable selects.
PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}

# Grafana's dashboard grid is 24 columns wide.
GRID_WIDTH = 24

# Span attribute to filter on when a series carries the label.
_TRACE_ATTRIBUTES = {LABEL_CODE: ATTR_ERROR_CODE, LABEL_TYPE: ATTR_ERROR_TYPE}


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel."""

    expr: str
    legend: str = "__auto"
    # Ask Prometheus for exemplars too, so Grafana draws them as points with trace links.
    exemplar: bool = False
    # An instant query returns one value per series; a range query a line over time.
    instant: bool = False


def _targets(queries: Sequence[Query]) -> list[dict[str, Any]]:
    targets = []
    for index, query in enumerate(queries):
        targets.append(
            {
                "datasource": PROMETHEUS,
                "editorMode": "code",
                "expr": query.expr,
                "exemplar": query.exemplar,
                "instant": query.instant,
                "legendFormat": query.legend,
                "range": not query.instant,
                "refId": chr(ord("A") + index),
            }
        )
    return targets


def _panel(
    kind: str,
    title: str,
    description: str,
    queries: Sequence[Query],
    links: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": PROMETHEUS,
        "targets": _targets(queries),
        "links": list(links),
    }


def _thresholds(red_above: float | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if red_above is not None:
        steps.append({"color": "red", "value": red_above})
    return {"mode": "absolute", "steps": steps}


def timeseries(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    *,
    links: Sequence[dict[str, Any]] = (),
    data_links: Sequence[dict[str, Any]] = (),
    stacked: bool = False,
    red_above: float | None = None,
    time_from: str | None = None,
    min_interval: str | None = None,
) -> dict[str, Any]:
    """Build a time series panel; `time_from` (e.g. "7d") overrides the time picker."""
    panel = _panel("timeseries", title, description, queries, links)
    panel["fieldConfig"] = {
        "defaults": {
            "unit": unit,
            "min": 0,
            "links": list(data_links),
            "thresholds": _thresholds(red_above),
            "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 20 if stacked else 10,
                "showPoints": "never",
                "spanNulls": False,
                "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
                "thresholdsStyle": {"mode": "dashed" if red_above is not None else "off"},
            },
        },
        "overrides": [],
    }
    panel["options"] = {
        "legend": {
            "displayMode": "table",
            "placement": "bottom",
            "showLegend": True,
            "calcs": ["mean", "max", "lastNotNull"],
            "sortBy": "Max",
            "sortDesc": True,
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    if time_from:
        panel["timeFrom"] = time_from
    if min_interval:
        panel["interval"] = min_interval
    return panel


def stat(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    *,
    links: Sequence[dict[str, Any]] = (),
    red_above: float | None = None,
) -> dict[str, Any]:
    """Build a stat panel that shows the last value with a sparkline."""
    panel = _panel("stat", title, description, queries, links)
    panel["fieldConfig"] = {
        "defaults": {"unit": unit, "thresholds": _thresholds(red_above), "decimals": 2},
        "overrides": [],
    }
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background" if red_above is not None else "value",
        "graphMode": "area",
        "justifyMode": "auto",
        "textMode": "auto",
        "orientation": "auto",
    }
    return panel


def table(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    *,
    links: Sequence[dict[str, Any]] = (),
    data_links: Sequence[dict[str, Any]] = (),
    limit: int = 10,
) -> dict[str, Any]:
    """Build a table of series, one row each, ranked by mean over the time range."""
    panel = _panel("table", title, description, queries, links)
    panel["fieldConfig"] = {
        "defaults": {"unit": unit, "links": list(data_links), "thresholds": _thresholds(None)},
        "overrides": [],
    }
    panel["options"] = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    # One row per series with its mean and maximum, largest mean first.
    panel["transformations"] = [
        {"id": "reduce", "options": {"reducers": ["mean", "max", "lastNotNull"]}},
        {"id": "sortBy", "options": {"sort": [{"field": "Mean", "desc": True}]}},
        {"id": "limit", "options": {"limitField": limit}},
    ]
    return panel


def bar_gauge(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    *,
    links: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Build a horizontal bar gauge of each series' mean over the time range."""
    panel = _panel("bargauge", title, description, queries, links)
    panel["fieldConfig"] = {
        "defaults": {"unit": unit, "min": 0, "thresholds": _thresholds(None)},
        "overrides": [],
    }
    panel["options"] = {
        "reduceOptions": {"calcs": ["mean"], "fields": "", "values": False},
        "orientation": "horizontal",
        "displayMode": "gradient",
        "showUnfilled": True,
        "valueMode": "color",
    }
    return panel


def row(title: str) -> dict[str, Any]:
    """Build an expanded row header; the panels after it belong to it."""
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def runbook_link(runbook_url: str, alert: str) -> dict[str, Any]:
    """Build a panel link to the runbook section of `alert`.

    The anchor is the alert name in lower case, which is the anchor GitHub and
    most Markdown renderers give a heading that contains only that name.
    """
    if "{alert}" in runbook_url or "{anchor}" in runbook_url:
        url = runbook_url.format(alert=alert, anchor=alert.lower())
    else:
        url = f"{runbook_url}#{alert.lower()}"
    return {"title": f"Runbook: {alert}", "url": url, "targetBlank": True}


def runbook_page(runbook_url: str) -> str:
    """Return the runbook page of a runbook URL or URL pattern, without an anchor."""
    if "{alert}" in runbook_url or "{anchor}" in runbook_url:
        return urllib.parse.urldefrag(runbook_url.format(alert="", anchor=""))[0]
    return runbook_url


def trace_search_link(label: str) -> dict[str, Any]:
    """Build a data link that searches the trace data source for spans of a series' `label` value.

    NOTE: the URL follows the Explore URL format of Grafana 10 and 11 and has not
    been clicked in a running Grafana. The exemplar points are the tested path to a trace.
    """
    attribute = _TRACE_ATTRIBUTES[label]
    traceql = f'{{ span.{attribute} = \\"${{__field.labels.{label}}}\\" }}'
    pane = (
        '{"traces":{"datasource":"${trace_datasource}","queries":[{"refId":"A",'
        '"datasource":{"type":"tempo","uid":"${trace_datasource}"},"queryType":"traceql",'
        f'"query":"{traceql}"}}],"range":{{"from":"${{__from}}","to":"${{__to}}"}}}}}}'
    )
    return {
        "title": f"Find traces with this {label} in ${{trace_datasource}}",
        "url": f"/explore?schemaVersion=1&panes={pane}",
        "targetBlank": True,
    }


@dataclass
class Grid:
    """Panels placed left to right, wrapping to a new line at the grid width."""

    panels: list[dict[str, Any]] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _line_height: int = 0

    def add_row(self, title: str) -> None:
        self._new_line()
        self._place(row(title), GRID_WIDTH, 1)
        self._new_line()

    def add(self, panel: dict[str, Any], width: int, height: int) -> None:
        if self._x + width > GRID_WIDTH:
            self._new_line()
        self._place(panel, width, height)

    def _place(self, panel: dict[str, Any], width: int, height: int) -> None:
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": height, "w": width, "x": self._x, "y": self._y}
        self.panels.append(panel)
        self._x += width
        self._line_height = max(self._line_height, height)

    def _new_line(self) -> None:
        if self._x:
            self._y += self._line_height
        self._x = 0
        self._line_height = 0
