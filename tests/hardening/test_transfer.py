"""Framing around the body: compression, size, redirects, streams and the order of event hooks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, REQUESTS_TOTAL, UNPARSED_ERRORS_TOTAL
from tests.core.helpers import PATH, error_body, errors, requests, total, unparsed
from tests.hardening.harness import (
    CASE_HEADER,
    MODES,
    TRANSPORTS,
    ChunkStream,
    Script,
    hook_errors,
    make_async_client,
    make_client,
    reply,
    scrape,
    serving,
)

VALID = json.dumps(error_body()).encode()
MIB = 1024 * 1024


def outcome(send: Callable[[], httpx.Response]) -> tuple[str, Any]:
    """Return what a caller gets: the body it read, or the type and message of what was raised."""
    try:
        return "body", send().content
    except Exception as exc:
        return type(exc).__name__, str(exc)


async def async_outcome(send: Callable[[], Awaitable[httpx.Response]]) -> tuple[str, Any]:
    try:
        return "body", (await send()).content
    except Exception as exc:
        return type(exc).__name__, str(exc)


# A body labelled gzip that is plain JSON: httpx raises DecodingError when it reads it.
FALSE_GZIP = reply(429, VALID, headers=[("Content-Encoding", "gzip")])


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
def test_false_gzip_same_error_as_without(mode: str, transport: str) -> None:
    registry = CollectorRegistry()
    script = Script({"false-gzip": FALSE_GZIP})
    with serving(transport, script) as base_url:
        with make_client(mode, transport, script, registry, base_url=base_url) as client:
            observed = outcome(lambda: client.post(PATH, headers={CASE_HEADER: "false-gzip"}))
        mock = script.mock_transport() if transport == "mock" else None
        with httpx.Client(base_url=base_url, transport=mock) as bare:
            expected = outcome(lambda: bare.post(PATH, headers={CASE_HEADER: "false-gzip"}))

    assert expected[0] == "DecodingError"
    assert observed == expected
    assert unparsed(registry, "undecodable", "429") == 1
    assert hook_errors(registry) == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_false_gzip_same_error(mode: str, transport: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    script = Script({"false-gzip": FALSE_GZIP})
    with serving(transport, script) as base_url:
        async with make_async_client(mode, transport, script, registry, base_url=base_url) as client:
            observed = await async_outcome(lambda: client.post(PATH, headers={CASE_HEADER: "false-gzip"}))
        mock = script.mock_transport() if transport == "mock" else None
        async with httpx.AsyncClient(base_url=base_url, transport=mock) as bare:
            expected = await async_outcome(lambda: bare.post(PATH, headers={CASE_HEADER: "false-gzip"}))

    assert expected[0] == "DecodingError"
    assert observed == expected
    assert unparsed(registry, "undecodable", "429") == 1
    assert hook_errors(registry) == 0


# 20 MiB with Content-Length, and 5 MiB chunked without it: both far past the 64 KiB bound.
LARGE_BODIES = {
    "sized-20mib": reply(500, b'{"message": "' + b"x" * (20 * MIB) + b'"}', chunk_size=MIB),
    "chunked-5mib": reply(500, b'{"message": "' + b"y" * (5 * MIB) + b'"}', chunk_size=256 * 1024, chunked=True),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(LARGE_BODIES))
def test_large_body_bounded_and_whole(case: str, mode: str, transport: str) -> None:
    registry = CollectorRegistry()
    script = Script(LARGE_BODIES)
    with serving(transport, script) as base_url, make_client(mode, transport, script, registry,
                                                            base_url=base_url) as client:
        response = client.post(PATH, headers={CASE_HEADER: case})
        with client.stream("POST", PATH, headers={CASE_HEADER: case}) as streamed:
            streamed_body = b"".join(streamed.iter_raw())

    assert response.content == LARGE_BODIES[case].body
    assert streamed_body == LARGE_BODIES[case].body
    assert unparsed(registry, "too_large", "500") == 2
    assert hook_errors(registry) == 0
    if transport == "mock":
        assert len(script.streams) == 2
        assert all(stream.closed for stream in script.streams)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(LARGE_BODIES))
@pytest.mark.anyio
async def test_async_large_body_bounded_and_whole(case: str, mode: str, transport: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    script = Script(LARGE_BODIES)
    with serving(transport, script) as base_url:
        async with make_async_client(mode, transport, script, registry, base_url=base_url) as client:
            response = await client.post(PATH, headers={CASE_HEADER: case})

    assert response.content == LARGE_BODIES[case].body
    assert unparsed(registry, "too_large", "500") == 1
    assert hook_errors(registry) == 0


def test_hook_reads_only_to_bound() -> None:
    registry = CollectorRegistry()
    seen: list[int] = []

    class WatchedStream(ChunkStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            for chunk in super().__iter__():
                seen.append(len(chunk))
                yield chunk

    chunks = [b"z" * 1024] * 1024  # 1 MiB in 1 KiB chunks
    transport = httpx.MockTransport(lambda request: httpx.Response(500, stream=WatchedStream(chunks)))
    hooks = connectly_obs.event_hooks(registry=registry, max_body_bytes=8 * 1024)
    with httpx.Client(transport=transport, event_hooks=hooks) as client:
        request = client.build_request("POST", "https://api.connectly.ai" + PATH)
        response = client.send(request, stream=True)
        pulled_by_hook = len(seen)
        response.read()
        response.close()

    # max_body_bytes + 1 bytes: nine 1 KiB chunks, and not one more.
    assert pulled_by_hook == 9
    assert len(response.content) == 1024 * 1024
    assert unparsed(registry, "too_large", "500") == 1


REDIRECT_SCRIPT = {
    # The hop carries a Connectly error body, to show the hook does not parse a 3xx.
    "hop": reply(307, VALID, headers=[("Location", PATH + "?case=final")]),
    "final": reply(429, VALID),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
def test_redirect_hop_not_counted_error(mode: str, transport: str) -> None:
    registry = CollectorRegistry()
    script = Script(REDIRECT_SCRIPT)
    with serving(transport, script) as base_url, make_client(mode, transport, script, registry, base_url=base_url,
                                                            follow_redirects=True) as client:
        response = client.post(PATH, headers={CASE_HEADER: "hop"})

    assert response.status_code == 429
    assert [hop.status_code for hop in response.history] == [307]
    assert response.content == VALID
    assert requests(registry, "307") == 1
    assert requests(registry, "429") == 1
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1
    assert total(registry, ERRORS_TOTAL) == 1
    assert total(registry, UNPARSED_ERRORS_TOTAL) == 0
    assert connectly_obs.parse_error(response.history[0]) is None


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_redirect_hop_not_counted(mode: str, transport: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    script = Script(REDIRECT_SCRIPT)
    with serving(transport, script) as base_url:
        async with make_async_client(mode, transport, script, registry, base_url=base_url,
                                     follow_redirects=True) as client:
            response = await client.post(PATH, headers={CASE_HEADER: "hop"})

    assert response.status_code == 429
    assert requests(registry, "307") == 1
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1
    assert total(registry, ERRORS_TOTAL) == 1
    assert total(registry, UNPARSED_ERRORS_TOTAL) == 0


def read_and_raise(response: httpx.Response) -> None:
    response.read()
    response.raise_for_status()


def just_raise(response: httpx.Response) -> None:
    response.raise_for_status()


async def async_read_and_raise(response: httpx.Response) -> None:
    await response.aread()
    response.raise_for_status()


def user_hook_client(
    script: Script, registry: CollectorRegistry, base_url: str, *, ours: str, user_first: bool,
    user_hook: Callable[[httpx.Response], None] = read_and_raise,
) -> httpx.Client:
    """A client with a user's raising response hook, and ours as event hooks, instrument() or both."""
    hooks: list[Callable[[httpx.Response], None]] = [user_hook]
    if ours in ("event_hooks", "both"):
        our_hooks = connectly_obs.event_hooks(registry=registry, hosts=["api.connectly.ai", "127.0.0.1"])
        hooks = [user_hook, *our_hooks["response"]] if user_first else [*our_hooks["response"], user_hook]
    transport = script.mock_transport() if base_url.startswith("https://") else None
    client = httpx.Client(base_url=base_url, transport=transport, event_hooks={"response": hooks})
    if ours in ("instrument", "both"):
        connectly_obs.instrument(client, registry=registry)
    return client


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("ours", ["event_hooks", "instrument", "both"])
def test_raising_hook_after_ours_counts_once(ours: str, transport: str) -> None:
    registry = CollectorRegistry()
    script = Script({"error": reply(429, VALID)})
    with (
        serving(transport, script) as base_url,
        user_hook_client(script, registry, base_url, ours=ours, user_first=False) as client,
        pytest.raises(httpx.HTTPStatusError) as caught,
    ):
        client.post(PATH, headers={CASE_HEADER: "error"})

    assert caught.value.response.text == VALID.decode()
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1
    assert total(registry, REQUESTS_TOTAL) == 1
    assert hook_errors(registry) == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("ours", ["instrument", "both"])
def test_raising_hook_before_ours_instrument_counts(ours: str, transport: str) -> None:
    registry = CollectorRegistry()
    script = Script({"error": reply(429, VALID)})
    with (
        serving(transport, script) as base_url,
        user_hook_client(script, registry, base_url, ours=ours, user_first=True) as client,
        pytest.raises(httpx.HTTPStatusError) as caught,
    ):
        client.post(PATH, headers={CASE_HEADER: "error"})

    assert caught.value.response.text == VALID.decode()
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1
    assert total(registry, REQUESTS_TOTAL) == 1


def test_raising_hook_before_event_hooks_hides() -> None:
    # The documented limit of event hooks alone: httpx stops at the first
    # hook that raises, so ours never runs.
    registry = CollectorRegistry()
    script = Script({"error": reply(429, VALID)})
    with user_hook_client(script, registry, "https://api.connectly.ai", ours="event_hooks",
                          user_first=True) as client, pytest.raises(httpx.HTTPStatusError):
        client.post(PATH, headers={CASE_HEADER: "error"})

    assert total(registry, REQUESTS_TOTAL) == 0


@pytest.mark.parametrize("ours", ["event_hooks", "instrument"])
def test_plain_raise_hook_same_as_without(ours: str) -> None:
    # A hook that raises without reading leaves the body unread and closed,
    # with or without ours: the caller sees the same errors either way.
    script = Script({"error": reply(429, VALID)})

    def caller_view(client: httpx.Client) -> list[tuple[str, Any]]:
        with pytest.raises(httpx.HTTPStatusError) as caught:
            client.post(PATH, headers={CASE_HEADER: "error"})
        response = caught.value.response
        return [outcome(lambda: httpx.Response(200, text=response.text)), outcome(lambda: response)]

    registry = CollectorRegistry()
    with user_hook_client(script, registry, "https://api.connectly.ai", ours=ours, user_first=False,
                          user_hook=just_raise) as client:
        observed = caller_view(client)
    with httpx.Client(transport=script.mock_transport(), base_url="https://api.connectly.ai",
                      event_hooks={"response": [just_raise]}) as bare:
        expected = caller_view(bare)

    assert observed == expected
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1


@pytest.mark.parametrize("ours", ["event_hooks", "instrument", "both"])
@pytest.mark.anyio
async def test_async_raising_hook_after_ours(ours: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    script = Script({"error": reply(429, VALID)})
    hooks: list[Any] = [async_read_and_raise]
    if ours in ("event_hooks", "both"):
        hooks = [*connectly_obs.async_event_hooks(registry=registry)["response"], async_read_and_raise]
    client = httpx.AsyncClient(transport=script.mock_transport(), base_url="https://api.connectly.ai",
                               event_hooks={"response": hooks})
    if ours in ("instrument", "both"):
        connectly_obs.instrument(client, registry=registry)
    async with client:
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.post(PATH, headers={CASE_HEADER: "error"})

    assert caught.value.response.text == VALID.decode()
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1
    assert total(registry, REQUESTS_TOTAL) == 1


@pytest.mark.anyio
async def test_async_raising_hook_before_instrument(anyio_backend: str) -> None:
    registry = CollectorRegistry()
    script = Script({"error": reply(429, VALID)})
    hooks = [async_read_and_raise, *connectly_obs.async_event_hooks(registry=registry)["response"]]
    client = httpx.AsyncClient(transport=script.mock_transport(), base_url="https://api.connectly.ai",
                               event_hooks={"response": hooks})
    connectly_obs.instrument(client, registry=registry)
    async with client:
        with pytest.raises(httpx.HTTPStatusError):
            await client.post(PATH, headers={CASE_HEADER: "error"})

    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", "429") == 1
    assert total(registry, REQUESTS_TOTAL) == 1


LARGE_SUCCESS = reply(200, b"s" * (8 * MIB), "application/octet-stream", chunk_size=MIB)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
def test_streamed_success_body_untouched(mode: str, transport: str) -> None:
    registry = CollectorRegistry()
    script = Script({"large": LARGE_SUCCESS})
    with (
        serving(transport, script) as base_url,
        make_client(mode, transport, script, registry, base_url=base_url) as client,
        client.stream("GET", PATH, headers={CASE_HEADER: "large"}) as response,
    ):
        assert response.num_bytes_downloaded == 0
        assert not response.is_stream_consumed
        assert "Replay" not in type(response.stream).__name__
        if transport == "mock":
            assert script.streams[0].pulled == 0
        received = b"".join(response.iter_raw())

    assert received == LARGE_SUCCESS.body
    assert requests(registry, "200", method="GET") == 1
    assert connectly_obs.parse_error(response) is None
    scrape(registry)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.anyio
async def test_async_streamed_success_untouched(mode: str, transport: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    script = Script({"large": LARGE_SUCCESS})
    with serving(transport, script) as base_url:
        async with (
            make_async_client(mode, transport, script, registry, base_url=base_url) as client,
            client.stream("GET", PATH, headers={CASE_HEADER: "large"}) as response,
        ):
            assert response.num_bytes_downloaded == 0
            assert "Replay" not in type(response.stream).__name__
            if transport == "mock":
                assert script.streams[0].pulled == 0
            received = b"".join([chunk async for chunk in response.aiter_raw()])

    assert received == LARGE_SUCCESS.body
    assert requests(registry, "200", method="GET") == 1
