"""The recording core shared by the hooks and the transport: classification, metrics and spans.

The sync and async entry points only differ in how they read an error body;
everything they record goes through `Observer`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable

import httpx
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from ._body import DEFAULT_MAX_BODY_BYTES, BodyResult, parse_body
from ._error import ERROR_EXTENSION
from ._labels import method_label
from ._logging import RateLimitedLogger
from ._metrics import ConnectlyMetrics, Series, metrics_for
from ._options import DEFAULT_HOSTS, check_options, normalize_hosts
from ._streams import BodyPrefix
from ._tracing import CallFailure, SpanRecorder, exemplar_for
from ._version import __version__

__all__ = ["Observer"]

logger = logging.getLogger(__name__)

# Marks a response that has been recorded, so that a second hook, or the
# event hooks on an instrumented client, never count it again.
OBSERVED_EXTENSION = "connectly_obs.observed"

# Prefix of the request extension key under which an observer's request event
# hook stores the perf_counter() reading taken when the request is sent.
START_EXTENSION_PREFIX = "connectly_obs.start."


class _Call:
    """An error response whose body is still to be classified."""

    __slots__ = ("content", "duration", "request", "response", "series", "start")

    def __init__(
        self,
        request: httpx.Request,
        response: httpx.Response,
        series: Series,
        duration: float | None,
        start: float | None,
    ) -> None:
        self.request = request
        self.response = response
        self.series = series
        self.duration = duration
        self.start = start
        # The decoded body when the response has been read already, and None
        # when it must still be read from the stream. A consumed stream has
        # either been read, or iterated raw by the caller.
        content = None
        if response.is_stream_consumed:
            try:
                content = response.content
            except httpx.ResponseNotRead:
                content = None
        self.content = content


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
        # The series cache itself, so that a hit in begin() costs no method call.
        self._series_by_key = self.metrics.series_by_key
        if tracer_provider is None:
            # The proxy tracer follows the global provider, even one set later.
            tracer = trace.get_tracer(__name__, __version__)
        else:
            tracer = tracer_provider.get_tracer(__name__, __version__)
        self.spans = SpanRecorder(tracer)
        self._log = RateLimitedLogger(logger)
        # One key per observer: a start time under it proves that this
        # observer's request hook matched the host, so the response hook need
        # not match it again.
        self.start_extension = f"{START_EXTENSION_PREFIX}{id(self)}"

    # Responses ----------------------------------------------------------

    def begin(
        self, response: httpx.Response, request: httpx.Request, start: float | None, end: float
    ) -> _Call | None:
        """Claim a response and count it if it is a success.

        `start` is the perf_counter() reading taken when the request was sent,
        by a caller that matched the request's host, or None when the host is
        still to be matched. Returns a call to pass to `complete()` for an
        error response, and None for a success, a response to another host, or
        one already recorded. The caller reads the error body first when the
        call's `content` is None.
        """
        extensions = response.extensions
        if OBSERVED_EXTENSION in extensions:
            return None
        url = request.url
        if start is None and url.host not in self.hosts:
            return None
        extensions[OBSERVED_EXTENSION] = True

        status_code = response.status_code
        key = (request.method, url.path, status_code)
        series = self._series_by_key.get(key) or self.metrics.series(*key)
        duration = None if start is None else end - start
        if status_code < 400:
            # The whole success path: no body, no span, no context lookup.
            # Series.count() inlined, which spares a method call on every
            # success.
            if duration is None:
                series.untimed.inc()
            else:
                series.duration.observe(duration)
                if series.requests is not None:
                    series.requests.inc()
            return None
        return _Call(request, response, series, duration, start)

    def complete(self, call: _Call, prefix: BodyPrefix | None) -> None:
        """Classify the body of an error response, then record the call.

        `prefix` is the raw start of the body when the call's `content` was None.
        """
        response = call.response
        if prefix is None:
            # The body was read before begin(). A caller that passes no
            # prefix for an unread body gets ResponseNotRead here.
            content = call.content if call.content is not None else response.content
            body = parse_body(
                content,
                response.headers,
                response.status_code,
                encoded=False,
                max_bytes=self.max_body_bytes,
            )
        elif prefix.failed:
            body = BodyResult(reason="read_failed")
        else:
            body = parse_body(
                prefix.content,
                response.headers,
                response.status_code,
                encoded=True,
                complete=prefix.complete,
                max_bytes=self.max_body_bytes,
            )
        # The current span is still the one the call started in: an
        # instrumentation wrapped outside our transport keeps its span current.
        self.finish(call, body, trace.get_current_span())

    def finish(self, call: _Call, body: BodyResult, entry_span: trace.Span) -> None:
        """Record a classified error response: counters, histogram and a span."""
        series = call.series
        series.count(call.duration)

        response = call.response
        response.extensions[ERROR_EXTENSION] = body
        try:
            tracing = self.spans.can_record(entry_span)
        except Exception:
            # Take the span path as if this check did not exist, since
            # `_record_span` handles its own failures.
            tracing = True
        metrics = self.metrics
        if body.reason is not None:
            reason = body.reason
            metrics.unparsed.labels(reason, series.status, series.route).inc()
            if not tracing:
                return
            failure = CallFailure(
                method=series.method,
                route=series.route,
                status_code=response.status_code,
                error=None,
                error_type=series.status,
                unparsed_reason=reason,
            )
            self._record_span(call.request, failure, entry_span, call.start)
            return

        business_id = metrics.labels.business_id(call.request.url.path) if metrics.record_business_id else None
        error_type, error_code = body.type, body.code
        error_series = metrics.error_series_by_key.get(
            (error_type, error_code, series, business_id)
        ) or metrics.error_series(series, error_type, error_code, business_id)
        span_context = None
        if tracing:
            failure = CallFailure(
                method=series.method,
                route=series.route,
                status_code=response.status_code,
                error=body.error,
                error_type=_error_type(error_series.type, error_series.code, series.status),
                type_label=error_series.type,
                code_label=error_series.code,
            )
            span_context = self._record_span(call.request, failure, entry_span, call.start)

        if error_series.exemplar_due(time.monotonic()):
            error_series.errors.inc(1, exemplar=exemplar_for(span_context, body.trace_id) or None)
        else:
            error_series.errors.inc()

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
