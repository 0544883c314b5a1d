"""Traffic for the exposition tests: Connectly errors recorded with spans, in a fresh registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs.testing import REPLY_HEADER, FakeConnectlyAPI

API_KEY = "exposition-test-key"
ERROR_CODE = "ERROR_CODE_BUSINESS_REACHED_LIMITS"


@dataclass
class RecordedError:
    """A Connectly error response that the library counted, with the ids an exemplar should carry."""

    trace_id: str  # 32 hex digits, as in the exemplar
    cnt_trace_id: str


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def fake_api() -> Iterator[FakeConnectlyAPI]:
    with FakeConnectlyAPI(api_key=API_KEY) as api:
        yield api


def record_traffic(
    registry: CollectorRegistry, fake_api: FakeConnectlyAPI, errors: int, ok: int = 1
) -> list[RecordedError]:
    """Send `ok` successful calls and `errors` ERROR_CODE replies through an instrumented client."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorded = []
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}) as client:
        connectly_obs.instrument(client, registry=registry, tracer_provider=provider)
        for _ in range(ok):
            assert client.post("/v1/businesses/b1/send/messages").status_code == 200
        for _ in range(errors):
            response = client.post("/v1/businesses/b1/send/messages", headers={REPLY_HEADER: ERROR_CODE})
            error = connectly_obs.parse_error(response)
            assert error is not None and error.trace_id is not None
            span = exporter.get_finished_spans()[-1]
            recorded.append(RecordedError(f"{span.context.trace_id:032x}", error.trace_id))
    provider.shutdown()
    return recorded
