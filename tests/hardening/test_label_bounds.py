"""Label bounds under a flood of distinct values: the series count stays bounded and the scrape stays valid."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
from collections import Counter as Tally

import httpx
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._catalog import CODES, TYPES
from connectly_obs._labels import DEFAULT_MAX_BUSINESS_IDS, DEFAULT_MAX_ROUTES, DEFAULT_MAX_UNDOCUMENTED
from connectly_obs._metrics import metrics_for
from connectly_obs._names import ERRORS_TOTAL, REQUESTS_TOTAL, TRANSPORT_ERRORS_TOTAL
from tests.core.helpers import PATH, total
from tests.hardening.harness import hook_errors, scrape
from tests.support.servers import find_tool

# Characters that break naive exposition code: quotes, backslashes, line
# breaks, control characters, braces, commas, equals signs, non-ASCII letters
# and lone surrogates.
HOSTILE_ALPHABET = '"\\\n\r\t\x00\x01\x7f{},= abcXYZ_09éß中\u2028\ud800\udfff'


def samples(registry: CollectorRegistry, name: str) -> list[dict[str, str]]:
    family = name.removesuffix("_total")
    return [
        dict(sample.labels)
        for metric in registry.collect()
        if metric.name == family
        for sample in metric.samples
        if sample.name == name
    ]


def promtool_check(text: str) -> None:
    result = subprocess.run(
        [find_tool("promtool"), "check", "metrics"], input=text.encode(), capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def send_bodies(client: httpx.Client, bodies: list[dict[str, object]]) -> None:
    for body in bodies:
        client.post(PATH, content=json.dumps(body).encode())


def test_distinct_types_and_codes_stay_bounded() -> None:
    registry = CollectorRegistry()
    rng = random.Random(20240601)
    hostile = set()
    while len(hostile) < 5_000:
        hostile.add("".join(rng.choice(HOSTILE_ALPHABET) for _ in range(rng.randint(1, 40))))
    hostile_values = sorted(hostile)
    bodies: list[dict[str, object]] = [
        {"type": value, "code": hostile_values[-1 - index], "cntTraceId": str(index)}
        for index, value in enumerate(hostile_values)
    ]
    well_formed = [f"ERROR_CODE_SYNTHETIC_{index:05d}" for index in range(5_000)]
    bodies += [{"type": "ERROR_TYPE_INVALID_REQUEST", "code": code, "cntTraceId": "1"} for code in well_formed]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=request.content, headers={"Content-Type": "application/json"})

    hooks = connectly_obs.event_hooks(registry=registry)
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.connectly.ai",
                      event_hooks=hooks) as client:
        send_bodies(client, bodies)

    series = samples(registry, ERRORS_TOTAL)
    types = {labels["type"] for labels in series}
    codes = {labels["code"] for labels in series}
    undocumented_types = types - set(TYPES) - {"other", "none"}
    undocumented_codes = codes - set(CODES) - {"other", "none"}
    assert len(undocumented_types) <= DEFAULT_MAX_UNDOCUMENTED
    assert len(undocumented_codes) == DEFAULT_MAX_UNDOCUMENTED
    assert undocumented_codes == set(well_formed[:DEFAULT_MAX_UNDOCUMENTED])
    assert len(series) <= (len(TYPES) + DEFAULT_MAX_UNDOCUMENTED + 2) * (len(CODES) + DEFAULT_MAX_UNDOCUMENTED + 2)
    assert len(series) == DEFAULT_MAX_UNDOCUMENTED + 2  # the 50 kept codes, and "other" for each type

    assert total(registry, ERRORS_TOTAL) == 10_000
    assert total(registry, REQUESTS_TOTAL) == 10_000
    assert registry.get_sample_value(
        ERRORS_TOTAL, {"type": "other", "code": "other", "status_code": "400",
                       "route": "/v1/businesses/{businessId}/send/messages"}
    ) == 5_000
    assert hook_errors(registry) == 0

    text = scrape(registry)
    promtool_check(text)


def test_distinct_paths_stay_bounded() -> None:
    registry = CollectorRegistry()
    rng = random.Random(7)
    paths = set()
    while len(paths) < 10_000:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))
        paths.add(f"/v1/{word}/items")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"type": "ERROR_TYPE_NOT_FOUND", "code": "ERROR_CODE_UNSPECIFIED"})

    hooks = connectly_obs.event_hooks(registry=registry)
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.connectly.ai",
                      event_hooks=hooks) as client:
        for path in sorted(paths):
            client.get(path)

    routes = Tally(labels["route"] for labels in samples(registry, REQUESTS_TOTAL))
    assert len(routes) == DEFAULT_MAX_ROUTES + 1
    assert routes["other"] == 1
    assert registry.get_sample_value(REQUESTS_TOTAL, {"method": "GET", "route": "other", "status_code": "404"}) \
        == 10_000 - DEFAULT_MAX_ROUTES
    assert total(registry, REQUESTS_TOTAL) == 10_000
    assert total(registry, ERRORS_TOTAL) == 10_000
    assert len(metrics_for(registry, record_business_id=False).labels._route_cache) <= 4096
    promtool_check(scrape(registry))


def test_distinct_business_ids_stay_bounded() -> None:
    registry = CollectorRegistry()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"type": "ERROR_TYPE_RATE_LIMIT", "code": "ERROR_CODE_UNSPECIFIED"})

    hooks = connectly_obs.event_hooks(registry=registry, record_business_id=True)
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.connectly.ai",
                      event_hooks=hooks) as client:
        for index in range(1_000):
            client.post(f"/v1/businesses/biz-{index}/send/messages")

    business_ids = {labels["business_id"] for labels in samples(registry, ERRORS_TOTAL)}
    assert len(business_ids - {"other"}) == DEFAULT_MAX_BUSINESS_IDS
    assert "other" in business_ids
    assert total(registry, ERRORS_TOTAL) == 1_000
    promtool_check(scrape(registry))


def test_distinct_exception_names_stay_bounded() -> None:
    registry = CollectorRegistry()
    classes = [type(f"ProxyFailure{index}", (httpx.TransportError,), {}) for index in range(200)]
    calls = iter(classes)

    def handler(request: httpx.Request) -> httpx.Response:
        raise next(calls)("simulated proxy failure", request=request)

    client = connectly_obs.instrument(httpx.Client(transport=httpx.MockTransport(handler)), registry=registry)
    with client:
        for _ in classes:
            with contextlib.suppress(httpx.TransportError):
                client.post("https://api.connectly.ai" + PATH)

    names = {labels["exception"] for labels in samples(registry, TRANSPORT_ERRORS_TOTAL)}
    assert len(names - {"other"}) == 50
    assert "other" in names
    assert total(registry, TRANSPORT_ERRORS_TOTAL) == 200
    promtool_check(scrape(registry))


def test_exception_names_bounded_per_registry() -> None:
    # A client per request, each instrumented anew, must share one bound.
    registry = CollectorRegistry()
    classes = [type(f"ProxyFailure{index}", (httpx.TransportError,), {}) for index in range(200)]

    for failure in classes:

        def handler(request: httpx.Request, failure: type[httpx.TransportError] = failure) -> httpx.Response:
            raise failure("simulated proxy failure", request=request)

        client = connectly_obs.instrument(httpx.Client(transport=httpx.MockTransport(handler)), registry=registry)
        with client, contextlib.suppress(httpx.TransportError):
            client.post("https://api.connectly.ai" + PATH)

    names = {labels["exception"] for labels in samples(registry, TRANSPORT_ERRORS_TOTAL)}
    assert len(names - {"other"}) == 50
    assert "other" in names
    assert total(registry, TRANSPORT_ERRORS_TOTAL) == 200
