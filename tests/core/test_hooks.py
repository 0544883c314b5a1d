"""The hooks and instrument() over a real loopback server, sync and async."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._catalog import CODES, TYPES
from connectly_obs._names import HOOK_ERRORS_TOTAL, REQUESTS_TOTAL
from connectly_obs.testing import REPLY_HEADER, FakeConnectlyAPI
from tests.conftest import API_KEY
from tests.core.helpers import PATH, errors, requests, total, transport_errors, unparsed

MODES = ["event_hooks", "instrument"]


def sync_client(mode: str, api: FakeConnectlyAPI, registry: CollectorRegistry, **options: object) -> httpx.Client:
    if mode == "event_hooks":
        hooks = connectly_obs.event_hooks(registry=registry, hosts=["127.0.0.1"])
        return httpx.Client(base_url=api.base_url, headers={"X-API-Key": API_KEY}, event_hooks=hooks, **options)
    client = httpx.Client(base_url=api.base_url, headers={"X-API-Key": API_KEY}, **options)
    return connectly_obs.instrument(client, registry=registry)


def async_client(mode: str, api: FakeConnectlyAPI, registry: CollectorRegistry, **options: object) -> httpx.AsyncClient:
    if mode == "event_hooks":
        hooks = connectly_obs.async_event_hooks(registry=registry, hosts=["127.0.0.1"])
        return httpx.AsyncClient(base_url=api.base_url, headers={"X-API-Key": API_KEY}, event_hooks=hooks, **options)
    client = httpx.AsyncClient(base_url=api.base_url, headers={"X-API-Key": API_KEY}, **options)
    return connectly_obs.instrument(client, registry=registry)


def reply(kind: str) -> dict[str, str]:
    return {REPLY_HEADER: kind}


@pytest.mark.parametrize("mode", MODES)
def test_sync_counts_each_code_exactly(mode: str, fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    sent = {}
    with sync_client(mode, fake_api, registry) as client:
        for index, code in enumerate(CODES):
            sent[code] = index % 3 + 1
            for _ in range(sent[code]):
                client.post(PATH, headers=reply(code))
        for _ in range(5):
            client.post(PATH, headers=reply("ok"))

    for code, count in sent.items():
        entry = CODES[code]
        assert errors(registry, entry.paired_with, code, str(entry.status_code)) == count, code
    assert requests(registry, "200") == 5
    assert total(registry, REQUESTS_TOTAL) == 5 + sum(sent.values())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_counts_each_type_exactly(
    mode: str, fake_api: FakeConnectlyAPI, registry: CollectorRegistry
) -> None:
    async with async_client(mode, fake_api, registry) as client:
        await asyncio.gather(
            *(client.post(PATH, headers=reply(type_)) for type_ in TYPES for _ in range(2)),
            *(client.post(PATH, headers=reply("ok")) for _ in range(3)),
        )

    for type_, entry in TYPES.items():
        assert errors(registry, type_, "ERROR_CODE_UNSPECIFIED", str(entry.status_code)) == 2, type_
    assert requests(registry, "200") == 3


@pytest.mark.parametrize("mode", MODES)
def test_sync_caller_reads_whole_body(mode: str, fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    with sync_client(mode, fake_api, registry) as client:
        response = client.post(PATH, headers=reply("ERROR_CODE_BUSINESS_REACHED_LIMITS"))
        body = response.json()
        assert body["code"] == "ERROR_CODE_BUSINESS_REACHED_LIMITS"
        assert response.text == json.dumps(body)
        assert connectly_obs.parse_error(response).trace_id == body["cntTraceId"]  # type: ignore[union-attr]

        with client.stream("POST", PATH, headers=reply("ERROR_CODE_BUSINESS_REACHED_LIMITS")) as streamed:
            error = connectly_obs.parse_error(streamed)
            content = b"".join(streamed.iter_bytes())
        streamed_body = json.loads(content)
        assert streamed_body["code"] == "ERROR_CODE_BUSINESS_REACHED_LIMITS"
        assert error is not None
        assert error.trace_id == streamed_body["cntTraceId"]

        with client.stream("POST", PATH, headers=reply("ok")) as success:
            assert json.loads(success.read())["status"] == "accepted"

    assert errors(registry, "ERROR_TYPE_BUSINESS_LIMIT", "ERROR_CODE_BUSINESS_REACHED_LIMITS", "403") == 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_caller_reads_whole_body(
    mode: str, fake_api: FakeConnectlyAPI, registry: CollectorRegistry
) -> None:
    async with async_client(mode, fake_api, registry) as client:
        response = await client.post(PATH, headers=reply("ERROR_TYPE_AUTHENTICATION"))
        assert response.json()["type"] == "ERROR_TYPE_AUTHENTICATION"

        async with client.stream("POST", PATH, headers=reply("ERROR_TYPE_AUTHENTICATION")) as streamed:
            chunks = [chunk async for chunk in streamed.aiter_bytes()]
        assert json.loads(b"".join(chunks))["type"] == "ERROR_TYPE_AUTHENTICATION"

        async with client.stream("POST", PATH, headers=reply("gateway-502")) as page:
            text = (await page.aread()).decode()
        assert "<h1>502 Bad Gateway</h1>" in text

    assert errors(registry, "ERROR_TYPE_AUTHENTICATION", "ERROR_CODE_UNSPECIFIED", "401") == 2
    assert unparsed(registry, "html", "502") == 1


@pytest.mark.parametrize("mode", MODES)
def test_sync_odd_bodies_never_raise(mode: str, fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    with sync_client(mode, fake_api, registry) as client:
        gateway = client.post(PATH, headers=reply("gateway-502"))
        empty = client.post(PATH, headers=reply("empty-503"))
        truncated = client.post(PATH, headers=reply("truncated"))

    assert gateway.status_code == 502
    assert "Bad Gateway" in gateway.text
    assert empty.content == b""
    assert truncated.text.endswith('"ERROR_TY')
    assert connectly_obs.parse_error(gateway) is None
    assert connectly_obs.parse_error(empty) is None
    assert connectly_obs.parse_error(truncated) is None
    assert unparsed(registry, "html", "502") == 1
    assert unparsed(registry, "empty", "503") == 1
    assert unparsed(registry, "truncated", "500") == 1
    assert total(registry, HOOK_ERRORS_TOTAL) == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_odd_bodies_never_raise(
    mode: str, fake_api: FakeConnectlyAPI, registry: CollectorRegistry
) -> None:
    async with async_client(mode, fake_api, registry) as client:
        responses = [await client.post(PATH, headers=reply(kind)) for kind in ("gateway-502", "empty-503", "truncated")]

    assert [response.status_code for response in responses] == [502, 503, 500]
    assert unparsed(registry, "html", "502") == 1
    assert unparsed(registry, "empty", "503") == 1
    assert unparsed(registry, "truncated", "500") == 1


def test_instrument_twice_counts_once(fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    hooks = connectly_obs.event_hooks(registry=registry, hosts=["127.0.0.1"])
    client = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, event_hooks=hooks)
    connectly_obs.instrument(client, registry=registry)
    connectly_obs.instrument(client, registry=registry)
    with client:
        client.post(PATH, headers=reply("ERROR_TYPE_RATE_LIMIT"))
        client.post(PATH, headers=reply("ok"))

    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_UNSPECIFIED", "429") == 1
    assert total(registry, REQUESTS_TOTAL) == 2


@pytest.mark.anyio
async def test_async_instrument_twice_counts_once(fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    hooks = connectly_obs.async_event_hooks(registry=registry, hosts=["127.0.0.1"])
    client = httpx.AsyncClient(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, event_hooks=hooks)
    connectly_obs.instrument(client, registry=registry)
    connectly_obs.instrument(client, registry=registry)
    async with client:
        await client.post(PATH, headers=reply("ERROR_TYPE_RATE_LIMIT"))

    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_UNSPECIFIED", "429") == 1
    assert total(registry, REQUESTS_TOTAL) == 1


def test_shared_transport_counts_once(fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    transport = httpx.HTTPTransport()
    first = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, transport=transport)
    second = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, transport=transport)
    connectly_obs.instrument(first, registry=registry)
    connectly_obs.instrument(second, registry=registry)
    # A third client built on the first one's instrumented transport.
    third = httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, transport=first._transport)
    connectly_obs.instrument(third, registry=registry)

    for client in (first, second, third):
        client.post(PATH, headers=reply("ERROR_CODE_MESSAGE_TEMPLATE_NOT_FOUND"))
    transport.close()

    assert errors(registry, "ERROR_TYPE_NOT_FOUND", "ERROR_CODE_MESSAGE_TEMPLATE_NOT_FOUND", "404") == 3


def test_many_hooks_share_one_registry(registry: CollectorRegistry) -> None:
    for _ in range(5):
        connectly_obs.event_hooks(registry=registry)
        connectly_obs.async_event_hooks(registry=registry)
        connectly_obs.instrument(httpx.Client(), registry=registry)
    assert total(registry, REQUESTS_TOTAL) == 0


def test_default_registry_is_global() -> None:
    from prometheus_client import REGISTRY

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    client = httpx.Client(transport=httpx.MockTransport(handler), event_hooks=connectly_obs.event_hooks())
    before = REGISTRY.get_sample_value(REQUESTS_TOTAL, {"method": "GET", "route": "/v1/ping", "status_code": "200"})
    client.get("https://api.connectly.ai/v1/ping")
    after = REGISTRY.get_sample_value(REQUESTS_TOTAL, {"method": "GET", "route": "/v1/ping", "status_code": "200"})
    assert (after or 0) - (before or 0) == 1


@pytest.mark.parametrize("mode", MODES)
def test_other_hosts_pass_uncounted(mode: str, registry: CollectorRegistry) -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500, json={"type": "ERROR_TYPE_UNSPECIFIED", "code": "ERROR_CODE_UNSPECIFIED"})

    transport = httpx.MockTransport(handler)
    if mode == "event_hooks":
        client = httpx.Client(transport=transport, event_hooks=connectly_obs.event_hooks(registry=registry))
    else:
        client = connectly_obs.instrument(httpx.Client(transport=transport), registry=registry)
    response = client.get("https://example.test/v1/businesses/b/send/messages")

    assert response.json()["type"] == "ERROR_TYPE_UNSPECIFIED"
    assert "connectly_obs.observed" not in response.extensions
    assert total(registry, REQUESTS_TOTAL) == 0
    assert len(seen) == 1


def test_instrument_counts_timeouts(fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    with sync_client("instrument", fake_api, registry, timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.post(PATH, headers=reply("slow"))
    assert transport_errors(registry, "ReadTimeout") == 1
    assert total(registry, REQUESTS_TOTAL) == 0


def test_instrument_counts_refused_connections(registry: CollectorRegistry) -> None:
    from tests.support.servers import free_port

    client = connectly_obs.instrument(httpx.Client(base_url=f"http://127.0.0.1:{free_port()}"), registry=registry)
    with pytest.raises(httpx.ConnectError):
        client.post(PATH)
    assert transport_errors(registry, "ConnectError") == 1


@pytest.mark.anyio
async def test_async_cancellation_is_counted(fake_api: FakeConnectlyAPI, registry: CollectorRegistry) -> None:
    async with async_client("instrument", fake_api, registry) as client:
        task = asyncio.ensure_future(client.post(PATH, headers=reply("slow")))
        for _ in range(100):
            if fake_api.requests_served:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The client still works after the cancellation.
        assert (await client.post(PATH, headers=reply("ok"))).status_code == 200

    assert transport_errors(registry, "CancelledError") == 1
    assert requests(registry, "200") == 1


@pytest.fixture
def broken_errors_counter(registry: CollectorRegistry) -> Iterator[None]:
    from connectly_obs._metrics import metrics_for

    metrics = metrics_for(registry, record_business_id=False)
    original = metrics.errors

    class Broken:
        def labels(self, *values: str) -> object:
            raise RuntimeError("simulated failure inside the library")

    metrics.errors = Broken()  # type: ignore[assignment]
    yield
    metrics.errors = original


@pytest.mark.parametrize("mode", MODES)
def test_internal_failure_is_swallowed_and_logged_once(
    mode: str,
    fake_api: FakeConnectlyAPI,
    registry: CollectorRegistry,
    broken_errors_counter: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="connectly_obs")
    with sync_client(mode, fake_api, registry) as client:
        responses = [client.post(PATH, headers=reply("ERROR_TYPE_RATE_LIMIT")) for _ in range(3)]

    assert all(response.json()["type"] == "ERROR_TYPE_RATE_LIMIT" for response in responses)
    assert total(registry, HOOK_ERRORS_TOTAL) == 3
    warnings = [record for record in caplog.records if record.name.startswith("connectly_obs")]
    assert len(warnings) == 1
    assert API_KEY not in caplog.text
