"""The clients compared: bare httpx, connectly_obs, opentelemetry-instrumentation-httpx and mixes.

Every variant gets its own client, its own transport instance, its own
CollectorRegistry and, with the SDK, its own tracer provider. Nothing here
calls `trace.set_tracer_provider()`: each variant passes `tracer_provider=`
explicitly, so the global provider stays the API's proxy all run long.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry, Counter, Histogram

import connectly_obs
from connectly_obs._names import (
    ATTR_ERROR_CODE,
    ERRORS_TOTAL,
    LABEL_METHOD,
    LABEL_ROUTE,
    LABEL_STATUS_CODE,
    REQUEST_DURATION_BUCKETS,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
)
from connectly_obs.testing import REPLY_HEADER, build_reply

# The Connectly endpoint that sends a message, with a UUID business id.
PATH = "/v1/businesses/4f1c2a9e-8d3b-4c5e-9a7f-2b6d8e0c1a35/send/messages"
PAYLOAD = {
    "sender": "+14155550100",
    "number": "+14155550199",
    "templateName": "order_update",
    "language": "en",
}
API_KEY = "benchmark-key"

# Reply kinds of the fake API: a success and a documented Connectly error.
OUTCOMES = {"ok": "ok", "error": "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"}


@dataclass(frozen=True)
class Variant:
    """One way of setting up the client."""

    name: str
    connectly: str | None = None  # None, "hooks", "instrument" or "floor"
    otel_httpx: bool = False
    sdk: bool = False


VARIANTS: tuple[Variant, ...] = (
    Variant("bare httpx"),
    # Built exactly like the first: the two must tie, or the harness is biased.
    Variant("bare httpx (twin)"),
    # Event hooks that only time the call, increment a counter and observe a
    # histogram through cached children: the least any metrics hook can do.
    Variant("floor: inc() + observe() hooks", connectly="floor"),
    Variant("connectly hooks", connectly="hooks"),
    Variant("connectly instrument()", connectly="instrument"),
    Variant("connectly hooks + SDK", connectly="hooks", sdk=True),
    Variant("connectly instrument() + SDK", connectly="instrument", sdk=True),
    Variant("otel-httpx", otel_httpx=True),
    Variant("otel-httpx + SDK", otel_httpx=True, sdk=True),
    Variant("otel-httpx + connectly hooks", connectly="hooks", otel_httpx=True),
    Variant("otel-httpx + connectly hooks + SDK", connectly="hooks", otel_httpx=True, sdk=True),
    Variant("otel-httpx + connectly instrument()", connectly="instrument", otel_httpx=True),
    Variant(
        "otel-httpx + connectly instrument() + SDK", connectly="instrument", otel_httpx=True, sdk=True
    ),
)


class CountingExporter(SpanExporter):
    """A span exporter that discards spans after counting them.

    With `inspect` set it also counts the spans that carry a Connectly error
    code. Timing runs with `inspect` off, so that the export thread does the
    same small amount of work for every variant.
    """

    def __init__(self) -> None:
        self.spans = 0
        self.error_spans = 0
        self.inspect = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        if self.inspect:
            self.error_spans += sum(1 for span in spans if span.attributes and ATTR_ERROR_CODE in span.attributes)
        return SpanExportResult.SUCCESS

    def reset(self, *, inspect: bool) -> None:
        self.spans = 0
        self.error_spans = 0
        self.inspect = inspect


@dataclass
class Target:
    """The destination of the requests: a MockTransport, or a loopback server."""

    kind: str  # "mock" or "loopback"
    base_url: str
    hosts: tuple[str, ...]
    outcome: str  # a key of OUTCOMES

    def new_handler(self) -> Callable[[httpx.Request], httpx.Response] | None:
        """Return a MockTransport handler, or None for a loopback target."""
        if self.kind == "loopback":
            return None
        # One reply, built once: the handler's cost is the same for every variant.
        reply = build_reply(OUTCOMES[self.outcome], random.Random(1))

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(reply.status, content=reply.body, headers=reply.headers)

        return handler


def mock_target(outcome: str) -> Target:
    return Target("mock", "https://api.connectly.ai", ("api.connectly.ai",), outcome)


def loopback_target(base_url: str, outcome: str) -> Target:
    return Target("loopback", base_url, ("127.0.0.1",), outcome)


@dataclass
class BuiltClient:
    """A variant's client and what is needed to check and close it."""

    variant: Variant
    client: httpx.Client | httpx.AsyncClient
    registry: CollectorRegistry | None
    exporter: CountingExporter | None
    provider: SDKTracerProvider | None
    times: list[float] = field(default_factory=list)

    def requests_counted(self) -> float:
        return _sample_sum(self.registry, REQUESTS_TOTAL)

    def errors_counted(self) -> float:
        return _sample_sum(self.registry, ERRORS_TOTAL)

    def shutdown_provider(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def _sample_sum(registry: CollectorRegistry | None, family_name: str) -> float:
    if registry is None:
        return 0.0
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == family_name:
                total += sample.value
    return total


_FLOOR_START = "benchmark.start"


def _floor_hooks(registry: CollectorRegistry | None) -> dict[str, list[Callable[..., Any]]]:
    """Return sync event hooks that count and time every response, and nothing else."""
    labels = [LABEL_METHOD, LABEL_ROUTE, LABEL_STATUS_CODE]
    requests = Counter(REQUESTS_TOTAL, "Calls.", labels, registry=registry)
    duration = Histogram(
        REQUEST_DURATION_SECONDS, "Call time.", labels, buckets=REQUEST_DURATION_BUCKETS, registry=registry
    )
    children: dict[int, tuple[Any, Any]] = {}

    def on_request(request: httpx.Request) -> None:
        request.extensions[_FLOOR_START] = time.perf_counter()

    def on_response(response: httpx.Response) -> None:
        elapsed = time.perf_counter() - response.request.extensions[_FLOOR_START]
        pair = children.get(response.status_code)
        if pair is None:
            values = ("POST", "/v1/businesses/{businessId}/send/messages", str(response.status_code))
            pair = children[response.status_code] = (requests.labels(*values), duration.labels(*values))
        pair[0].inc()
        pair[1].observe(elapsed)

    return {"request": [on_request], "response": [on_response]}


def _async_floor_hooks(registry: CollectorRegistry | None) -> dict[str, list[Callable[..., Any]]]:
    """Return the async twins of `_floor_hooks`."""
    sync_hooks = _floor_hooks(registry)
    on_request, on_response = sync_hooks["request"][0], sync_hooks["response"][0]

    async def on_request_async(request: httpx.Request) -> None:
        on_request(request)

    async def on_response_async(response: httpx.Response) -> None:
        on_response(response)

    return {"request": [on_request_async], "response": [on_response_async]}


def build_client(variant: Variant, target: Target, *, is_async: bool) -> BuiltClient:
    """Set up one variant's client for one target."""
    exporter: CountingExporter | None = None
    provider: SDKTracerProvider | None = None
    tracer_provider: trace.TracerProvider
    if variant.sdk:
        exporter = CountingExporter()
        provider = SDKTracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        tracer_provider = provider
    else:
        tracer_provider = trace.NoOpTracerProvider()

    registry = CollectorRegistry() if variant.connectly else None
    headers = {"X-API-Key": API_KEY, REPLY_HEADER: OUTCOMES[target.outcome]}
    # Each client gets its own MockTransport: instrument_client() patches the
    # transport instance, so a shared one would instrument every client.
    handler = target.new_handler()
    transport = None if handler is None else httpx.MockTransport(handler)
    options: dict[str, Any] = {"registry": registry, "tracer_provider": tracer_provider, "hosts": target.hosts}

    client: httpx.Client | httpx.AsyncClient
    if is_async:
        async_hooks: dict[str, list[Callable[..., Any]]] = {}
        if variant.connectly == "hooks":
            async_hooks = dict(connectly_obs.async_event_hooks(**options))
        elif variant.connectly == "floor":
            async_hooks = _async_floor_hooks(registry)
        client = httpx.AsyncClient(
            base_url=target.base_url, headers=headers, event_hooks=async_hooks, transport=transport
        )
        if variant.connectly == "instrument":
            connectly_obs.instrument(client, **options)
    else:
        sync_hooks: dict[str, list[Callable[..., Any]]] = {}
        if variant.connectly == "hooks":
            sync_hooks = dict(connectly_obs.event_hooks(**options))
        elif variant.connectly == "floor":
            sync_hooks = _floor_hooks(registry)
        client = httpx.Client(base_url=target.base_url, headers=headers, event_hooks=sync_hooks, transport=transport)
        # connectly_obs goes first, so that the OpenTelemetry span wraps ours
        # and is still open when we see the response.
        if variant.connectly == "instrument":
            connectly_obs.instrument(client, **options)

    if variant.otel_httpx:
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider()
        )
    return BuiltClient(variant, client, registry, exporter, provider)


def check_instrumented(built: BuiltClient, requests_sent: int, outcome: str) -> list[str]:
    """Return what is wrong with a variant after `requests_sent` requests, if anything.

    Without these checks a variant that silently records nothing would look
    cheap and the comparison would mean nothing.
    """
    variant = built.variant
    problems = []
    if variant.connectly:
        counted = built.requests_counted()
        if counted != requests_sent:
            problems.append(f"counted {counted:g} requests, expected {requests_sent}")
    if variant.connectly in ("hooks", "instrument"):
        expected_errors = requests_sent if outcome == "error" else 0
        errors = built.errors_counted()
        if errors != expected_errors:
            problems.append(f"counted {errors:g} Connectly errors, expected {expected_errors}")
    if variant.otel_httpx and not getattr(built.client, "_is_instrumented_by_opentelemetry", False):
        problems.append("opentelemetry-instrumentation-httpx did not instrument the client")
    if built.exporter is not None:
        exporter = built.exporter
        if variant.otel_httpx and exporter.spans < requests_sent:
            problems.append(f"exported {exporter.spans} spans, expected at least {requests_sent}")
        records_errors = variant.connectly in ("hooks", "instrument") and outcome == "error"
        expected_error_spans = requests_sent if records_errors else 0
        if exporter.error_spans != expected_error_spans:
            problems.append(
                f"exported {exporter.error_spans} spans with a Connectly error code, expected {expected_error_spans}"
            )
    return [f"{variant.name}: {problem}" for problem in problems]
