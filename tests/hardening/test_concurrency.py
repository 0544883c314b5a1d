"""Exact totals under threads and tasks, and cancellation of async calls in flight."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, REQUESTS_TOTAL, TRANSPORT_ERRORS_TOTAL, UNPARSED_ERRORS_TOTAL
from tests.core.helpers import PATH, error_body, errors, requests, total, transport_errors, unparsed
from tests.core.test_tracing import SpanCounter
from tests.hardening.harness import MODES, hook_errors, scrape

THREADS = 8
REQUESTS_PER_THREAD = 10_000
TASKS = 1_000

RATE_LIMIT = json.dumps(error_body()).encode()
BUSINESS_LIMIT = json.dumps(
    error_body(type_="ERROR_TYPE_BUSINESS_LIMIT", code="ERROR_CODE_BUSINESS_REACHED_LIMITS")
).encode()

# Reply by request number modulo 5: (status, body, content type).
MIX = [
    (200, b'{"id": "msg_1"}', "application/json"),
    (429, RATE_LIMIT, "application/json"),
    (403, BUSINESS_LIMIT, "application/json"),
    (502, b"<html>Bad Gateway</html>", "text/html"),
    (200, b'{"id": "msg_2"}', "application/json"),
]


def mixed_reply(request: httpx.Request) -> httpx.Response:
    status, content, content_type = MIX[int(request.headers["X-Number"]) % len(MIX)]
    return httpx.Response(status, content=content, headers={"Content-Type": content_type})


def check_mixed_totals(registry: CollectorRegistry, sent: int) -> None:
    per_kind = sent // len(MIX)
    assert requests(registry, "200") == 2 * per_kind
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == per_kind
    assert errors(registry, "ERROR_TYPE_BUSINESS_LIMIT", "ERROR_CODE_BUSINESS_REACHED_LIMITS", "403") == per_kind
    assert unparsed(registry, "html", "502") == per_kind
    assert total(registry, REQUESTS_TOTAL) == sent
    assert total(registry, ERRORS_TOTAL) == 2 * per_kind
    assert total(registry, UNPARSED_ERRORS_TOTAL) == per_kind
    assert hook_errors(registry) == 0
    histogram_count = sum(
        sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "connectly_api_request_duration_seconds_count"
    )
    assert histogram_count == sent
    scrape(registry)


def test_threads_share_client_exact_totals() -> None:
    registry = CollectorRegistry()
    client = httpx.Client(
        transport=httpx.MockTransport(mixed_reply),
        base_url="https://api.connectly.ai",
        event_hooks=connectly_obs.event_hooks(registry=registry),
    )
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker() -> None:
        try:
            start.wait(timeout=30)
            for number in range(REQUESTS_PER_THREAD):
                client.post(PATH, headers={"X-Number": str(number)})
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    client.close()

    assert not [thread for thread in threads if thread.is_alive()]
    assert failures == []
    check_mixed_totals(registry, THREADS * REQUESTS_PER_THREAD)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_tasks_share_client_exact_totals(mode: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()

    async def handler(request: httpx.Request) -> httpx.Response:
        # Yield to the event loop so that the tasks interleave.
        await asyncio.sleep(0)
        return mixed_reply(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="https://api.connectly.ai")
    if mode == "instrument":
        connectly_obs.instrument(client, registry=registry)
    else:
        client.event_hooks = connectly_obs.async_event_hooks(registry=registry)  # type: ignore[assignment]
    async with client:
        await asyncio.gather(*(client.post(PATH, headers={"X-Number": str(number)}) for number in range(TASKS)))

    check_mixed_totals(registry, TASKS)


class StalledBody(httpx.AsyncByteStream):
    """An error body that sends its first bytes and then waits forever."""

    def __init__(self, started: asyncio.Event) -> None:
        self.started = started
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"type": "ERROR_TYPE_RATE_LIMIT", '
        self.started.set()
        await asyncio.Event().wait()
        yield b"}"

    async def aclose(self) -> None:
        self.closed = True


async def cancel_when(task: asyncio.Task[httpx.Response], started: asyncio.Event) -> None:
    await asyncio.wait_for(started.wait(), timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("stage", ["before_headers", "during_body"])
@pytest.mark.anyio
async def test_cancelled_call_counted_and_cleaned(
    stage: str, traced: tuple[TracerProvider, InMemorySpanExporter, SpanCounter], anyio_backend: str
) -> None:
    registry = CollectorRegistry()
    provider, exporter, counter = traced
    tasks_before = asyncio.all_tasks()
    started = asyncio.Event()
    bodies: list[StalledBody] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Then") == "ok":
            return httpx.Response(200)
        if stage == "before_headers":
            started.set()
            await asyncio.Event().wait()
        body = StalledBody(started)
        bodies.append(body)
        return httpx.Response(429, stream=body, headers={"Content-Type": "application/json"})

    client = connectly_obs.instrument(
        httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="https://api.connectly.ai"),
        registry=registry,
        tracer_provider=provider,
    )
    async with client:
        task = asyncio.ensure_future(client.post(PATH))
        await cancel_when(task, started)
        # The client still works afterwards.
        assert (await client.post(PATH, headers={"X-Then": "ok"})).status_code == 200

    assert transport_errors(registry, "CancelledError") == 1
    assert total(registry, TRANSPORT_ERRORS_TOTAL) == 1
    assert total(registry, ERRORS_TOTAL) == 0
    assert requests(registry, "200") == 1
    assert hook_errors(registry) == 0
    assert counter.started == counter.ended
    spans = exporter.get_finished_spans()
    assert [span.attributes["error.type"] for span in spans if span.attributes] == ["CancelledError"]
    assert all(body.closed for body in bodies)
    assert task.cancelled()
    assert asyncio.all_tasks() == tasks_before
    scrape(registry)
