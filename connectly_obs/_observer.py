"""The recording core shared by the hooks and the transport: classification, metrics and spans.

The sync and async entry points only differ in how they read an error body;
everything they record goes through `Observer`.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from ._body import DEFAULT_MAX_BODY_BYTES, BodyResult, parse_body
from ._error import ERROR_EXTENSION
from ._labels import method_label, status_code_label
from ._logging import RateLimitedLogger
from ._metrics import ConnectlyMetrics, metrics_for
from ._names import OTHER_VALUE
from ._options import DEFAULT_HOSTS, check_options, normalize_hosts
from ._streams import BodyPrefix
from ._tracing import CallFailure, SpanRecorder, exemplar_for
from ._version import __version__

__all__ = ["Observer"]

logger = logging.getLogger(__name__)

# Marks a response that has been recorded, so that a second hook, or the
# event hooks on an instrumented client, never count it again.
OBSERVED_EXTENSION = "connectly_obs.observed"

# Request extension key for the perf_counter() reading that the request event
# hook takes when the request is sent.
START_EXTENSION = "connectly_obs.start"


@dataclass
class _Call:
    """A response being recorded."""

    request: httpx.Request
    response: httpx.Response
    route: str
    status_label: str
    method: str
    duration: float | None
    start: float | None


class Observer:
    """Records Connectly calls in the metrics of one registry and on spans."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        tracer_provider: TracerProvider | None = None,
        hosts: str | Iterable[str] = DEFAULT_HOSTS,
        record_business_id: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        check_options(registry, tracer_provider, record_business_id, max_body_bytes)
        self.hosts = normalize_hosts(hosts)
        self.max_body_bytes = max_body_bytes
        self.metrics: ConnectlyMetrics = metrics_for(registry, record_business_id=record_business_id)
        if tracer_provider is None:
            # The proxy tracer follows the global provider, even one set later.
            tracer = trace.get_tracer(__name__, __version__)
        else:
            tracer = tracer_provider.get_tracer(__name__, __version__)
        self.spans = SpanRecorder(tracer)
        self._log = RateLimitedLogger(logger)

    def with_hosts(self, hosts: Iterable[str]) -> Observer:
        """Return an observer that shares this one's metrics and also counts `hosts`."""
        extra = normalize_hosts(hosts)
        if extra <= self.hosts:
            return self
        clone = copy.copy(self)
        clone.hosts = self.hosts | extra
        return clone

    def matches(self, request: httpx.Request) -> bool:
        return request.url.host in self.hosts

    # Responses ----------------------------------------------------------

    def begin(self, response: httpx.Response, start: float | None, end: float) -> _Call | None:
        """Claim a response for recording; None if it is not ours or already recorded."""
        extensions = response.extensions
        if OBSERVED_EXTENSION in extensions:
            return None
        request = response.request
        if not self.matches(request):
            return None
        extensions[OBSERVED_EXTENSION] = True

        return _Call(
            request=request,
            response=response,
            route=self.metrics.labels.route(request.url.path),
            status_label=status_code_label(response.status_code),
            method=method_label(request.method),
            duration=None if start is None else end - start,
            start=start,
        )

    def needs_body(self, call: _Call) -> bool:
        """Return True for an error response whose body must still be read from its stream."""
        response = call.response
        if response.status_code < 400:
            return False
        try:
            response.content  # noqa: B018 - raises ResponseNotRead for an unread body
        except httpx.ResponseNotRead:
            return True
        return False

    def complete(self, call: _Call, prefix: BodyPrefix | None) -> None:
        """Classify the body of an error response, then record the call.

        `prefix` is the raw start of the body when `needs_body()` was True.
        """
        if call.response.status_code < 400:
            # Only errors go on a span, so a success skips the context lookup.
            self.finish(call, None, trace.INVALID_SPAN)
            return
        body = self.classify(call, prefix)
        # The current span is still the one the call started in: an
        # instrumentation wrapped outside our transport keeps its span current.
        self.finish(call, body, trace.get_current_span())

    def classify(self, call: _Call, prefix: BodyPrefix | None) -> BodyResult:
        """Classify an error body read as a raw prefix, or read already (`prefix` None)."""
        response = call.response
        if prefix is None:
            return parse_body(
                response.content,
                response.headers,
                response.status_code,
                encoded=False,
                max_bytes=self.max_body_bytes,
            )
        if prefix.failed:
            return BodyResult(reason="read_failed")
        return parse_body(
            prefix.content,
            response.headers,
            response.status_code,
            encoded=True,
            complete=prefix.complete,
            max_bytes=self.max_body_bytes,
        )

    def finish(self, call: _Call, body: BodyResult | None, entry_span: trace.Span) -> None:
        """Record a claimed response: counters, histogram and, for errors, a span."""
        metrics = self.metrics
        requests, duration = metrics.request_children(call.method, call.route, call.status_label)
        requests.inc()
        if call.duration is not None:
            duration.observe(call.duration)
        if body is None:
            return

        response = call.response
        response.extensions[ERROR_EXTENSION] = body.error
        error = body.error
        tracing = self._can_record_span(entry_span)
        if error is None:
            reason = body.reason or OTHER_VALUE
            metrics.unparsed.labels(reason, call.status_label, call.route).inc()
            if not tracing:
                return
            failure = CallFailure(
                method=call.method,
                route=call.route,
                status_code=response.status_code,
                error=None,
                error_type=call.status_label,
                unparsed_reason=reason,
            )
            self._record_span(call.request, failure, entry_span, call.start)
            return

        labels = metrics.labels
        type_label = labels.error_type(error.type)
        code_label = labels.error_code(error.code)
        span_context = None
        if tracing:
            failure = CallFailure(
                method=call.method,
                route=call.route,
                status_code=response.status_code,
                error=error,
                error_type=_error_type(type_label, code_label, call.status_label),
                type_label=type_label,
                code_label=code_label,
            )
            span_context = self._record_span(call.request, failure, entry_span, call.start)

        label_values: tuple[str, ...] = (type_label, code_label, call.status_label, call.route)
        if metrics.record_business_id:
            label_values += (labels.business_id(call.request.url.path),)
        exemplar = exemplar_for(span_context, error)
        metrics.error_child(label_values).inc(1, exemplar=exemplar or None)

    # Calls without a response -------------------------------------------

    def record_exception(
        self,
        request: httpx.Request,
        exc: BaseException,
        start: float,
        entry_span: trace.Span,
    ) -> None:
        """Record a call that ended in an exception; an Exception inside is counted and swallowed."""
        try:
            name = self.metrics.labels.exception_name(exc)
            route = self.metrics.labels.route(request.url.path)
            self.metrics.transport_errors.labels(name, route).inc()
            failure = CallFailure(
                method=method_label(request.method),
                route=route,
                status_code=None,
                error=None,
                error_type=name,
            )
            self._record_span(request, failure, entry_span, start)
        except Exception:
            self.internal_failure("transport_error")

    def _can_record_span(self, entry_span: trace.Span) -> bool:
        try:
            return self.spans.can_record(entry_span)
        except Exception:
            # Take the span path as if this check did not exist, since
            # `_record_span` handles its own failures.
            return True

    def _record_span(
        self,
        request: httpx.Request,
        failure: CallFailure,
        entry_span: trace.Span,
        start: float | None,
    ) -> trace.SpanContext | None:
        try:
            now = time.perf_counter()
            start_ns = time.time_ns() - int((now - (start if start is not None else now)) * 1e9)
            return self.spans.record(request, failure, entry_span, start_ns)
        except Exception:
            # A broken tracer must not cost the metrics.
            self.internal_failure("span")
            return None

    def internal_failure(self, stage: str) -> None:
        """Count and log a failure inside the library; called from an `except` block."""
        with contextlib.suppress(Exception):
            self.metrics.hook_errors.labels(stage).inc()
        self._log.warning(
            stage,
            "connectly-obs failed while recording a Connectly API call (stage %s); "
            "the request itself was not affected",
            stage,
            exc_info=True,
        )


def _error_type(type_label: str, code_label: str, status_label: str) -> str:
    """Choose the value of the error.type span attribute: the most specific bounded value."""
    for value in (code_label, type_label):
        if value.startswith("ERROR_"):
            return value
    return status_label
