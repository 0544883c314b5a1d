"""Small helpers shared by the core tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from connectly_obs._names import ERRORS_TOTAL, REQUESTS_TOTAL, TRANSPORT_ERRORS_TOTAL, UNPARSED_ERRORS_TOTAL

ROUTE = "/v1/businesses/{businessId}/send/messages"
PATH = "/v1/businesses/3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a90/send/messages"


def error_body(
    type_: str = "ERROR_TYPE_RATE_LIMIT",
    code: str = "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED",
    trace_id: str = "11824978358485860716",
    message: str = "Rate limit reached",
) -> dict[str, Any]:
    return {
        "message": message,
        "type": type_,
        "code": code,
        "userTitle": message,
        "userMessage": "Pass along the connectly trace id to the team.",
        "cntTraceId": trace_id,
        "details": {},
    }


def error_response(status: int = 429, **fields: Any) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(error_body(**fields)).encode(),
                          headers={"Content-Type": "application/json"})


def errors(registry: CollectorRegistry, type_: str, code: str, status: str, route: str = ROUTE) -> float:
    value = registry.get_sample_value(
        ERRORS_TOTAL, {"type": type_, "code": code, "status_code": status, "route": route}
    )
    return value or 0.0


def requests(registry: CollectorRegistry, status: str, method: str = "POST", route: str = ROUTE) -> float:
    value = registry.get_sample_value(REQUESTS_TOTAL, {"method": method, "route": route, "status_code": status})
    return value or 0.0


def unparsed(registry: CollectorRegistry, reason: str, status: str, route: str = ROUTE) -> float:
    value = registry.get_sample_value(
        UNPARSED_ERRORS_TOTAL, {"reason": reason, "status_code": status, "route": route}
    )
    return value or 0.0


def transport_errors(registry: CollectorRegistry, exception: str, route: str = ROUTE) -> float:
    value = registry.get_sample_value(TRANSPORT_ERRORS_TOTAL, {"exception": exception, "route": route})
    return value or 0.0


def total(registry: CollectorRegistry, name: str) -> float:
    """Sum every sample of a counter family, whatever its labels."""
    family = name.removesuffix("_total")
    return sum(
        sample.value
        for metric in registry.collect()
        if metric.name == family
        for sample in metric.samples
        if sample.name == name
    )
