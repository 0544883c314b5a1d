"""Costs measured one operation at a time: parsing an error body, the prometheus_client floor, a scrape."""

from __future__ import annotations

import json
import random
import statistics
import time
import timeit
import urllib.request
from collections.abc import Callable
from typing import Any

import httpx
from _memory import count_series
from _variants import OUTCOMES
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_http_server

import connectly_obs
from connectly_obs._body import parse_body
from connectly_obs._catalog import CODES, TYPES
from connectly_obs._durations import RequestsFromDurations
from connectly_obs._labels import DEFAULT_MAX_ROUTES, DEFAULT_MAX_UNDOCUMENTED
from connectly_obs._names import REQUEST_DURATION_BUCKETS
from connectly_obs.testing import build_reply

# Repeats of each micro-benchmark. The best one is reported, because on a
# shared machine every slower repeat only adds other processes' time.
_REPEATS = 7

# Scrapes timed, of which the median is reported.
_SCRAPES = 20


def _best_us(statement: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=_REPEATS)) / number * 1e6


def measure_unit_costs(number: int) -> dict[str, float]:
    """Return the cost in µs of parsing one error body, and of the metric operations under it."""
    reply = build_reply(OUTCOMES["error"], random.Random(1))
    headers = httpx.Headers(reply.headers)
    response = httpx.Response(reply.status, content=reply.body, headers=reply.headers)

    registry = CollectorRegistry()
    counter = Counter("bench_calls_total", "Calls.", ["method", "route", "status_code"], registry=registry)
    histogram = Histogram(
        "bench_seconds", "Time.", ["method", "route", "status_code"], buckets=REQUEST_DURATION_BUCKETS,
        registry=registry,
    )
    counter_child = counter.labels("POST", "/v1/businesses/{businessId}/send/messages", "200")
    histogram_child = histogram.labels("POST", "/v1/businesses/{businessId}/send/messages", "200")
    # The duration histogram that connectly_obs keeps in one process.
    untimed = Counter("bench_untimed_total", "Calls.", ["method", "route", "status_code"], registry=None)
    durations = RequestsFromDurations(untimed, ["method", "route", "status_code"], REQUEST_DURATION_BUCKETS)
    duration_child = durations.labels("POST", "/v1/businesses/{businessId}/send/messages", "200")

    return {
        "json.loads of the body": _best_us(lambda: json.loads(reply.body), number),
        "parse_body() of the body": _best_us(
            lambda: parse_body(reply.body, headers, reply.status, encoded=False), number
        ),
        "parse_error(response)": _best_us(lambda: connectly_obs.parse_error(response), number),
        "Counter child inc()": _best_us(counter_child.inc, number * 4),
        "Histogram child observe()": _best_us(lambda: histogram_child.observe(0.042), number * 4),
        "connectly_obs duration observe()": _best_us(lambda: duration_child.observe(0.042), number * 4),
        "Counter labels(...).inc()": _best_us(
            lambda: counter.labels("POST", "/v1/businesses/{businessId}/send/messages", "200").inc(), number
        ),
    }


def _route_words(count: int) -> list[str]:
    """Return `count` distinct path segments that the route templating keeps as words."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"action_{letters[index // 26]}{letters[index % 26]}" for index in range(count)]


def _error_body(type_: str, code: str) -> bytes:
    return json.dumps(
        {"message": "m", "type": type_, "code": code, "userTitle": "t", "userMessage": "u", "cntTraceId": "1"}
    ).encode()


def _all_replies() -> list[tuple[int, bytes]]:
    """Return one reply for every series a route can have, as (status, body)."""
    replies = [(200, b'{"id": "msg_1", "status": "accepted"}')]
    replies += [(entry.status_code, _error_body(entry.paired_with, code)) for code, entry in CODES.items()]
    replies += [(entry.status_code, _error_body(type_, entry.paired_with)) for type_, entry in TYPES.items()]
    replies += [
        (400, _error_body(f"ERROR_TYPE_NEW_{index}", f"ERROR_CODE_NEW_{index}"))
        for index in range(DEFAULT_MAX_UNDOCUMENTED)
    ]
    replies += [
        (502, b"<html><body>502 Bad Gateway</body></html>"),  # html
        (503, b""),  # empty
        (500, b'{"message": "Internal error", "type": "ERROR_TY'),  # truncated
        (500, b"upstream connect error"),  # not_json
        (400, b'{"detail": "bad"}'),  # wrong_shape
    ]
    return replies


def populate_every_series(routes: int) -> CollectorRegistry:
    """Fill a registry with every reply kind on each of `routes` routes, through the event hooks."""
    replies = _all_replies()
    queue: list[tuple[int, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = queue.pop()
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    registry = CollectorRegistry()
    with httpx.Client(
        base_url="https://api.connectly.ai",
        transport=httpx.MockTransport(handler),
        event_hooks=connectly_obs.event_hooks(registry=registry),
    ) as client:
        for word in _route_words(routes):
            for reply in replies:
                queue.append(reply)
                client.post(f"/v1/businesses/b1/{word}", json={})
    return registry


def measure_scrape(routes: int = DEFAULT_MAX_ROUTES) -> dict[str, Any]:
    """Time the exposition of a registry with every series populated, directly and over HTTP."""
    registry = populate_every_series(routes)
    generate_times = []
    for _ in range(_SCRAPES):
        start = time.perf_counter()
        body = generate_latest(registry)
        generate_times.append(time.perf_counter() - start)

    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        http_times = []
        for _ in range(_SCRAPES):
            start = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
            http_times.append(time.perf_counter() - start)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return {
        "routes": routes,
        "generate_latest_ms": statistics.median(generate_times) * 1e3,
        "http_scrape_ms": statistics.median(http_times) * 1e3,
        "exposition_kib": len(body) / 1024,
        **count_series(registry),
    }
