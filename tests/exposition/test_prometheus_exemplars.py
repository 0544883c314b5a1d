"""A real Prometheus with exemplar storage scrapes the standalone server."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, EXEMPLAR_CNT_TRACE_ID, EXEMPLAR_TRACE_ID
from connectly_obs.testing import FakeConnectlyAPI
from tests.exposition.conftest import record_traffic
from tests.support.servers import Prometheus, run_prometheus


def wait_for_exemplars(prometheus: Prometheus, expr: str, timeout: float = 60.0) -> list[dict[str, object]]:
    """Poll /api/v1/query_exemplars until it returns exemplars, or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        now = time.time()
        series = prometheus.api("query_exemplars", query=expr, start=str(now - 600), end=str(now + 60))
        exemplars = [exemplar for entry in series for exemplar in entry["exemplars"]]
        if exemplars or time.monotonic() > deadline:
            return exemplars
        time.sleep(0.5)


def test_prometheus_stores_error_exemplars(
    tmp_path: Path, registry: CollectorRegistry, fake_api: FakeConnectlyAPI
) -> None:
    recorded = record_traffic(registry, fake_api, errors=1)
    with connectly_obs.start_metrics_server(0, registry=registry) as server, run_prometheus(
        tmp_path / "prometheus",
        [f"127.0.0.1:{server.port}"],
        extra_args=["--enable-feature=exemplar-storage"],
    ) as prometheus:
        exemplars = wait_for_exemplars(prometheus, ERRORS_TOTAL)

    assert len(exemplars) == 1, exemplars
    labels = exemplars[0]["labels"]
    assert labels[EXEMPLAR_TRACE_ID] == recorded[0].trace_id
    assert labels[EXEMPLAR_CNT_TRACE_ID] == recorded[0].cnt_trace_id
    assert exemplars[0]["value"] == "1"
