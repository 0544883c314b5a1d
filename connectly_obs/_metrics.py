"""The Prometheus metrics, one set per registry."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.registry import Collector

from ._durations import DURATION_HELP, REQUESTS_HELP, RequestsFromDurations
from ._labels import LabelPolicy, method_label, status_code_label
from ._multiprocess import values_in_files
from ._names import (
    ERRORS_TOTAL,
    HOOK_ERRORS_TOTAL,
    LABEL_BUSINESS_ID,
    LABEL_CODE,
    LABEL_EXCEPTION,
    LABEL_METHOD,
    LABEL_REASON,
    LABEL_ROUTE,
    LABEL_STAGE,
    LABEL_STATUS_CODE,
    LABEL_TYPE,
    REQUEST_DURATION_BUCKETS,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
    TRANSPORT_ERRORS_TOTAL,
    UNPARSED_ERRORS_TOTAL,
)

__all__ = [
    "EXEMPLAR_INTERVAL_SECONDS",
    "ConnectlyMetrics",
    "ErrorSeries",
    "Series",
    "metrics_for",
]

_LOCK = threading.Lock()
_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, ConnectlyMetrics] = (
    weakref.WeakKeyDictionary()
)

# Maximum entries in the cache from (method, path, status code) to a series. The cache
# is cleared when full, so its memory stays bounded even when every request
# has a new id in its path.
_SERIES_CACHE_SIZE = 4096

# Minimum time between two exemplars on one errors series. prometheus_client
# exposes only the latest exemplar of a series, and Prometheus scrapes every
# few seconds, so more frequent exemplars would be overwritten unseen. Building,
# validating and storing one costs about three times as much as the increment
# itself (callgrind, prometheus_client 0.26). The first error of a series
# always gets one. Prometheus's Java client samples exemplars the same way,
# every 90 ms by default.
EXEMPLAR_INTERVAL_SECONDS = 0.1


class Series:
    """The bounded label values of one (method, path, status code), with their metric children.

    `duration` is the duration histogram child, and `untimed` the counter
    child that counts a response without a start time. `requests` is the
    requests counter child when prometheus_client keeps values in files
    (multi-process mode) or the mode is unknown. Otherwise it is None, and
    the histogram's count is the number of timed responses.
    """

    __slots__ = ("duration", "method", "requests", "route", "status", "untimed")

    def __init__(
        self, method: str, route: str, status: str, requests: Any, untimed: Any, duration: Any
    ) -> None:
        self.method = method
        self.route = route
        self.status = status
        self.requests = requests
        self.untimed = untimed
        self.duration = duration

    def count(self, duration: float | None) -> None:
        """Count one response, and observe its duration when it has one.

        `Observer.begin()` inlines these lines for successes.
        """
        if duration is None:
            self.untimed.inc()
        else:
            self.duration.observe(duration)
            if self.requests is not None:
                self.requests.inc()


class ErrorSeries:
    """The bounded type and code label values of a Connectly error, with their errors counter child."""

    __slots__ = ("code", "errors", "next_exemplar", "type")

    def __init__(self, type_label: str, code_label: str, errors: Any) -> None:
        self.type = type_label
        self.code = code_label
        self.errors = errors
        # time.monotonic() reading from which the next increment gets an exemplar.
        self.next_exemplar = 0.0

    def exemplar_due(self, now: float) -> bool:
        """Return True when an increment at `now` should carry an exemplar.

        True the first time, then again once EXEMPLAR_INTERVAL_SECONDS have
        passed. Two threads at the same moment may both get True, which only
        costs an extra exemplar.
        """
        if now < self.next_exemplar:
            return False
        self.next_exemplar = now + EXEMPLAR_INTERVAL_SECONDS
        return True


class ConnectlyMetrics:
    """The metric families of one registry and the label bounds that go with them."""

    def __init__(self, registry: CollectorRegistry, *, record_business_id: bool) -> None:
        self.record_business_id = record_business_id
        self.labels = LabelPolicy()

        error_labels = [LABEL_TYPE, LABEL_CODE, LABEL_STATUS_CODE, LABEL_ROUTE]
        if record_business_id:
            error_labels.append(LABEL_BUSINESS_ID)

        request_labels = [LABEL_METHOD, LABEL_ROUTE, LABEL_STATUS_CODE]
        # Every metric is built unregistered, then registered all at once below.
        # In one process, the duration histogram is our own, cheaper to
        # observe, and the requests counter is read from it. Where
        # prometheus_client keeps values in files, or the mode is unknown, both
        # are prometheus_client's, because it merges only what it stores in
        # files.
        self.requests: Counter | None = None
        self.duration: RequestsFromDurations | Histogram
        collectors: list[Collector]
        if values_in_files() is False:
            self._untimed = Counter(REQUESTS_TOTAL, REQUESTS_HELP, request_labels, registry=None)
            self.duration = RequestsFromDurations(self._untimed, request_labels, REQUEST_DURATION_BUCKETS)
            collectors = [self.duration]
        else:
            self.requests = Counter(REQUESTS_TOTAL, REQUESTS_HELP, request_labels, registry=None)
            self._untimed = self.requests
            self.duration = Histogram(
                REQUEST_DURATION_SECONDS,
                DURATION_HELP,
                request_labels,
                buckets=REQUEST_DURATION_BUCKETS,
                registry=None,
            )
            collectors = [self.requests, self.duration]
        self.errors = Counter(
            ERRORS_TOTAL,
            "Connectly API error responses with a Connectly error body, by type and code.",
            error_labels,
            registry=None,
        )
        self.unparsed = Counter(
            UNPARSED_ERRORS_TOTAL,
            "Connectly API responses with status 400 or above whose body is not a Connectly error.",
            [LABEL_REASON, LABEL_STATUS_CODE, LABEL_ROUTE],
            registry=None,
        )
        self.transport_errors = Counter(
            TRANSPORT_ERRORS_TOTAL,
            "Connectly API calls that ended without a response.",
            [LABEL_EXCEPTION, LABEL_ROUTE],
            registry=None,
        )
        self.hook_errors = Counter(
            HOOK_ERRORS_TOTAL,
            "Failures inside connectly-obs, swallowed so that the request was unaffected.",
            [LABEL_STAGE],
            registry=None,
        )
        collectors += [self.errors, self.unparsed, self.transport_errors, self.hook_errors]
        _register_all(registry, collectors)

        # Every request looks up its series here, so a hit must cost one dict
        # lookup: prometheus_client's labels() validates and joins the label
        # values on every call, and the route template takes regex matches.
        # Observer.begin() reads it directly; only series() adds to it.
        self.series_by_key: dict[tuple[str, str, int], Series] = {}
        # The same for error responses, by the type and code the server sent,
        # the series and the business id label value. Observer.finish() reads
        # it directly; only error_series() adds to it.
        self.error_series_by_key: dict[tuple[str | None, str | None, Series, str | None], ErrorSeries] = {}

    def series(self, method: str, path: str, status_code: int) -> Series:
        """Return the series of a response, creating its label children on first use."""
        key = (method, path, status_code)
        series = self.series_by_key.get(key)
        if series is None:
            series = self._new_series(method, path, status_code)
            if len(self.series_by_key) >= _SERIES_CACHE_SIZE:
                self.series_by_key.clear()
            self.series_by_key[key] = series
        return series

    def _new_series(self, method: str, path: str, status_code: int) -> Series:
        values = (method_label(method), self.labels.route(path), status_code_label(status_code))
        requests = None if self.requests is None else self.requests.labels(*values)
        return Series(*values, requests, self._untimed.labels(*values), self.duration.labels(*values))

    def error_series(
        self, series: Series, error_type: str | None, error_code: str | None, business_id: str | None
    ) -> ErrorSeries:
        """Return the errors counter child of a Connectly error, with its type and code label values.

        `business_id` is the label value from `labels.business_id()` when
        business ids are recorded, and None otherwise.
        """
        key = (error_type, error_code, series, business_id)
        error_series = self.error_series_by_key.get(key)
        if error_series is None:
            type_label = self.labels.error_type(error_type)
            code_label = self.labels.error_code(error_code)
            values = [type_label, code_label, series.status, series.route]
            if business_id is not None:
                values.append(business_id)
            error_series = ErrorSeries(type_label, code_label, self.errors.labels(*values))
            if len(self.error_series_by_key) >= _SERIES_CACHE_SIZE:
                self.error_series_by_key.clear()
            self.error_series_by_key[key] = error_series
        return error_series


def _register_all(registry: CollectorRegistry, collectors: list[Collector]) -> None:
    """Register every collector, or none of them when one name is taken already.

    Without the rollback, the collectors registered before the clash would
    stay, and a retry after the fix would fail on them instead.
    """
    registered: list[Collector] = []
    for collector in collectors:
        try:
            registry.register(collector)
        except ValueError as exc:
            for earlier in registered:
                registry.unregister(earlier)
            raise ValueError(
                f"connectly-obs cannot register its metrics: {exc}. Another collector in this "
                "registry uses one of these names, so unregister it or pass connectly-obs a "
                "CollectorRegistry of its own with registry="
            ) from exc
        registered.append(collector)


def metrics_for(registry: CollectorRegistry | None, *, record_business_id: bool) -> ConnectlyMetrics:
    """Return the metrics of a registry, registering them on first use.

    Every hook and client that uses the same registry shares one set of
    metrics, so creating many clients does not fail with a duplicate
    registration. prometheus_client still raises ValueError when some other
    collector registered one of these metric names in the registry first.
    """
    registry = REGISTRY if registry is None else registry
    with _LOCK:
        metrics = _BY_REGISTRY.get(registry)
        if metrics is None:
            metrics = ConnectlyMetrics(registry, record_business_id=record_business_id)
            _BY_REGISTRY[registry] = metrics
        elif metrics.record_business_id != record_business_id:
            raise ValueError(
                f"record_business_id={record_business_id!r} conflicts with an earlier call that "
                f"used record_business_id={metrics.record_business_id!r} on the same registry; "
                "the errors metric's labels are fixed once registered, so pass the same value "
                "everywhere, or use a separate CollectorRegistry"
            )
    return metrics
