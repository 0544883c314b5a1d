"""Spans: the cntTraceId on the right span, every span ended, nothing private exported."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import ATTR_ERROR_CODE, ATTR_ERROR_MESSAGE, ATTR_ERROR_TYPE, ATTR_TRACE_ID, EVENT_ERROR
from connectly_obs.testing import REPLY_HEADER, FakeConnectlyAPI
from tests.conftest import API_KEY
from tests.core.helpers import PATH, error_response

PHONE_DIGITS = re.compile(r"415\D?555\D?01|7946\D?0958")


class SpanCounter(SpanProcessor):
    def __init__(self) -> None:
        self.started = 0
        self.ended = 0

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter, SpanCounter]]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    counter = SpanCounter()
    provider.add_span_processor(counter)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter, counter
    provider.shutdown()


def send_errors(client: httpx.Client, provider: TracerProvider) -> None:
    tracer = provider.get_tracer("app")
    for kind in ("ERROR_CODE_PHONE_NUMBER_BAD_FORMAT", "ERROR_CODE_MESSAGE_CUSTOMER_OPTED_OUT", "ok"):
        with tracer.start_as_current_span("send whatsapp message"):
            client.post(PATH, headers={REPLY_HEADER: kind})


def error_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.attributes and ATTR_TRACE_ID in span.attributes]


def check_common(
    exporter: InMemorySpanExporter, counter: SpanCounter, caplog: pytest.LogCaptureFixture
) -> list[ReadableSpan]:
    spans = error_spans(exporter)
    assert len(spans) == 2
    for span in spans:
        assert span.attributes is not None
        assert re.fullmatch(r"[0-9]{1,20}", str(span.attributes[ATTR_TRACE_ID]))
        assert span.attributes[ATTR_ERROR_TYPE] == "ERROR_TYPE_INVALID_REQUEST"
        assert str(span.attributes[ATTR_ERROR_CODE]).startswith("ERROR_CODE_")
        assert span.attributes["error.type"] == span.attributes[ATTR_ERROR_CODE]
        assert span.status.status_code is StatusCode.ERROR
        events = [event for event in span.events if event.name == EVENT_ERROR]
        assert len(events) == 1
        assert "[redacted phone]" in str(events[0].attributes[ATTR_ERROR_MESSAGE])  # type: ignore[index]

    assert counter.started == counter.ended
    exported = "".join(span.to_json() for span in exporter.get_finished_spans())
    assert not PHONE_DIGITS.search(exported)
    assert API_KEY not in exported
    assert "X-API-Key" not in exported
    assert "x-api-key" not in exported
    assert not [record for record in caplog.records if record.name.startswith("opentelemetry")]
    return spans


def app_span_ids(exporter: InMemorySpanExporter) -> set[int]:
    return {span.context.span_id for span in exporter.get_finished_spans() if span.name == "send whatsapp message"}


@pytest.mark.parametrize("mode", ["event_hooks", "instrument"])
def test_own_client_span_without_other_instrumentation(
    mode: str,
    fake_api: FakeConnectlyAPI,
    registry: CollectorRegistry,
    traced: tuple[TracerProvider, InMemorySpanExporter, SpanCounter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, exporter, counter = traced
    client = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY})
    if mode == "event_hooks":
        client.event_hooks = connectly_obs.event_hooks(
            registry=registry, tracer_provider=provider, hosts=["127.0.0.1"]
        )
    else:
        connectly_obs.instrument(client, registry=registry, tracer_provider=provider)
    with client:
        send_errors(client, provider)

    spans = check_common(exporter, counter, caplog)
    for span in spans:
        assert span.kind is SpanKind.CLIENT
        assert span.name == "POST /v1/businesses/{businessId}/send/messages"
        assert span.attributes is not None
        assert span.attributes["http.request.method"] == "POST"
        assert span.attributes["url.template"] == "/v1/businesses/{businessId}/send/messages"
        assert span.parent is not None
        assert span.parent.span_id in app_span_ids(exporter)
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time < span.end_time


def test_instrumentation_outside_ours_gets_attributes(
    fake_api: FakeConnectlyAPI,
    registry: CollectorRegistry,
    traced: tuple[TracerProvider, InMemorySpanExporter, SpanCounter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, exporter, counter = traced
    client = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY})
    connectly_obs.instrument(client, registry=registry, tracer_provider=provider)
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    with client:
        send_errors(client, provider)

    spans = check_common(exporter, counter, caplog)
    client_spans = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert len(client_spans) == 3  # one per request: no duplicate
    for span in spans:
        assert span in client_spans
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "opentelemetry.instrumentation.httpx"


@pytest.mark.parametrize("mode", ["event_hooks", "instrument"])
def test_instrumentation_inside_ours_gets_child_span(
    mode: str,
    fake_api: FakeConnectlyAPI,
    registry: CollectorRegistry,
    traced: tuple[TracerProvider, InMemorySpanExporter, SpanCounter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, exporter, counter = traced
    client = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY})
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    if mode == "event_hooks":
        client.event_hooks = connectly_obs.event_hooks(
            registry=registry, tracer_provider=provider, hosts=["127.0.0.1"]
        )
    else:
        connectly_obs.instrument(client, registry=registry, tracer_provider=provider)
    with client:
        send_errors(client, provider)

    spans = check_common(exporter, counter, caplog)
    finished = exporter.get_finished_spans()
    client_spans = {span.context.span_id: span for span in finished if span.kind is SpanKind.CLIENT}
    assert len(client_spans) == 3
    for span in spans:
        assert span.kind is SpanKind.INTERNAL
        assert span.parent is not None
        http_span = client_spans[span.parent.span_id]
        assert http_span.context.trace_id == span.context.trace_id


def test_exemplar_links_trace_and_cnt_trace_id(
    fake_api: FakeConnectlyAPI,
    registry: CollectorRegistry,
    traced: tuple[TracerProvider, InMemorySpanExporter, SpanCounter],
) -> None:
    from prometheus_client.openmetrics.exposition import generate_latest

    provider, exporter, _ = traced
    client = connectly_obs.instrument(
        httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}),
        registry=registry,
        tracer_provider=provider,
    )
    with client:
        response = client.post(PATH, headers={REPLY_HEADER: "ERROR_CODE_BUSINESS_REACHED_LIMITS"})
    cnt_trace_id = response.json()["cntTraceId"]
    span = error_spans(exporter)[0]

    text = generate_latest(registry).decode()
    line = next(line for line in text.splitlines() if line.startswith("connectly_api_errors_total{"))
    assert f'cnt_trace_id="{cnt_trace_id}"' in line
    assert f'trace_id="{trace.format_trace_id(span.context.trace_id)}"' in line


def test_broken_tracer_provider_does_not_reach_caller(
    fake_api: FakeConnectlyAPI, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenTracer:
        def start_span(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("tracer exploded")

    class BrokenProvider:
        def get_tracer(self, *args: object, **kwargs: object) -> BrokenTracer:
            return BrokenTracer()

    caplog.set_level(logging.WARNING, logger="connectly_obs")
    client = connectly_obs.instrument(
        httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}),
        registry=registry,
        tracer_provider=BrokenProvider(),  # type: ignore[arg-type]
    )
    with client:
        response = client.post(PATH, headers={REPLY_HEADER: "ERROR_TYPE_RATE_LIMIT"})

    assert response.status_code == 429
    labels = {"type": "ERROR_TYPE_RATE_LIMIT", "code": "ERROR_CODE_UNSPECIFIED", "status_code": "429",
              "route": "/v1/businesses/{businessId}/send/messages"}
    assert registry.get_sample_value("connectly_api_errors_total", labels) == 1
    assert registry.get_sample_value("connectly_obs_hook_errors_total", {"stage": "span"}) == 1


@pytest.mark.parametrize("mode", ["event_hooks", "instrument"])
def test_echoed_api_key_not_exported(
    mode: str,
    registry: CollectorRegistry,
    traced: tuple[TracerProvider, InMemorySpanExporter, SpanCounter],
) -> None:
    provider, exporter, _ = traced

    def echo_key(request: httpx.Request) -> httpx.Response:
        message = f"API key {request.headers['X-API-Key']} is not valid"
        return error_response(401, type_="ERROR_TYPE_AUTHENTICATION", code="ERROR_CODE_UNSPECIFIED", message=message)

    options: dict[str, Any] = {"registry": registry, "tracer_provider": provider}
    transport = httpx.MockTransport(echo_key)
    headers = {"X-API-Key": API_KEY}
    if mode == "event_hooks":
        client = httpx.Client(
            base_url="https://api.connectly.ai",
            transport=transport,
            headers=headers,
            event_hooks=connectly_obs.event_hooks(**options),
        )
    else:
        client = connectly_obs.instrument(
            httpx.Client(base_url="https://api.connectly.ai", transport=transport, headers=headers), **options
        )

    with client:
        response = client.post(PATH)

    assert API_KEY in response.text
    exported = "".join(span.to_json() for span in exporter.get_finished_spans())
    assert "[redacted api key]" in exported
    assert API_KEY not in exported
