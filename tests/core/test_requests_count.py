"""The requests counter read from the duration histogram, checked against a plain counter."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families

import connectly_obs
from connectly_obs import _metrics
from connectly_obs._durations import REQUESTS_HELP
from connectly_obs._metrics import metrics_for
from connectly_obs._names import (
    ERRORS_TOTAL,
    HOOK_ERRORS_TOTAL,
    LABEL_METHOD,
    LABEL_ROUTE,
    LABEL_STATUS_CODE,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
)
from tests.core.helpers import PATH, ROUTE, error_body, requests

HOST = "api.example"
FAIL_PATH = "/v1/businesses/b1/fail"
FAIL_ROUTE = "/v1/businesses/{businessId}/fail"


def reply(request: httpx.Request) -> httpx.Response:
    if request.url.path == FAIL_PATH:
        return httpx.Response(429, json=error_body())
    return httpx.Response(200, json={"id": "m1"})


def client(hooks: dict[str, list[object]]) -> httpx.Client:
    return httpx.Client(base_url=f"https://{HOST}", transport=httpx.MockTransport(reply), event_hooks=hooks)


def send_mix(registry: CollectorRegistry) -> None:
    """Send three timed successes, one timed error and two successes without a start time."""
    hooks = connectly_obs.event_hooks(registry=registry, hosts=HOST)
    with client(hooks) as timed:
        for _ in range(3):
            timed.post(PATH)
        timed.post(FAIL_PATH)
    # Only the response hook, so no request hook stores a start time.
    with client({"response": hooks["response"]}) as untimed:
        untimed.post(PATH)
        untimed.post(PATH)


def duration_count(registry: CollectorRegistry, status: str) -> float | None:
    labels = {"method": "POST", "route": ROUTE, "status_code": status}
    return registry.get_sample_value(f"{REQUEST_DURATION_SECONDS}_count", labels)


def test_counts_timed_and_untimed_responses() -> None:
    registry = CollectorRegistry()
    send_mix(registry)

    assert metrics_for(registry, record_business_id=False).requests is None
    assert requests(registry, "200") == 5
    assert duration_count(registry, "200") == 3
    fail_labels = {"method": "POST", "route": FAIL_ROUTE, "status_code": "429"}
    assert registry.get_sample_value(REQUESTS_TOTAL, fail_labels) == 1


def families_without_times(text: str) -> list[tuple[str, str, str, list[tuple[str, dict[str, str], float]]]]:
    """Parse an exposition, keeping each requests family with its samples, creation times left out."""
    families = []
    for family in text_string_to_metric_families(text):
        if family.name.startswith("connectly_api_requests"):
            samples = [
                (s.name, s.labels, 0.0 if s.name.endswith("_created") else s.value) for s in family.samples
            ]
            families.append((family.name, family.type, family.documentation, samples))
    return families


def test_exposition_matches_a_plain_counter() -> None:
    registry = CollectorRegistry()
    send_mix(registry)

    plain_registry = CollectorRegistry()
    labels = [LABEL_METHOD, LABEL_ROUTE, LABEL_STATUS_CODE]
    plain = Counter(REQUESTS_TOTAL, REQUESTS_HELP, labels, registry=plain_registry)
    plain.labels("POST", ROUTE, "200").inc(5)
    plain.labels("POST", FAIL_ROUTE, "429").inc()

    ours = families_without_times(generate_latest(registry).decode())
    expected = families_without_times(generate_latest(plain_registry).decode())
    assert ours == expected
    # prometheus_client gives a counter a _created sample, and so does the derived family.
    assert any(name.endswith("_created") for _, _, _, samples in ours for name, _, _ in samples)
    assert b"# TYPE connectly_api_requests counter" in generate_openmetrics(registry)


def test_taken_name_raises() -> None:
    registry = CollectorRegistry()
    Counter(REQUESTS_TOTAL, "Someone else's counter.", registry=registry)

    with pytest.raises(ValueError, match=r"Duplicated timeseries.*CollectorRegistry of its own"):
        metrics_for(registry, record_business_id=False)


@pytest.mark.parametrize("taken", [ERRORS_TOTAL, HOOK_ERRORS_TOTAL])
def test_name_clash_registers_nothing(taken: str) -> None:
    registry = CollectorRegistry()
    other = Counter(taken, "Someone else's counter.", registry=registry)

    with pytest.raises(ValueError, match=taken):
        connectly_obs.event_hooks(registry=registry)

    assert [family.name for family in registry.collect()] == [taken.removesuffix("_total")]
    # After the fix, a retry succeeds.
    registry.unregister(other)
    connectly_obs.event_hooks(registry=registry)
    assert REQUESTS_TOTAL.removesuffix("_total") in {family.name for family in registry.collect()}


@pytest.mark.parametrize("in_files", [True, None])
def test_file_values_keep_real_counter(in_files: bool | None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Multi-process mode merges only metrics that prometheus_client stores in
    # files, and None means the check could not tell.
    monkeypatch.setattr(_metrics, "values_in_files", lambda: in_files)
    registry = CollectorRegistry()
    send_mix(registry)

    assert isinstance(metrics_for(registry, record_business_id=False).requests, Counter)
    assert requests(registry, "200") == 5
    assert duration_count(registry, "200") == 3


def test_restricted_registry_keeps_each_family() -> None:
    registry = CollectorRegistry()
    send_mix(registry)

    requests_only = generate_latest(registry.restricted_registry([REQUESTS_TOTAL])).decode()
    durations_only = generate_latest(registry.restricted_registry([f"{REQUEST_DURATION_SECONDS}_count"])).decode()

    assert f"{REQUESTS_TOTAL}{{" in requests_only
    assert REQUEST_DURATION_SECONDS not in requests_only
    assert f"{REQUEST_DURATION_SECONDS}_count{{" in durations_only
    assert REQUESTS_TOTAL not in durations_only
