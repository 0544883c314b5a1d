"""Every panel query, run against a real Prometheus that scrapes `connectly-obs demo`.

The mixed scenario sends successes, every documented code and type, 429s, a
gateway's HTML 502, empty 503s and timeouts, so every panel has data except
the ones listed in `expected_empty`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectly_obs import _names
from connectly_obs.dashboards import build_dashboards
from tests.support.grafana import PanelQuery, expand_variables, panel_queries
from tests.support.live import (
    demo_with_prometheus,
    grafana_variables,
    run_exemplars,
    run_query,
    wait_for_scrapes,
)
from tests.support.servers import Prometheus

DASHBOARDS = build_dashboards()

# Enough scrapes for every rate window of the panels and for the rarer error
# kinds of the mixed scenario to show up at least once.
SCRAPES = 20


def expected_empty(query: PanelQuery) -> str | None:
    """Return why `query` has no data in a fresh run, or None if it should have data."""
    if " offset " in query.target["expr"]:
        return "compares with a day or a week earlier, and Prometheus started moments ago"
    if _names.HOOK_ERRORS_TOTAL in query.target["expr"]:
        return "counts internal failures of connectly-obs, which a correct run has none of"
    return None


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    workdir: Path = tmp_path_factory.mktemp("live")
    with demo_with_prometheus(workdir, scenario="mixed", duration=120, rate=60) as server:
        wait_for_scrapes(server, SCRAPES)
        yield server


@pytest.mark.parametrize("query", panel_queries(DASHBOARDS), ids=lambda q: q.name)
def test_panel_query_data_matches_expectation(prometheus: Prometheus, query: PanelQuery) -> None:
    end = time.time()
    result = run_query(prometheus, query.panel, query.target["expr"], end - 60, end)

    reason = expected_empty(query)
    if reason is None:
        assert result, f"no data: {expand_variables(query.target['expr'], grafana_variables(query.panel))}"
    else:
        assert result == [], f"expected no data because the query {reason}"


@pytest.mark.parametrize(
    "query",
    [q for q in panel_queries(DASHBOARDS) if q.target["exemplar"]],
    ids=lambda q: q.name,
)
def test_error_panel_exemplars_carry_trace_ids(prometheus: Prometheus, query: PanelQuery) -> None:
    end = time.time()
    series = run_exemplars(prometheus, query.panel, query.target["expr"], end - 60, end)

    exemplars = [exemplar for item in series for exemplar in item["exemplars"]]
    assert exemplars, "no exemplars for an error panel"
    for exemplar in exemplars:
        assert len(exemplar["labels"][_names.EXEMPLAR_TRACE_ID]) == 32
        assert len(exemplar["labels"][_names.EXEMPLAR_SPAN_ID]) == 16
    assert any(_names.EXEMPLAR_CNT_TRACE_ID in e["labels"] for e in exemplars)


def test_every_panel_but_internal_failures_has_data(prometheus: Prometheus) -> None:
    end = time.time()
    empty_panels = set()
    for file_name, dashboard in DASHBOARDS.items():
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            results = [run_query(prometheus, panel, t["expr"], end - 60, end) for t in panel["targets"]]
            if not any(results):
                empty_panels.add(f"{file_name} / {panel['title']}")

    assert empty_panels == {"connectly-overview.json / connectly-obs internal failures"}


def test_variable_queries_find_the_demo(prometheus: Prometheus) -> None:
    jobs = prometheus.api("label/job/values", **{"match[]": _names.REQUESTS_TOTAL})
    instances = prometheus.api("label/instance/values", **{"match[]": f'{_names.REQUESTS_TOTAL}{{job=~".+"}}'})

    assert jobs == ["connectly-obs"]
    assert len(instances) == 1
    assert instances[0].startswith("127.0.0.1:")
