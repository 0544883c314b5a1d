"""Memory and series count after many error responses with garbage codes.

A misbehaving server, or a proxy that rewrites bodies, can send a new error
code with every response. The label bounds must keep both the number of
series and the process's memory flat however long that goes on.
"""

from __future__ import annotations

import gc
import json
import os
import time
from typing import Any

import httpx
from _variants import PAYLOAD
from prometheus_client import CollectorRegistry, generate_latest

import connectly_obs
from connectly_obs._catalog import CODES, TYPES
from connectly_obs._labels import DEFAULT_MAX_ROUTES, DEFAULT_MAX_UNDOCUMENTED
from connectly_obs._names import LABEL_CODE, LABEL_ROUTE, LABEL_TYPE

# Statuses the garbage errors cycle through.
_STATUSES = (400, 429, 500, 503)

# Distinct business ids in the request paths, so that the route cache fills
# and is cleared over and over.
_BUSINESS_IDS = 1000


def _rss_bytes() -> int:
    # NOTE: Linux only: /proc/self/statm gives the resident set in pages.
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _garbage_code(index: int) -> str:
    """Return the index-th garbage code: a third well formed, a third badly formed, a third too long."""
    if index % 3 == 0:
        return f"ERROR_CODE_GARBAGE_{index}"
    if index % 3 == 1:
        return f"garbage code {index}"
    return "ERROR_CODE_" + "X" * 90 + str(index)


def _garbage_body(request_index: int, distinct_codes: int) -> tuple[int, bytes]:
    code_index = request_index % distinct_codes
    body = {
        "message": f"Unexpected failure number {request_index}",
        "type": "ERROR_TYPE_RATE_LIMIT" if code_index % 2 else f"ERROR_TYPE_JUNK_{code_index}",
        "code": _garbage_code(code_index),
        "userTitle": "Something went wrong",
        "userMessage": "Try again later.",
        "cntTraceId": str(request_index),
        "details": {},
    }
    return _STATUSES[request_index % len(_STATUSES)], json.dumps(body).encode()


def count_series(registry: CollectorRegistry) -> dict[str, Any]:
    """Count label sets per metric family and the distinct values of the bounded labels."""
    per_family: dict[str, int] = {}
    values: dict[str, set[str]] = {LABEL_TYPE: set(), LABEL_CODE: set(), LABEL_ROUTE: set()}
    for family in registry.collect():
        label_sets = set()
        for sample in family.samples:
            labels = {key: value for key, value in sample.labels.items() if key != "le"}
            label_sets.add(tuple(sorted(labels.items())))
            for name, seen in values.items():
                if name in labels:
                    seen.add(labels[name])
        per_family[family.name] = len(label_sets)
    exposition_lines = sum(
        1 for line in generate_latest(registry).splitlines() if line and not line.startswith(b"#")
    )
    return {
        "label_sets": per_family,
        "label_sets_total": sum(per_family.values()),
        "exposition_samples": exposition_lines,
        "distinct_types": len(values[LABEL_TYPE]),
        "distinct_codes": len(values[LABEL_CODE]),
        "distinct_routes": len(values[LABEL_ROUTE]),
        # Documented values, the undocumented ones admitted, "none" and "other".
        "max_types": len(TYPES) + DEFAULT_MAX_UNDOCUMENTED + 2,
        "max_codes": len(CODES) + DEFAULT_MAX_UNDOCUMENTED + 2,
        "max_routes": DEFAULT_MAX_ROUTES + 1,
    }


def run_memory(requests: int, distinct_codes: int) -> dict[str, Any]:
    """Send `requests` garbage error responses through the event hooks and measure what is left."""
    counter = iter(range(requests + 1))

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = _garbage_body(next(counter), distinct_codes)
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    registry = CollectorRegistry()
    client = httpx.Client(
        base_url="https://api.connectly.ai",
        transport=httpx.MockTransport(handler),
        event_hooks=connectly_obs.event_hooks(registry=registry),
    )
    paths = [f"/v1/businesses/b{index}/send/messages" for index in range(_BUSINESS_IDS)]
    warmup = min(10_000, requests // 10)
    start = time.perf_counter()
    with client:
        for index in range(warmup):
            client.post(paths[index % _BUSINESS_IDS], json=PAYLOAD)
        gc.collect()
        rss_before = _rss_bytes()
        for index in range(warmup, requests):
            client.post(paths[index % _BUSINESS_IDS], json=PAYLOAD)
        gc.collect()
        rss_after = _rss_bytes()
    elapsed = time.perf_counter() - start

    return {
        "requests": requests,
        "garbage_codes_sent": distinct_codes,
        "warmup_requests": warmup,
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "rss_growth_mib": (rss_after - rss_before) / 2**20,
        "seconds": elapsed,
        **count_series(registry),
    }
