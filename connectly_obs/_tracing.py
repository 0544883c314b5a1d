"""OpenTelemetry spans for failed Connectly calls.

Only the OpenTelemetry API is used here; the SDK is the application's choice.
Successful calls never touch tracing, which keeps their cost near zero.

Which span carries the error depends on who else traces the call:

- opentelemetry-instrumentation-httpx wraps the transport outside ours, so
  its HTTP client span is still open and current while we see the response:
  the error goes on that span.
- An instrumentation wraps the transport inside ours, or ran before our event
  hook: its span has ended, so setting attributes on it would be silently
  dropped. It injected its context into the request headers, so the error
  goes on a new child span of that HTTP span.
- No other instrumentation traces the call: the error goes on an HTTP client span that we
  create, starting when the request was sent.

Every span created here is ended before the function returns.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from opentelemetry import propagate, trace
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_RESPONSE_STATUS_CODE,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.semconv.attributes.url_attributes import URL_FULL
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from ._error import ConnectlyError
from ._names import (
    ATTR_ERROR_CODE,
    ATTR_ERROR_MESSAGE,
    ATTR_ERROR_TYPE,
    ATTR_ERROR_USER_MESSAGE,
    ATTR_ERROR_USER_TITLE,
    ATTR_TRACE_ID,
    ATTR_UNPARSED_REASON,
    EVENT_ERROR,
    EXEMPLAR_CNT_TRACE_ID,
    EXEMPLAR_SPAN_ID,
    EXEMPLAR_TRACE_ID,
)
from ._redact import clean_text, redact_phone_numbers

__all__ = ["CallFailure", "SpanRecorder", "exemplar_for"]

# The request header that carries the Connectly API key.
API_KEY_HEADER = "X-API-Key"

# url.template is still an incubating attribute in opentelemetry-semantic-conventions.
URL_TEMPLATE = "url.template"

# Name of the child span created under an HTTP span that had already ended.
ERROR_SPAN_NAME = "connectly.error"

# A cntTraceId is a 64-bit id in decimal, at most 20 digits.
_MAX_CNT_TRACE_ID_DIGITS = 20

# Prometheus rejects exemplars whose label names and values add up to more
# than 128 UTF-8 characters.
_MAX_EXEMPLAR_CHARS = 128


@dataclass(frozen=True)
class CallFailure:
    """A failed call, in bounded label values, ready to put on a span."""

    method: str
    route: str
    status_code: int | None
    error: ConnectlyError | None
    error_type: str  # the bounded value for error.type
    type_label: str | None = None
    code_label: str | None = None
    unparsed_reason: str | None = None


class SpanRecorder:
    """Puts failed calls on spans from one tracer."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def can_record(self, entry_span: trace.Span) -> bool:
        """Return False when `record` could only start and end invalid spans.

        That is the case without an SDK: the entry span does not record, and
        our tracer is the API's no-op one or a proxy with no global provider
        behind it yet. `record` would then return an invalid context and leave
        no trace, so callers skip it and save the header extraction.
        """
        if entry_span.is_recording():
            return True
        tracer = self._tracer
        if isinstance(tracer, trace.NoOpTracer):
            return False
        # Until a global provider is set, a proxy tracer starts no-op spans.
        # NOTE: this reads the private global that ProxyTracer itself checks
        # (checked in opentelemetry-api 1.45). trace.get_tracer_provider() would
        # cost 0.8 µs, and could load a provider named in the environment.
        # Without that global this returns True, which is slower but correct.
        return not (isinstance(tracer, trace.ProxyTracer) and getattr(trace, "_TRACER_PROVIDER", True) is None)

    def record(
        self,
        request: httpx.Request,
        failure: CallFailure,
        entry_span: trace.Span,
        start_time_ns: int,
    ) -> trace.SpanContext | None:
        """Record a failed call and return the context of the span that carries it."""
        parent_context = propagate.extract(request.headers)
        parent = trace.get_current_span(parent_context).get_span_context()

        if parent.is_valid:
            entry_context = entry_span.get_span_context()
            if entry_span.is_recording() and entry_context.span_id == parent.span_id:
                _annotate(entry_span, failure, request)
                return entry_context
            span = self._tracer.start_span(
                ERROR_SPAN_NAME, context=parent_context, kind=SpanKind.INTERNAL
            )
        else:
            span = self._tracer.start_span(
                f"{failure.method} {failure.route}", kind=SpanKind.CLIENT, start_time=start_time_ns
            )
            if span.is_recording():
                span.set_attributes(_http_attributes(request, failure))
        try:
            _annotate(span, failure, request)
            return span.get_span_context()
        finally:
            span.end()


def _http_attributes(request: httpx.Request, failure: CallFailure) -> dict[str, AttributeValue]:
    url = request.url
    attributes: dict[str, AttributeValue] = {
        HTTP_REQUEST_METHOD: failure.method,
        SERVER_ADDRESS: url.host,
        # The query string is dropped because it may carry credentials, and
        # phone numbers are redacted from the path.
        URL_FULL: redact_phone_numbers(str(url.copy_with(query=None, fragment=None))),
        URL_TEMPLATE: failure.route,
    }
    if url.port is not None:
        attributes[SERVER_PORT] = url.port
    else:
        attributes[SERVER_PORT] = 443 if url.scheme == "https" else 80
    return attributes


def _annotate(span: trace.Span, failure: CallFailure, request: httpx.Request) -> None:
    if not span.is_recording():
        return

    attributes: dict[str, AttributeValue] = {ERROR_TYPE: failure.error_type}
    if failure.status_code is not None:
        attributes[HTTP_RESPONSE_STATUS_CODE] = failure.status_code
    if failure.unparsed_reason is not None:
        attributes[ATTR_UNPARSED_REASON] = failure.unparsed_reason

    error = failure.error
    if error is not None:
        if failure.type_label is not None:
            attributes[ATTR_ERROR_TYPE] = failure.type_label
        if failure.code_label is not None:
            attributes[ATTR_ERROR_CODE] = failure.code_label
        trace_id = _valid_cnt_trace_id(error.trace_id)
        if trace_id is not None:
            attributes[ATTR_TRACE_ID] = trace_id
        span.add_event(EVENT_ERROR, _message_attributes(error, request.headers.get(API_KEY_HEADER)))

    span.set_attributes(attributes)
    span.set_status(Status(StatusCode.ERROR, failure.error_type))


def _message_attributes(error: ConnectlyError, api_key: str | None) -> Mapping[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    for key, value in (
        (ATTR_ERROR_MESSAGE, error.message),
        (ATTR_ERROR_USER_TITLE, error.user_title),
        (ATTR_ERROR_USER_MESSAGE, error.user_message),
    ):
        if value:
            attributes[key] = clean_text(value, api_key)
    return attributes


def _valid_cnt_trace_id(value: str | None) -> str | None:
    # The same test as the regex [0-9]{1,20}, without the regex engine:
    # isdigit() alone would also accept non-ASCII digits.
    if value is not None and len(value) <= _MAX_CNT_TRACE_ID_DIGITS and value.isascii() and value.isdigit():
        return value
    return None


def exemplar_for(span_context: trace.SpanContext | None, cnt_trace_id: str | None) -> dict[str, str]:
    """Build an exemplar that links a counter increment to its trace and to a cntTraceId sent by the server."""
    exemplar: dict[str, str] = {}
    if span_context is not None and span_context.is_valid:
        exemplar[EXEMPLAR_TRACE_ID] = trace.format_trace_id(span_context.trace_id)
        exemplar[EXEMPLAR_SPAN_ID] = trace.format_span_id(span_context.span_id)
    cnt_trace_id = _valid_cnt_trace_id(cnt_trace_id)
    if cnt_trace_id is not None:
        exemplar[EXEMPLAR_CNT_TRACE_ID] = cnt_trace_id
    # Checked here because prometheus_client raises on an oversized exemplar
    # only after it has counted the increment. Dropping the span id is the
    # only remedy, so without one there is nothing to check.
    if (
        EXEMPLAR_SPAN_ID in exemplar
        and sum(len(key) + len(value) for key, value in exemplar.items()) > _MAX_EXEMPLAR_CHARS
    ):
        del exemplar[EXEMPLAR_SPAN_ID]
    return exemplar


def wall_clock_ns(start_perf: float, now_perf: float) -> int:
    """Convert a perf_counter() reading from the past into a wall-clock time in nanoseconds."""
    return time.time_ns() - int((now_perf - start_perf) * 1e9)
