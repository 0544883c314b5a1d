"""The Prometheus metrics, one set per registry."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from ._labels import LabelPolicy
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

__all__ = ["ConnectlyMetrics", "metrics_for"]

_LOCK = threading.Lock()
_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, ConnectlyMetrics] = (
    weakref.WeakKeyDictionary()
)


class ConnectlyMetrics:
    """The metric families of one registry and the label bounds that go with them."""

    def __init__(self, registry: CollectorRegistry, *, record_business_id: bool) -> None:
        self.record_business_id = record_business_id
        self.labels = LabelPolicy()

        error_labels = [LABEL_TYPE, LABEL_CODE, LABEL_STATUS_CODE, LABEL_ROUTE]
        if record_business_id:
            error_labels.append(LABEL_BUSINESS_ID)

        self.requests = Counter(
            REQUESTS_TOTAL,
            "Connectly API calls that got a response.",
            [LABEL_METHOD, LABEL_ROUTE, LABEL_STATUS_CODE],
            registry=registry,
        )
        self.errors = Counter(
            ERRORS_TOTAL,
            "Connectly API error responses with a Connectly error body, by type and code.",
            error_labels,
            registry=registry,
        )
        self.duration = Histogram(
            REQUEST_DURATION_SECONDS,
            "Time from sending a Connectly API request to receiving its response headers.",
            [LABEL_METHOD, LABEL_ROUTE, LABEL_STATUS_CODE],
            buckets=REQUEST_DURATION_BUCKETS,
            registry=registry,
        )
        self.unparsed = Counter(
            UNPARSED_ERRORS_TOTAL,
            "Connectly API responses with status 400 or above whose body is not a Connectly error.",
            [LABEL_REASON, LABEL_STATUS_CODE, LABEL_ROUTE],
            registry=registry,
        )
        self.transport_errors = Counter(
            TRANSPORT_ERRORS_TOTAL,
            "Connectly API calls that ended without a response.",
            [LABEL_EXCEPTION, LABEL_ROUTE],
            registry=registry,
        )
        self.hook_errors = Counter(
            HOOK_ERRORS_TOTAL,
            "Failures inside connectly-obs, swallowed so that the request was unaffected.",
            [LABEL_STAGE],
            registry=registry,
        )

        # Label children by label values. prometheus_client's own lookup
        # validates and joins the values on every call; a dict hit is cheaper.
        self._request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        # Bounded like the series themselves, since every label value is.
        self._error_children: dict[tuple[str, ...], Any] = {}

    def request_children(self, method: str, route: str, status: str) -> tuple[Any, Any]:
        """Return the (requests counter, duration histogram) children for these labels."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self.requests.labels(*key), self.duration.labels(*key))
            self._request_children[key] = children
        return children

    def error_child(self, label_values: tuple[str, ...]) -> Any:
        """Return the errors counter child for these label values, in `errors` label order."""
        child = self._error_children.get(label_values)
        if child is None:
            child = self.errors.labels(*label_values)
            self._error_children[label_values] = child
        return child


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
