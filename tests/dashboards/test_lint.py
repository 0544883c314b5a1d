"""The conventions of Grafana's dashboard linter, checked on the generated dashboards.

The linter is a Go program that is not installed here, so these tests check
the same conventions on the JSON: variables, panel metadata, and the PromQL of
every query after Grafana's variables are replaced.
"""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest

from connectly_obs import _names
from connectly_obs.dashboards import DashboardConfig, build_dashboards
from tests.support.grafana import (
    MARKER_RATE_INTERVAL,
    MARKER_RATE_INTERVAL_DELTA,
    PanelQuery,
    expand_variables,
    panel_queries,
    panels,
    walk_selectors,
)

DASHBOARDS = build_dashboards()
QUERIES = panel_queries(DASHBOARDS)
EVERY_PANEL = [(name, panel) for name, dashboard in DASHBOARDS.items() for panel in panels(dashboard)]

# Grafana unit ids used for Connectly data; a typo in a unit shows raw numbers.
KNOWN_UNITS = {"none", "short", "percent", "percentunit", "s", "ms", "reqps", "ops", "cps"}

# Values Grafana would put in place of each variable.
VARIABLE_VALUES = {
    "__rate_interval": MARKER_RATE_INTERVAL,
    "job": ".+",
    "instance": ".+",
}

EXPORTED_METRICS = {
    _names.REQUESTS_TOTAL,
    _names.ERRORS_TOTAL,
    _names.REQUEST_DURATION_SECONDS + "_bucket",
    _names.UNPARSED_ERRORS_TOTAL,
    _names.TRANSPORT_ERRORS_TOTAL,
    _names.HOOK_ERRORS_TOTAL,
}


def _variable(dashboard: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [v for v in dashboard["templating"]["list"] if v["name"] == name]
    assert len(matches) == 1, f"{dashboard['title']}: expected one ${name} variable"
    return matches[0]


def _parse(query: PanelQuery) -> promql_parser.Expr:
    return promql_parser.parse(expand_variables(query.target["expr"], VARIABLE_VALUES))


def _is_counter(metric: str) -> bool:
    return metric.endswith(("_total", "_bucket", "_count", "_sum"))


@pytest.mark.parametrize("name", DASHBOARDS)
def test_datasource_variable_selects_prometheus(name: str) -> None:
    variable = _variable(DASHBOARDS[name], "datasource")
    assert variable["type"] == "datasource"
    assert variable["query"] == "prometheus"
    assert variable["current"]["value"] == DashboardConfig().datasource


@pytest.mark.parametrize("name", DASHBOARDS)
def test_trace_datasource_variable_selects_tempo(name: str) -> None:
    variable = _variable(DASHBOARDS[name], "trace_datasource")
    assert variable["type"] == "datasource"
    assert variable["query"] == "tempo"


@pytest.mark.parametrize("variable_name", ["job", "instance"])
@pytest.mark.parametrize("name", DASHBOARDS)
def test_job_and_instance_variables_follow_conventions(name: str, variable_name: str) -> None:
    variable = _variable(DASHBOARDS[name], variable_name)
    assert variable["type"] == "query"
    assert variable["datasource"]["uid"] in ("$datasource", "${datasource}")
    assert variable["label"] == variable_name.title()
    assert variable["multi"] is True
    assert variable["includeAll"] is True
    assert variable["allValue"] == ".+"
    assert variable["refresh"] == 2, "values must refresh when the time range changes"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_variable_queries_parse(name: str) -> None:
    for variable_name in ("job", "instance"):
        query = _variable(DASHBOARDS[name], variable_name)["query"]["query"]
        assert query.startswith("label_values(")
        assert query.endswith(f", {variable_name})")
        selector = query.removeprefix("label_values(").rsplit(",", 1)[0]
        promql_parser.parse(expand_variables(selector, VARIABLE_VALUES))


@pytest.mark.parametrize(("name", "panel"), EVERY_PANEL, ids=lambda x: x if isinstance(x, str) else x["title"])
def test_panel_has_title_description_and_unit(name: str, panel: dict[str, Any]) -> None:
    assert panel["title"].strip()
    assert len(panel["description"]) >= 20, "the description should tell on-call what they see"
    assert panel["fieldConfig"]["defaults"]["unit"] in KNOWN_UNITS


@pytest.mark.parametrize(("name", "panel"), EVERY_PANEL, ids=lambda x: x if isinstance(x, str) else x["title"])
def test_panel_queries_the_datasource_variable(name: str, panel: dict[str, Any]) -> None:
    assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert panel["targets"], "a panel without queries shows nothing"
    for target in panel["targets"]:
        assert target["datasource"]["uid"] == "${datasource}"
        assert target["expr"].strip()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_query_parses_after_variables_are_replaced(query: PanelQuery) -> None:
    _parse(query)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_ranges_use_rate_interval(query: PanelQuery) -> None:
    uses = list(walk_selectors(_parse(query)))
    ranges = [use.range for use in uses if use.range is not None]
    assert ranges, "every panel query reads at least one counter through rate()"
    assert all(r == MARKER_RATE_INTERVAL_DELTA for r in ranges), query.target["expr"]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_selectors_filter_by_job_and_instance(query: PanelQuery) -> None:
    for use in walk_selectors(_parse(query)):
        assert use.matchers.get("job") == ".+", f'{use.metric} lacks job=~"$job"'
        assert use.matchers.get("instance") == ".+", f'{use.metric} lacks instance=~"$instance"'


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_counters_are_read_through_rate(query: PanelQuery) -> None:
    for use in walk_selectors(_parse(query)):
        assert use.metric in EXPORTED_METRICS, f"{use.metric} is not a metric connectly-obs exports"
        if _is_counter(use.metric):
            assert use.range_function in ("rate", "increase"), (
                f"counter {use.metric} is read by {use.range_function or 'no function'}"
            )


def test_uids_are_stable_and_unique() -> None:
    uids = [dashboard["uid"] for dashboard in DASHBOARDS.values()]
    assert uids == ["connectly-obs-overview", "connectly-obs-limits"]
    assert all(len(uid) <= 40 for uid in uids)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_has_schema_version_tags_and_description(name: str) -> None:
    dashboard = DASHBOARDS[name]
    assert dashboard["schemaVersion"] >= 39
    assert "connectly-obs" in dashboard["tags"]
    assert dashboard["description"]
    assert dashboard["editable"] is False


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboards_link_each_other_by_tag(name: str) -> None:
    tag_links = [link for link in DASHBOARDS[name]["links"] if link["type"] == "dashboards"]
    assert len(tag_links) == 1
    assert tag_links[0]["tags"] == ["connectly-obs"]
    assert tag_links[0]["includeVars"] is True
    assert tag_links[0]["keepTime"] is True


def test_alert_panels_link_their_runbook_section() -> None:
    base = DashboardConfig().runbook_url
    alerts = {
        "ConnectlyRateLimited",
        "ConnectlyBusinessLimitReached",
        "ConnectlyCredentialsBroken",
        "ConnectlyErrorRatioHigh",
        "ConnectlyErrorSpike",
    }
    linked = {}
    for _, panel in EVERY_PANEL:
        for link in panel["links"]:
            alert = link["title"].removeprefix("Runbook: ")
            linked[alert] = link["url"]
    assert set(linked) == alerts
    for alert, url in linked.items():
        assert url == f"{base}#{alert.lower()}"


def test_error_panels_request_exemplars() -> None:
    for query in QUERIES:
        reads_errors = _names.ERRORS_TOTAL in query.target["expr"]
        is_graph = query.panel["type"] == "timeseries"
        shifted = " offset " in query.target["expr"]
        if reads_errors and is_graph and not shifted and query.panel.get("timeFrom") is None:
            assert query.target["exemplar"] is True, query.name


def test_trace_links_use_the_trace_datasource_variable() -> None:
    data_links = [link for _, panel in EVERY_PANEL for link in panel["fieldConfig"]["defaults"].get("links", [])]
    assert data_links
    for link in data_links:
        assert "${trace_datasource}" in link["url"]
        assert link["url"].startswith("/explore?")


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panels_do_not_overlap(name: str) -> None:
    occupied: set[tuple[int, int]] = set()
    for panel in DASHBOARDS[name]["panels"]:
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, panel["title"]
        cells = {(position["x"] + dx, position["y"] + dy) for dx in range(position["w"]) for dy in range(position["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panel_ids_are_unique(name: str) -> None:
    ids = [panel["id"] for panel in DASHBOARDS[name]["panels"]]
    assert len(ids) == len(set(ids))
