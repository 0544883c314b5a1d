"""The WSGI and ASGI apps, called in-process as a mounting server would, and the FastAPI example."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, REQUESTS_TOTAL
from connectly_obs.testing import FakeConnectlyAPI
from tests.exposition.conftest import API_KEY, record_traffic

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wsgi_app_serves_openmetrics(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=1)
    app = connectly_obs.make_wsgi_app(registry=registry)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://app") as client:
        response = client.get("/metrics", headers={"Accept": OPENMETRICS_ACCEPT})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    # httpx requests gzip by default and decompresses the body.
    assert response.headers["content-encoding"] == "gzip"
    errors = [s for f in parse_openmetrics(response.text) for s in f.samples if s.name == ERRORS_TOTAL]
    assert errors[0].exemplar is not None


def test_wsgi_app_head_and_post(registry: CollectorRegistry) -> None:
    app = connectly_obs.make_wsgi_app(registry=registry)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://app") as client:
        head = client.head("/metrics")
        post = client.post("/metrics")

    assert head.status_code == 200
    assert head.content == b""
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"
    assert "scrape the metrics with GET" in post.text


@pytest.mark.anyio
async def test_asgi_app_serves_openmetrics(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=1)
    app = connectly_obs.make_asgi_app(registry=registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/metrics", headers={"Accept": OPENMETRICS_ACCEPT})
        post = await client.post("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    errors = [s for f in parse_openmetrics(response.text) for s in f.samples if s.name == ERRORS_TOTAL]
    assert errors[0].value == 1
    assert errors[0].exemplar is not None
    assert post.status_code == 405


@pytest.mark.anyio
async def test_asgi_app_answers_lifespan(registry: CollectorRegistry) -> None:
    app = connectly_obs.make_asgi_app(registry=registry)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app({"type": "lifespan"}, receive, send)

    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


@pytest.mark.anyio
async def test_fastapi_example_serves_metrics(
    registry: CollectorRegistry, fake_api: FakeConnectlyAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTLY_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("CONNECTLY_API_KEY", API_KEY)
    app = load_example("fastapi_app").create_app(registry=registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        sent = await client.post("/messages", json={"to": "+14155550123", "text": "hello"})
        # /metrics itself, with no redirect to /metrics/.
        metrics = await client.get("/metrics", headers={"Accept": OPENMETRICS_ACCEPT})

    assert sent.status_code == 202
    assert metrics.status_code == 200
    requests = [s for f in parse_openmetrics(metrics.text) for s in f.samples if s.name == REQUESTS_TOTAL]
    assert [sample.value for sample in requests] == [1.0]


@pytest.mark.anyio
async def test_fastapi_example_reports_connectly_error(
    registry: CollectorRegistry, fake_api: FakeConnectlyAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTLY_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("CONNECTLY_API_KEY", "wrong-key")
    app = load_example("fastapi_app").create_app(registry=registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        sent = await client.post("/messages", json={"to": "+14155550123", "text": "hello"})

    assert sent.status_code == 502
    assert registry.get_sample_value(
        ERRORS_TOTAL,
        {
            "type": "ERROR_TYPE_AUTHENTICATION",
            "code": "ERROR_CODE_UNSPECIFIED",
            "status_code": "401",
            "route": "/v1/businesses/{businessId}/send/messages",
        },
    ) == 1.0

