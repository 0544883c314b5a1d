"""Every tracing layout, sync and async: where the cntTraceId lands, and that no span is lost or doubled.

Layouts (docs/tracing.md draws each one):

- none: no opentelemetry-instrumentation-httpx; connectly-obs makes the HTTP span.
- global: HTTPXClientInstrumentor().instrument(), which patches httpx's transport classes.
- client_before: instrument_client() applied before connectly-obs.
- client_after: instrument_client() applied after connectly-obs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import ATTR_TRACE_ID, HOOK_ERRORS_TOTAL
from connectly_obs.testing import REPLY_HEADER, FakeConnectlyAPI
from tests.conftest import API_KEY
from tests.core.helpers import PATH, errors, total
from tests.core.test_tracing import SpanCounter

LAYOUTS = ["none", "global", "client_before", "client_after"]
MODES = ["event_hooks", "instrument"]
OTEL_HTTPX_SCOPE = "opentelemetry.instrumentation.httpx"
ERROR_KINDS = ("ERROR_CODE_BUSINESS_REACHED_LIMITS", "ERROR_TYPE_RATE_LIMIT")
APP_SPAN = "send whatsapp message"

Traced = tuple[TracerProvider, InMemorySpanExporter, SpanCounter]


@contextlib.contextmanager
def global_instrumentation(layout: str, provider: TracerProvider) -> Iterator[None]:
    """Patch httpx's transport classes for the "global" layout, and always undo it."""
    if layout != "global":
        yield
        return
    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


def add_ours(client: httpx.Client | httpx.AsyncClient, mode: str, registry: CollectorRegistry,
             provider: TracerProvider) -> None:
    if mode == "instrument":
        connectly_obs.instrument(client, registry=registry, tracer_provider=provider)
        return
    options = {"registry": registry, "tracer_provider": provider, "hosts": ["127.0.0.1"]}
    if isinstance(client, httpx.AsyncClient):
        client.event_hooks = connectly_obs.async_event_hooks(**options)  # type: ignore[arg-type]
    else:
        client.event_hooks = connectly_obs.event_hooks(**options)  # type: ignore[arg-type]


def configure(client: httpx.Client | httpx.AsyncClient, layout: str, mode: str, registry: CollectorRegistry,
              provider: TracerProvider) -> None:
    if layout == "client_before":
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    add_ours(client, mode, registry, provider)
    if layout == "client_after":
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def check_layout(layout: str, mode: str, traced: Traced, registry: CollectorRegistry,
                 caplog: pytest.LogCaptureFixture) -> None:
    _, exporter, counter = traced
    finished = exporter.get_finished_spans()
    http_spans = {span.context.span_id: span for span in finished if span.kind is SpanKind.CLIENT}
    carriers = [span for span in finished if span.attributes and ATTR_TRACE_ID in span.attributes]
    app_spans = [span for span in finished if span.name == APP_SPAN]

    # One HTTP span per request (connectly-obs alone makes them for errors
    # only), and one span with the cntTraceId per error.
    assert len(http_spans) == len(ERROR_KINDS) + (0 if layout == "none" else 1)
    assert len(carriers) == len(ERROR_KINDS)
    assert counter.started == counter.ended
    assert len(app_spans) == len(ERROR_KINDS) + 1

    for carrier in carriers:
        assert carrier.status.status_code is StatusCode.ERROR
        http_span = carrier_http_span(carrier, http_spans)
        assert http_span.context.trace_id == carrier.context.trace_id
        assert http_span.parent is not None
        assert http_span.parent.span_id in {span.context.span_id for span in app_spans}
        assert_carrier_shape(layout, mode, carrier, http_span)

    assert not [record for record in caplog.records if record.name.startswith("opentelemetry")]
    assert total(registry, HOOK_ERRORS_TOTAL) == 0
    assert errors(registry, "ERROR_TYPE_BUSINESS_LIMIT", "ERROR_CODE_BUSINESS_REACHED_LIMITS", "403") == 1


def carrier_http_span(carrier: ReadableSpan, http_spans: dict[int, ReadableSpan]) -> ReadableSpan:
    if carrier.kind is SpanKind.CLIENT:
        return carrier
    assert carrier.parent is not None
    return http_spans[carrier.parent.span_id]


def assert_carrier_shape(layout: str, mode: str, carrier: ReadableSpan, http_span: ReadableSpan) -> None:
    scope = http_span.instrumentation_scope.name if http_span.instrumentation_scope else None
    if layout == "none":
        assert carrier is http_span
        assert scope == "connectly_obs._observer"
    elif layout == "client_after" and mode == "instrument":
        # The other instrumentation's span is still open when ours receives the response.
        assert carrier is http_span
        assert scope == OTEL_HTTPX_SCOPE
    else:
        # Its span has ended by then, so the error goes on a child span.
        assert carrier.kind is SpanKind.INTERNAL
        assert carrier.name == "connectly.error"
        assert scope == OTEL_HTTPX_SCOPE


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sync_layout_one_span_per_error(
    layout: str, mode: str, fake_api: FakeConnectlyAPI, traced: Traced, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    provider = traced[0]
    caplog.set_level(logging.WARNING)
    with global_instrumentation(layout, provider):
        client = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY})
        configure(client, layout, mode, registry, provider)
        tracer = provider.get_tracer("app")
        with client:
            for kind in (*ERROR_KINDS, "ok"):
                with tracer.start_as_current_span(APP_SPAN):
                    client.post(PATH, headers={REPLY_HEADER: kind})

    check_layout(layout, mode, traced, registry, caplog)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.anyio
async def test_async_layout_one_span_per_error(
    layout: str, mode: str, fake_api: FakeConnectlyAPI, traced: Traced, caplog: pytest.LogCaptureFixture,
    anyio_backend: str,
) -> None:
    registry = CollectorRegistry()
    provider = traced[0]
    caplog.set_level(logging.WARNING)
    with global_instrumentation(layout, provider):
        client = httpx.AsyncClient(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY})
        configure(client, layout, mode, registry, provider)
        tracer = provider.get_tracer("app")
        async with client:
            for kind in (*ERROR_KINDS, "ok"):
                with tracer.start_as_current_span(APP_SPAN):
                    await client.post(PATH, headers={REPLY_HEADER: kind})

    check_layout(layout, mode, traced, registry, caplog)


class BrokenTracer:
    def start_span(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("tracer exploded")


class BrokenProvider:
    def get_tracer(self, *args: object, **kwargs: object) -> BrokenTracer:
        return BrokenTracer()


def check_broken_tracer(registry: CollectorRegistry, response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.json()["type"] == "ERROR_TYPE_RATE_LIMIT"
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_UNSPECIFIED", "429") == 1
    assert registry.get_sample_value(HOOK_ERRORS_TOTAL, {"stage": "span"}) == 1


def test_broken_tracer_spares_event_hooks(fake_api: FakeConnectlyAPI, caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    caplog.set_level(logging.CRITICAL, logger="connectly_obs")
    hooks = connectly_obs.event_hooks(registry=registry, tracer_provider=BrokenProvider(),  # type: ignore[arg-type]
                                      hosts=["127.0.0.1"])
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, event_hooks=hooks) as client:
        response = client.post(PATH, headers={REPLY_HEADER: "ERROR_TYPE_RATE_LIMIT"})

    check_broken_tracer(registry, response)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_broken_tracer_spares_caller(
    mode: str, fake_api: FakeConnectlyAPI, caplog: pytest.LogCaptureFixture, anyio_backend: str
) -> None:
    registry = CollectorRegistry()
    caplog.set_level(logging.CRITICAL, logger="connectly_obs")
    client = httpx.AsyncClient(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY})
    if mode == "instrument":
        connectly_obs.instrument(client, registry=registry, tracer_provider=BrokenProvider())  # type: ignore[arg-type]
    else:
        client.event_hooks = connectly_obs.async_event_hooks(  # type: ignore[assignment]
            registry=registry, tracer_provider=BrokenProvider(), hosts=["127.0.0.1"]  # type: ignore[arg-type]
        )
    async with client:
        response = await client.post(PATH, headers={REPLY_HEADER: "ERROR_TYPE_RATE_LIMIT"})

    check_broken_tracer(registry, response)
