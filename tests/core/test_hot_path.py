"""The shortcuts the hot path takes, checked against the slow way they replace."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import types
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs import ConnectlyError
from connectly_obs._body import parse_body
from connectly_obs._metrics import EXEMPLAR_INTERVAL_SECONDS, metrics_for
from connectly_obs._names import (
    ERRORS_TOTAL,
    EXEMPLAR_CNT_TRACE_ID,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
)
from tests.core.helpers import PATH, ROUTE, error_body, errors, requests

JSON = httpx.Headers({"Content-Type": "application/json"})


def test_from_dict_equals_constructor() -> None:
    body = error_body()
    parsed = ConnectlyError.from_dict({**body, "details": {"field": "to"}}, 429)
    built = ConnectlyError(
        message=body["message"],
        type=body["type"],
        code=body["code"],
        user_title=body["userTitle"],
        user_message=body["userMessage"],
        trace_id=body["cntTraceId"],
        details={"field": "to"},
        status_code=429,
    )

    assert parsed == built
    assert hash(parsed) == hash(built)
    assert repr(parsed) == repr(built)


def test_constructor_copies_details() -> None:
    details = {"field": "to"}
    error = ConnectlyError("m", "ERROR_TYPE_RATE_LIMIT", None, None, None, None, details=details)

    details["field"] = "from"

    assert error.details == {"field": "to"}
    with pytest.raises(TypeError, match="read-only"):
        error.details["field"] = "from"  # type: ignore[index]


@pytest.mark.parametrize("details", [None, [], "text", types.MappingProxyType({})])
def test_constructor_empties_odd_details(details: object) -> None:
    error = ConnectlyError("m", "ERROR_TYPE_RATE_LIMIT", None, None, None, None, details=details)  # type: ignore[arg-type]

    assert error.details == {}


def test_details_reject_every_change() -> None:
    error = ConnectlyError.from_dict({**error_body(), "details": {"field": "to"}}, 429)
    assert error is not None
    details: Any = error.details
    changes = {
        "setitem": lambda: details.__setitem__("field", "from"),
        "delitem": lambda: details.__delitem__("field"),
        "ior": lambda: details.__ior__({"new": 1}),
        "clear": details.clear,
        "pop": lambda: details.pop("field"),
        "popitem": details.popitem,
        "setdefault": lambda: details.setdefault("new", 1),
        "update": lambda: details.update(new=1),
    }

    for name, change in changes.items():
        with pytest.raises(TypeError, match="read-only"):
            change()
        assert dict(details) == {"field": "to"}, name


def test_error_converts_like_any_dataclass() -> None:
    error = ConnectlyError.from_dict({**error_body(), "details": {"field": "to", "hints": ["a"]}}, 429)
    assert error is not None

    as_dict = dataclasses.asdict(error)
    copied = copy.deepcopy(error)

    assert as_dict["details"] == {"field": "to", "hints": ["a"]}
    assert as_dict["code"] == "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"
    assert json.loads(json.dumps(as_dict))["details"] == {"field": "to", "hints": ["a"]}
    assert copied == error
    assert copied.details is not error.details
    with pytest.raises(TypeError, match="read-only"):
        copied.details["field"] = "from"  # type: ignore[index]


def test_from_dict_value_stays_frozen() -> None:
    error = ConnectlyError.from_dict(error_body(), 429)
    assert error is not None

    with pytest.raises(dataclasses.FrozenInstanceError):
        error.code = "ERROR_CODE_OTHER"  # type: ignore[misc]
    assert dataclasses.replace(error, status_code=400).status_code == 400
    assert copy.copy(error) == error


def test_error_survives_pickle() -> None:
    error = ConnectlyError.from_dict({**error_body(), "details": {"field": "to"}}, 429)
    assert error is not None

    restored = pickle.loads(pickle.dumps(error))

    assert restored == error
    assert dict(restored.details) == {"field": "to"}
    with pytest.raises(TypeError):
        restored.details["field"] = "from"


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_wide_charsets_still_parse(charset: str) -> None:
    headers = httpx.Headers({"Content-Type": f"application/json; charset={charset}"})
    content = json.dumps(error_body(message="Ça coûte")).encode(charset)

    error = parse_body(content, headers, 429, encoded=True).error

    assert error is not None
    assert error.code == "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"
    assert error.message == "Ça coûte"


@pytest.mark.parametrize("content_type", ["application/json; charset=iso-8859-1", "application/json; charset=nope"])
def test_ascii_body_reads_alike_in_any_charset(content_type: str) -> None:
    content = json.dumps(error_body()).encode("ascii")

    declared = parse_body(content, httpx.Headers({"Content-Type": content_type}), 429, encoded=True).error
    plain = parse_body(content, JSON, 429, encoded=True).error

    assert declared is not None
    assert declared == plain


def test_trailing_value_is_not_json() -> None:
    content = json.dumps(error_body()).encode() + b" {}"
    assert parse_body(content, JSON, 429, encoded=True).reason == "not_json"


def test_series_cache_stays_bounded() -> None:
    registry = CollectorRegistry()
    metrics = metrics_for(registry, record_business_id=False)

    for index in range(10_000):
        metrics.series("POST", f"/v1/businesses/b{index}/send/messages", 200).count(0.1)

    assert len(metrics.series_by_key) <= 4096
    assert registry.get_sample_value(
        REQUESTS_TOTAL, {"method": "POST", "route": ROUTE, "status_code": "200"}
    ) == 10_000


def test_error_series_cache_stays_bounded() -> None:
    registry = CollectorRegistry()
    metrics = metrics_for(registry, record_business_id=False)
    series = metrics.series("POST", PATH, 429)

    for index in range(10_000):
        metrics.error_series(series, "ERROR_TYPE_RATE_LIMIT", f"ERROR_CODE_GARBAGE_{index}", None).errors.inc()

    assert len(metrics.error_series_by_key) <= 4096
    codes = {
        sample.labels["code"]
        for family in registry.collect()
        for sample in family.samples
        if sample.name == ERRORS_TOTAL
    }
    assert len(codes) <= 51
    assert errors(registry, "ERROR_TYPE_RATE_LIMIT", "other", "429") == 10_000 - 50


def test_response_hook_alone_observes_no_duration(registry: CollectorRegistry) -> None:
    hooks = connectly_obs.event_hooks(registry=registry)
    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
        event_hooks={"response": hooks["response"]},
    )

    client.post(f"https://api.connectly.ai{PATH}")

    assert requests(registry, "200") == 1
    count = registry.get_sample_value(
        f"{REQUEST_DURATION_SECONDS}_count", {"method": "POST", "route": ROUTE, "status_code": "200"}
    )
    assert count == 0


def test_hook_sets_count_only_their_hosts() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    hooks_first = connectly_obs.event_hooks(registry=first, hosts=["first.example.com"])
    hooks_second = connectly_obs.event_hooks(registry=second, hosts=["second.example.com"])
    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
        event_hooks={
            "request": hooks_first["request"] + hooks_second["request"],
            "response": hooks_second["response"] + hooks_first["response"],
        },
    )

    client.post(f"https://first.example.com{PATH}")
    client.post(f"https://second.example.com{PATH}")
    client.post(f"https://second.example.com{PATH}")

    for registry, expected in ((first, 1), (second, 2)):
        assert requests(registry, "200") == expected
        count = registry.get_sample_value(
            f"{REQUEST_DURATION_SECONDS}_count", {"method": "POST", "route": ROUTE, "status_code": "200"}
        )
        assert count == expected


def test_exemplars_are_sampled_per_series() -> None:
    metrics = metrics_for(CollectorRegistry(), record_business_id=False)
    series = metrics.series("POST", PATH, 429)
    rate_limit = metrics.error_series(series, "ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", None)
    not_found = metrics.error_series(series, "ERROR_TYPE_NOT_FOUND", "ERROR_CODE_MESSAGE_TEMPLATE_NOT_FOUND", None)

    assert rate_limit.exemplar_due(1000.0)
    assert not rate_limit.exemplar_due(1000.0 + EXEMPLAR_INTERVAL_SECONDS / 2)
    # Another series has its own interval.
    assert not_found.exemplar_due(1000.0 + EXEMPLAR_INTERVAL_SECONDS / 2)
    assert rate_limit.exemplar_due(1000.0 + EXEMPLAR_INTERVAL_SECONDS)
    assert not rate_limit.exemplar_due(1000.0 + EXEMPLAR_INTERVAL_SECONDS * 1.5)


def test_first_error_of_each_series_has_exemplar(registry: CollectorRegistry) -> None:
    from prometheus_client.openmetrics.exposition import generate_latest
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    bodies = [
        error_body(trace_id="101"),
        error_body(type_="ERROR_TYPE_NOT_FOUND", code="ERROR_CODE_MESSAGE_TEMPLATE_NOT_FOUND", trace_id="202"),
        error_body(trace_id="303"),
    ]
    replies = iter(bodies)
    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(429, json=next(replies))),
        event_hooks=connectly_obs.event_hooks(registry=registry),
    )

    for _ in bodies:
        client.post(f"https://api.connectly.ai{PATH}")

    text = generate_latest(registry).decode()
    samples = {
        sample.labels["code"]: sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == ERRORS_TOTAL
    }
    rate_limit = samples["ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"]
    not_found = samples["ERROR_CODE_MESSAGE_TEMPLATE_NOT_FOUND"]
    assert rate_limit.value == 2
    assert rate_limit.exemplar is not None
    assert rate_limit.exemplar.labels[EXEMPLAR_CNT_TRACE_ID] in ("101", "303")
    assert not_found.exemplar is not None
    assert not_found.exemplar.labels[EXEMPLAR_CNT_TRACE_ID] == "202"
