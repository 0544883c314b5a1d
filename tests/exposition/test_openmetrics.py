"""The standalone server negotiates OpenMetrics, so exemplars reach Prometheus."""

from __future__ import annotations

import gzip
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, EXEMPLAR_CNT_TRACE_ID, EXEMPLAR_TRACE_ID, REQUESTS_TOTAL
from connectly_obs.testing import FakeConnectlyAPI
from tests.exposition.conftest import ERROR_CODE, record_traffic

# What Prometheus 2.42 sends, and what later versions send.
PROMETHEUS_2_42_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
PROMETHEUS_LATER_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)
TEXT_ACCEPT = "text/plain;version=0.0.4"


def scrape(url: str, accept: str | None, accept_encoding: str | None = None) -> tuple[str, str]:
    """GET `url` and return its Content-Type and decoded body."""
    headers = {}
    if accept is not None:
        headers["Accept"] = accept
    if accept_encoding is not None:
        headers["Accept-Encoding"] = accept_encoding
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return response.headers["Content-Type"], body.decode()


@pytest.mark.parametrize("accept", [PROMETHEUS_2_42_ACCEPT, PROMETHEUS_LATER_ACCEPT])
def test_openmetrics_scrape_carries_exemplars(
    registry: CollectorRegistry, fake_api: FakeConnectlyAPI, accept: str
) -> None:
    recorded = record_traffic(registry, fake_api, errors=2)
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        content_type, body = scrape(server.url, accept)

    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    families = {family.name: family for family in parse_openmetrics(body)}
    errors = [sample for sample in families["connectly_api_errors"].samples if sample.name == ERRORS_TOTAL]
    assert len(errors) == 1
    assert errors[0].labels["code"] == ERROR_CODE
    assert errors[0].value == 2
    exemplar = errors[0].exemplar
    assert exemplar is not None
    # Exemplars are sampled at most every 100 ms, so it may be either
    # increment's, but both ids must come from the same one.
    matching = [error for error in recorded if error.trace_id == exemplar.labels[EXEMPLAR_TRACE_ID]]
    assert len(matching) == 1
    assert exemplar.labels[EXEMPLAR_CNT_TRACE_ID] == matching[0].cnt_trace_id


def test_text_scrape_has_same_samples_without_exemplars(
    registry: CollectorRegistry, fake_api: FakeConnectlyAPI
) -> None:
    record_traffic(registry, fake_api, errors=2)
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        text_type, text = scrape(server.url, TEXT_ACCEPT)
        _, openmetrics = scrape(server.url, PROMETHEUS_LATER_ACCEPT)

    assert text_type == "text/plain; version=0.0.4; charset=utf-8"
    assert " # {" not in text
    text_errors = [s for f in parse_text(text) for s in f.samples if s.name == ERRORS_TOTAL]
    openmetrics_errors = [s for f in parse_openmetrics(openmetrics) for s in f.samples if s.name == ERRORS_TOTAL]
    assert [(s.labels, s.value) for s in text_errors] == [(s.labels, s.value) for s in openmetrics_errors]
    assert all(sample.exemplar is None for sample in text_errors)


def test_scrape_without_accept_gets_text(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=1)
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        content_type, body = scrape(server.url, None)

    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert f"{ERRORS_TOTAL}{{" in body


def test_accept_q_values_decide_format(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=1)
    prefers_text = "application/openmetrics-text;version=1.0.0;q=0.2,text/plain;version=0.0.4;q=0.9"
    rejects_openmetrics = "application/openmetrics-text;version=1.0.0;q=0,text/plain;version=0.0.4;q=0.1"
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        first_type, _ = scrape(server.url, prefers_text)
        second_type, _ = scrape(server.url, rejects_openmetrics)

    assert first_type.startswith("text/plain")
    assert second_type.startswith("text/plain")


def test_exemplars_false_strips_them(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=1)
    with connectly_obs.start_metrics_server(0, registry=registry, exemplars=False) as server:
        content_type, body = scrape(server.url, PROMETHEUS_LATER_ACCEPT)

    assert content_type.startswith("application/openmetrics-text")
    errors = [s for f in parse_openmetrics(body) for s in f.samples if s.name == ERRORS_TOTAL]
    assert errors[0].value == 1
    assert errors[0].exemplar is None


def test_gzip_and_name_filter(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=1)
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        _, body = scrape(f"{server.url}?name[]={REQUESTS_TOTAL}", TEXT_ACCEPT, accept_encoding="gzip")

    names = {sample.name for family in parse_text(body) for sample in family.samples}
    assert names == {REQUESTS_TOTAL}
