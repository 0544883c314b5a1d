"""Our in-process duration histogram, checked against prometheus_client's Histogram."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from connectly_obs._durations import DURATION_HELP, REQUESTS_HELP, RequestsFromDurations
from connectly_obs._names import REQUEST_DURATION_BUCKETS, REQUEST_DURATION_SECONDS, REQUESTS_TOTAL

LABELS = ["method", "route", "status_code"]
OK = ("POST", "/v1/x", "200")
FAILED = ("POST", "/v1/x", "429")
# One amount on each bucket bound, one between bounds, and one above the top bound.
AMOUNTS = [*REQUEST_DURATION_BUCKETS, 0.0, 0.03, 45.0, 1e-6]


@pytest.fixture(params=[True, False], ids=["created", "no_created"])
def created_series(request: pytest.FixtureRequest) -> Iterator[bool]:
    # disable_created_metrics() is prometheus_client's switch for the
    # _created samples; ours must follow it.
    if request.param:
        prometheus_metrics.enable_created_metrics()
    else:
        prometheus_metrics.disable_created_metrics()
    yield request.param
    prometheus_metrics.enable_created_metrics()


def ours_and_theirs() -> tuple[CollectorRegistry, CollectorRegistry]:
    """Build our collector and prometheus_client's pair of metrics, with the same counts."""
    ours = CollectorRegistry()
    untimed = Counter(REQUESTS_TOTAL, REQUESTS_HELP, LABELS, registry=None)
    durations = RequestsFromDurations(untimed, LABELS, REQUEST_DURATION_BUCKETS)
    ours.register(durations)

    theirs = CollectorRegistry()
    requests = Counter(REQUESTS_TOTAL, REQUESTS_HELP, LABELS, registry=theirs)
    histogram = Histogram(REQUEST_DURATION_SECONDS, DURATION_HELP, LABELS, buckets=REQUEST_DURATION_BUCKETS,
                          registry=theirs)

    for labels, amounts in ((OK, AMOUNTS), (FAILED, [0.4])):
        untimed.labels(*labels)
        child = durations.labels(*labels)
        requests.labels(*labels)
        for amount in amounts:
            child.observe(amount)
            histogram.labels(*labels).observe(amount)
            requests.labels(*labels).inc()
    # Two responses without a start time count as requests, not as durations.
    untimed.labels(*OK).inc(2)
    requests.labels(*OK).inc(2)
    return ours, theirs


def without_created_times(text: str) -> list[tuple[str, str, str, list[tuple[str, dict[str, str], float]]]]:
    families = []
    for family in text_string_to_metric_families(text):
        samples = [(s.name, s.labels, 0.0 if s.name.endswith("_created") else s.value) for s in family.samples]
        families.append((family.name, family.type, family.documentation, sorted(samples, key=repr)))
    return sorted(families)


def test_text_matches_prometheus_client(created_series: bool) -> None:
    ours, theirs = ours_and_theirs()

    ours_text = generate_latest(ours).decode()
    assert without_created_times(ours_text) == without_created_times(generate_latest(theirs).decode())
    assert (f"{REQUEST_DURATION_SECONDS}_created" in ours_text) is created_series


def test_openmetrics_matches_prometheus_client(created_series: bool) -> None:
    ours, theirs = ours_and_theirs()

    ours_lines = [line for line in generate_openmetrics(ours).decode().splitlines() if "_created" not in line]
    theirs_lines = [line for line in generate_openmetrics(theirs).decode().splitlines() if "_created" not in line]
    assert sorted(ours_lines) == sorted(theirs_lines)


def test_bound_is_inclusive() -> None:
    registry = CollectorRegistry()
    durations = RequestsFromDurations(Counter(REQUESTS_TOTAL, REQUESTS_HELP, LABELS, registry=None), LABELS, [0.1, 1])
    registry.register(durations)
    durations.labels(*OK).observe(0.1)

    labels = dict(zip(LABELS, OK, strict=True))
    assert registry.get_sample_value(f"{REQUEST_DURATION_SECONDS}_bucket", {**labels, "le": "0.1"}) == 1
    assert registry.get_sample_value(f"{REQUEST_DURATION_SECONDS}_bucket", {**labels, "le": "+Inf"}) == 1


def test_wrong_label_count_raises() -> None:
    durations = RequestsFromDurations(Counter(REQUESTS_TOTAL, REQUESTS_HELP, LABELS, registry=None), LABELS, [1])

    with pytest.raises(ValueError, match="expected 3 label values, got 2"):
        durations.labels("POST", "/v1/x")


def test_counts_from_threads_add_up() -> None:
    # NOTE: with the lock removed, this test still passed on CPython 3.11,
    # which switches threads only at some bytecodes. It checks the totals,
    # not that the lock is there.
    registry = CollectorRegistry()
    durations = RequestsFromDurations(Counter(REQUESTS_TOTAL, REQUESTS_HELP, LABELS, registry=None), LABELS, [1])
    registry.register(durations)
    child = durations.labels(*OK)
    threads, per_thread = 8, 5_000

    def observe() -> None:
        for _ in range(per_thread):
            child.observe(0.5)

    workers = [threading.Thread(target=observe) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    labels = dict(zip(LABELS, OK, strict=True))
    assert registry.get_sample_value(f"{REQUEST_DURATION_SECONDS}_count", labels) == threads * per_thread
    assert registry.get_sample_value(f"{REQUEST_DURATION_SECONDS}_sum", labels) == threads * per_thread * 0.5
    assert registry.get_sample_value(REQUESTS_TOTAL, labels) == threads * per_thread
