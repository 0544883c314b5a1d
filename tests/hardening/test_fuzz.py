"""Property-based tests: generated statuses, headers and bodies thrown at the hooks.

Each example is sent twice through MockTransport with a raw byte stream: once
through an instrumented client and once through a bare one. The caller must
see the same outcome (the same body, or the same exception), nothing may fail
inside the library, and a scrape must succeed after every example.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, HOOK_ERRORS_TOTAL, REQUESTS_TOTAL, UNPARSED_ERRORS_TOTAL
from tests.core.helpers import PATH, error_body
from tests.hardening.harness import ChunkStream

SYNC_EXAMPLES = 5_000
ASYNC_EXAMPLES = 5_000

FUZZ_SETTINGS = settings(
    max_examples=SYNC_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

KNOWN_LABELS = {"method", "route", "status_code", "type", "code", "reason", "exception", "stage", "le"}


@dataclass
class Generated:
    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

CONNECTLY_KEYS = ["message", "type", "code", "userTitle", "userMessage", "cntTraceId", "details"]


@st.composite
def connectly_bodies(draw: st.DrawFn) -> bytes:
    """A Connectly error body with some fields replaced, removed or added, maybe mutated byte by byte."""
    body: dict[str, Any] = error_body()
    for key in draw(st.lists(st.sampled_from(CONNECTLY_KEYS), max_size=3, unique=True)):
        if draw(st.booleans()):
            del body[key]
        else:
            body[key] = draw(json_values)
    for key, value in draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)).items():
        body.setdefault(key, value)
    data = bytearray(json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass"))
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        if operation == "flip" and position < len(data):
            data[position] ^= draw(st.integers(1, 255))
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 8))]
        elif operation == "cut":
            del data[position:]
    return bytes(data)


bodies = st.one_of(
    st.binary(max_size=512),
    json_values.map(lambda value: json.dumps(value).encode()),
    connectly_bodies(),
)

content_types = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-8", "application/json; charset=iso-8859-1",
     "application/json; charset=utf-16", "application/json; charset=no-such-charset", "text/plain",
     "text/html", "application/octet-stream", "application/problem+json; charset="]
)

encodings = st.sampled_from([None, "gzip", "deflate", "identity", "gzip, identity", "x-gzip", "br", "zstd", "bogus"])

header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).map(lambda name: "x-" + name)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@st.composite
def responses(draw: st.DrawFn) -> Generated:
    status = draw(st.one_of(st.integers(200, 599), st.sampled_from([100, 204, 304, 600, 999])))
    body = draw(bodies)
    headers: list[tuple[str, str]] = []
    content_type = draw(content_types)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    encoding = draw(encodings)
    if encoding is not None:
        headers.append(("Content-Encoding", encoding))
        # Most of the time the body really is in the declared encoding.
        if draw(st.booleans()):
            if encoding in ("gzip", "x-gzip", "gzip, identity"):
                body = gzip.compress(body)
            elif encoding == "deflate":
                body = zlib.compress(body)
    headers += draw(st.lists(st.tuples(header_names, header_values), max_size=3))
    if draw(st.booleans()):
        headers.append(("Content-Length", str(len(body))))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
    chunks = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True) if end > start]
    return Generated(status, headers, chunks)


class Replayer:
    """A MockTransport handler that returns the current generated response as an unread stream."""

    def __init__(self) -> None:
        self.current = Generated(200, [], [])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        generated = self.current
        return httpx.Response(generated.status, headers=generated.headers, stream=ChunkStream(generated.chunks))


def outcome_of(response: httpx.Response | None, error: Exception | None) -> tuple[Any, ...]:
    if error is not None:
        return (type(error).__name__, str(error))
    assert response is not None
    return ("body", response.status_code, response.content)


def check_registry(registry: CollectorRegistry, status: int) -> None:
    """Scrape the registry once, parse it back, and check every sample and the totals of this one call."""
    text = generate_latest(registry).decode()
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert set(sample.labels) <= KNOWN_LABELS, sample
            assert all(isinstance(value, str) and value for value in sample.labels.values()), sample
            assert math.isfinite(sample.value), sample
            assert sample.value >= 0, sample
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value

    assert sums.get(HOOK_ERRORS_TOTAL, 0.0) == 0
    assert sums.get(REQUESTS_TOTAL) == 1
    classified = sums.get(ERRORS_TOTAL, 0.0) + sums.get(UNPARSED_ERRORS_TOTAL, 0.0)
    assert classified == (1 if status >= 400 else 0)


MODES = ["event_hooks", "instrument", "both"]


def send(client: httpx.Client) -> tuple[Any, ...]:
    try:
        return outcome_of(client.post(PATH), None)
    except Exception as exc:
        return outcome_of(None, exc)


@FUZZ_SETTINGS
@given(generated=responses(), mode=st.sampled_from(MODES))
def test_generated_responses_never_hurt_caller(generated: Generated, mode: str) -> None:
    registry = CollectorRegistry()
    replayer = Replayer()
    replayer.current = generated
    with httpx.Client(transport=httpx.MockTransport(replayer), base_url="https://api.connectly.ai") as bare:
        expected = send(bare)

    client = httpx.Client(
        transport=httpx.MockTransport(replayer),
        base_url="https://api.connectly.ai",
        event_hooks=connectly_obs.event_hooks(registry=registry) if mode != "instrument" else {},
    )
    if mode != "event_hooks":
        connectly_obs.instrument(client, registry=registry)
    with client:
        observed = send(client)

    assert observed == expected
    check_registry(registry, generated.status)


async def async_send(client: httpx.AsyncClient) -> tuple[Any, ...]:
    try:
        return outcome_of(await client.post(PATH), None)
    except Exception as exc:
        return outcome_of(None, exc)


@pytest.mark.anyio
@settings(FUZZ_SETTINGS, max_examples=ASYNC_EXAMPLES)
@given(generated=responses(), mode=st.sampled_from(MODES))
async def test_async_generated_responses_never_hurt(generated: Generated, mode: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    replayer = Replayer()
    replayer.current = generated
    async with httpx.AsyncClient(transport=httpx.MockTransport(replayer), base_url="https://api.connectly.ai") as bare:
        expected = await async_send(bare)

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(replayer),
        base_url="https://api.connectly.ai",
        event_hooks=connectly_obs.async_event_hooks(registry=registry) if mode != "instrument" else {},
    )
    if mode != "event_hooks":
        connectly_obs.instrument(client, registry=registry)
    async with client:
        observed = await async_send(client)

    assert observed == expected
    check_registry(registry, generated.status)
