"""The request duration histogram of one process, with the requests counter read from it."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Sequence

from prometheus_client import Counter
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from ._names import REQUEST_DURATION_SECONDS, REQUESTS_TOTAL

__all__ = ["DURATION_HELP", "REQUESTS_HELP", "DurationChild", "RequestsFromDurations"]

REQUESTS_HELP = "Connectly API calls that got a response."
DURATION_HELP = "Time from sending a Connectly API request to receiving its response headers."


class DurationChild:
    """The bucket counts and sum of one label set of the duration histogram.

    prometheus_client's histogram child takes two locks per observation,
    because each bucket and the sum is a value with a lock of its own, and
    scans the buckets in Python. Here one lock guards the whole label set and
    bisect finds the bucket, so an observation costs 3,000 instructions instead
    of 8,700 (callgrind, CPython 3.11, prometheus_client 0.26). A scrape also
    reads each label set's count and sum at the same moment.
    """

    __slots__ = ("_counts", "_lock", "_sum", "_upper_bounds")

    def __init__(self, upper_bounds: list[float]) -> None:
        # Sorted, with +Inf last, so bisect_left() returns the first bucket
        # whose bound is at least the amount, as `le` (less or equal) means.
        self._upper_bounds = upper_bounds
        self._counts = [0] * len(upper_bounds)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, amount: float) -> None:
        """Observe one duration, in seconds."""
        index = bisect_left(self._upper_bounds, amount)
        # acquire() and release() cost half of what `with` costs in CPython 3.11.
        lock = self._lock
        lock.acquire()
        try:
            self._counts[index] += 1
            self._sum += amount
        finally:
            lock.release()

    def snapshot(self) -> tuple[list[int], float]:
        """Return the count in each bucket, not cumulative, and the sum, read together."""
        with self._lock:
            return self._counts[:], self._sum


class RequestsFromDurations(Collector):
    """The duration histogram of one process, and the requests counter read from its counts.

    Every response with a start time is observed in the duration histogram,
    and a histogram's count is its number of observations. A separate counter
    updated on every response would repeat that count, and take a lock each
    time. So the requests family is the histogram's count per label set plus
    the responses counted without a start time, in `untimed`.

    The families match what prometheus_client's Histogram and Counter expose,
    `_created` samples included. Those follow `untimed`: it has a child for
    every label set, made together with the histogram child, and it has
    `_created` samples exactly when prometheus_client exposes them.

    Multi-process mode uses prometheus_client's own metrics instead, because
    it merges only the values that it stores in files.
    """

    def __init__(self, untimed: Counter, labelnames: Sequence[str], buckets: Sequence[float]) -> None:
        upper_bounds = sorted(float(bound) for bound in buckets)
        if upper_bounds[-1] != float("inf"):
            upper_bounds.append(float("inf"))
        self._upper_bounds = upper_bounds
        # The `le` label values exactly as prometheus_client's own Histogram writes them.
        self._le_values = [floatToGoString(bound) for bound in upper_bounds]  # type: ignore[no-untyped-call]
        self._untimed = untimed
        self._labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], DurationChild] = {}
        self._lock = threading.Lock()

    def labels(self, *values: str) -> DurationChild:
        """Return the child of a label set, creating it on first use."""
        if len(values) != len(self._labelnames):
            raise ValueError(f"expected {len(self._labelnames)} label values, got {len(values)}: {values!r}")
        with self._lock:
            child = self._children.get(values)
            if child is None:
                child = DurationChild(self._upper_bounds)
                self._children[values] = child
            return child

    def describe(self) -> list[Metric]:
        return [self._requests_family(), self._duration_family()]

    def collect(self) -> list[Metric]:
        counts: dict[tuple[str, ...], float] = {}
        created: dict[tuple[str, ...], float] = {}
        for family in self._untimed.collect():
            for sample in family.samples:
                key = tuple(sample.labels[name] for name in self._labelnames)
                if sample.name == REQUESTS_TOTAL:
                    counts[key] = sample.value
                elif sample.name.endswith("_created"):
                    created[key] = sample.value

        with self._lock:
            children = list(self._children.items())
        durations = self._duration_family()
        for key, child in children:
            bucket_counts, total = child.snapshot()
            cumulative = 0.0
            buckets = []
            for le, count in zip(self._le_values, bucket_counts, strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            durations.add_metric(key, buckets, total)
            if key in created:
                labels = dict(zip(self._labelnames, key, strict=True))
                name = f"{REQUEST_DURATION_SECONDS}_created"
                durations.samples.append(Sample(name, labels, created[key], None, None))
            counts[key] = counts.get(key, 0.0) + cumulative

        requests = self._requests_family()
        for key, value in counts.items():
            requests.add_metric(key, value, created=created.get(key))
        return [requests, durations]

    def _requests_family(self) -> CounterMetricFamily:
        return CounterMetricFamily(REQUESTS_TOTAL, REQUESTS_HELP, labels=self._labelnames)

    def _duration_family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(REQUEST_DURATION_SECONDS, DURATION_HELP, labels=self._labelnames)
