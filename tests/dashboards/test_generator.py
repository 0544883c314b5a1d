from __future__ import annotations

import json
from pathlib import Path

import promql_parser
import pytest

from connectly_obs.dashboards import DashboardConfig, build_dashboards, render_json
from tests.support.grafana import (
    MARKER_RATE_INTERVAL,
    expand_variables,
    panel_queries,
    walk_selectors,
)

REPO = Path(__file__).resolve().parents[2]
VALUES = {"__rate_interval": MARKER_RATE_INTERVAL, "job": ".+", "instance": ".+"}


def test_committed_json_matches_generator() -> None:
    for name, dashboard in build_dashboards().items():
        path = REPO / "dashboards" / name
        assert path.is_file(), f"{path} is missing; run: connectly-obs dashboards"
        assert path.read_text(encoding="utf-8") == render_json(dashboard), (
            f"{path} differs from the generator; run: connectly-obs dashboards"
        )


def test_no_stray_files_in_dashboards_folder() -> None:
    committed = {path.name for path in (REPO / "dashboards").glob("*.json")}
    assert committed == set(build_dashboards())


def test_selector_reaches_every_query() -> None:
    config = DashboardConfig(selector='env="prod",cluster=~"eu-.*"')
    for query in panel_queries(build_dashboards(config)):
        expr = promql_parser.parse(expand_variables(query.target["expr"], VALUES))
        for use in walk_selectors(expr):
            assert use.matchers.get("env") == "prod", query.name
            assert use.matchers.get("cluster") == "eu-.*", query.name


def test_selector_reaches_variable_queries() -> None:
    config = DashboardConfig(selector='env="prod"')
    for dashboard in build_dashboards(config).values():
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                assert 'env="prod"' in variable["query"]["query"]


def test_title_and_uid_prefix_apply_to_every_dashboard() -> None:
    config = DashboardConfig(title_prefix="Prod / ", uid_prefix="prod")
    for dashboard in build_dashboards(config).values():
        assert dashboard["title"].startswith("Prod / Connectly API / ")
        assert dashboard["uid"].startswith("prod-")


def test_datasource_names_set_variable_defaults() -> None:
    config = DashboardConfig(datasource="Mimir", trace_datasource="Traces")
    for dashboard in build_dashboards(config).values():
        defaults = {v["name"]: v["current"]["value"] for v in dashboard["templating"]["list"]}
        assert defaults["datasource"] == "Mimir"
        assert defaults["trace_datasource"] == "Traces"


def test_runbook_url_sets_panel_and_dashboard_links() -> None:
    base = "https://wiki.example.com/connectly/runbooks"
    dashboards = build_dashboards(DashboardConfig(runbook_url=base))
    urls = [
        link["url"]
        for dashboard in dashboards.values()
        for panel in dashboard["panels"]
        for link in panel.get("links", [])
    ]
    assert urls
    assert all(url.startswith(base + "#connectly") for url in urls)
    for dashboard in dashboards.values():
        assert base in [link["url"] for link in dashboard["links"]]


@pytest.mark.parametrize(
    "selector",
    ['env="prod"', 'env="prod", cluster=~"eu-.*"', 'a!="x",b!~"y|z"', 'msg="say \\"hi\\", ok"'],
)
def test_config_accepts_valid_selectors(selector: str) -> None:
    DashboardConfig(selector=selector)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("selector", "env=prod", "invalid selector 'env=prod'"),
        ("selector", 'env="prod",', "invalid selector"),
        ("selector", '{env="prod"}', "invalid selector"),
        ("selector", 'env="prod" cluster="a"', "separate label matchers with a comma"),
        ("selector", '1env="prod"', "invalid selector"),
        ("datasource", " ", "datasource must name a Grafana data source"),
        ("trace_datasource", "", "trace_datasource must name a Grafana data source"),
        ("runbook_url", "docs/runbooks.md", "give an absolute http or https URL"),
        ("runbook_url", "ftp://example.com/runbooks", "give an absolute http or https URL"),
        ("runbook_url", "https://example.com/r.md#top", "remove the '#top' part"),
        ("uid_prefix", "has space", "invalid uid prefix 'has space'"),
        ("uid_prefix", "x" * 31, "use 1 to 30 letters"),
    ],
)
def test_config_rejects_invalid_value(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        DashboardConfig(**{field: value})
    assert message in str(caught.value)


def test_runbook_pattern_matches_rules_form() -> None:
    pattern = "https://wiki.example.com/runbooks.md#{anchor}"
    dashboards = build_dashboards(DashboardConfig(runbook_url=pattern))
    text = json.dumps(dashboards)
    assert "https://wiki.example.com/runbooks.md#connectlyratelimited" in text
    assert "{anchor}" not in text
