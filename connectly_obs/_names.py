"""Metric, label and span attribute names.

These names are the contract between the library, the shipped Grafana
dashboards and the Prometheus alert rules. The dashboards and rules generators
import them from here, so a rename cannot drift between the three.
"""

from __future__ import annotations

__all__ = [
    "ALERT_BUSINESS_LIMIT",
    "ALERT_CREDENTIALS",
    "ALERT_ERROR_BUDGET",
    "ALERT_ERROR_RATIO",
    "ALERT_ERROR_SPIKE",
    "ALERT_HOOK_ERRORS",
    "ALERT_LATENCY",
    "ALERT_MESSAGING_WINDOW",
    "ALERT_METRICS_ABSENT",
    "ALERT_RATE_LIMITED",
    "ALERT_RATE_LIMIT_RISING",
    "ALERT_SERVER_ERRORS",
    "ALERT_TEMPLATES",
    "ALERT_TRANSPORT",
    "ALERT_UNPARSED",
    "ATTR_ERROR_CODE",
    "ATTR_ERROR_MESSAGE",
    "ATTR_ERROR_TYPE",
    "ATTR_ERROR_USER_MESSAGE",
    "ATTR_ERROR_USER_TITLE",
    "ATTR_TRACE_ID",
    "ATTR_UNPARSED_REASON",
    "ERRORS_TOTAL",
    "EVENT_ERROR",
    "EXEMPLAR_CNT_TRACE_ID",
    "EXEMPLAR_SPAN_ID",
    "EXEMPLAR_TRACE_ID",
    "HOOK_ERRORS_TOTAL",
    "LABEL_BUSINESS_ID",
    "LABEL_CODE",
    "LABEL_EXCEPTION",
    "LABEL_METHOD",
    "LABEL_REASON",
    "LABEL_ROUTE",
    "LABEL_STAGE",
    "LABEL_STATUS_CODE",
    "LABEL_TYPE",
    "MISSING_VALUE",
    "OTHER_VALUE",
    "REQUESTS_TOTAL",
    "REQUEST_DURATION_BUCKETS",
    "REQUEST_DURATION_SECONDS",
    "TRANSPORT_ERRORS_TOTAL",
    "UNPARSED_ERRORS_TOTAL",
    "UNPARSED_REASONS",
]

# Metric family names as Prometheus exposes them. Counters carry the `_total`
# suffix in the exposition; prometheus_client adds it to the name given here
# only when it is missing, so the full name is used everywhere.
REQUESTS_TOTAL = "connectly_api_requests_total"
ERRORS_TOTAL = "connectly_api_errors_total"
REQUEST_DURATION_SECONDS = "connectly_api_request_duration_seconds"
UNPARSED_ERRORS_TOTAL = "connectly_api_unparsed_errors_total"
TRANSPORT_ERRORS_TOTAL = "connectly_api_transport_errors_total"

# Failures inside connectly-obs itself, which are swallowed so that the caller's
# request is unaffected. Anything above zero here is a bug worth reporting.
HOOK_ERRORS_TOTAL = "connectly_obs_hook_errors_total"

LABEL_METHOD = "method"
LABEL_ROUTE = "route"
LABEL_STATUS_CODE = "status_code"
LABEL_TYPE = "type"
LABEL_CODE = "code"
LABEL_REASON = "reason"
LABEL_EXCEPTION = "exception"
LABEL_BUSINESS_ID = "business_id"
LABEL_STAGE = "stage"

# Label value for a field the server did not send, or sent with the wrong JSON type.
MISSING_VALUE = "none"

# Label value for anything that cannot become a label value of its own: a value
# of an unexpected shape, or a new value once a label's bound is reached.
OTHER_VALUE = "other"

# The fixed set of `reason` values on UNPARSED_ERRORS_TOTAL.
UNPARSED_REASONS = (
    "empty",  # no body, or only white space
    "html",  # an HTML page, typically from a gateway or load balancer
    "not_json",  # some other text
    "truncated",  # JSON that ends before its last value is complete
    "wrong_shape",  # valid JSON, but not an object with a string `type` or `code`
    "too_large",  # larger than the parse bound, so not parsed
    "undecodable",  # the Content-Encoding could not be decoded
    "read_failed",  # the connection failed while the body was read
)

# Seconds. Connectly calls typically take tens of milliseconds; the top buckets
# catch the slow tail up to common client timeouts of 30 s.
REQUEST_DURATION_BUCKETS = (
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    30.0,
)

# OpenTelemetry span attributes and event names of our own. HTTP attributes come
# from opentelemetry-semantic-conventions instead.
ATTR_TRACE_ID = "connectly.trace_id"
ATTR_ERROR_TYPE = "connectly.error.type"
ATTR_ERROR_CODE = "connectly.error.code"
ATTR_ERROR_MESSAGE = "connectly.error.message"
ATTR_ERROR_USER_TITLE = "connectly.error.user_title"
ATTR_ERROR_USER_MESSAGE = "connectly.error.user_message"
ATTR_UNPARSED_REASON = "connectly.error.unparsed_reason"
EVENT_ERROR = "connectly.error"

# Exemplar label names. Prometheus limits an exemplar's labels to 128 UTF-8
# characters in all, which these names and their values fit.
EXEMPLAR_TRACE_ID = "trace_id"
EXEMPLAR_SPAN_ID = "span_id"
EXEMPLAR_CNT_TRACE_ID = "cnt_trace_id"

# Alert names of the generated rules. The dashboards link to the runbook
# section of each, which is the name in lower case.
ALERT_BUSINESS_LIMIT = "ConnectlyBusinessLimitReached"
ALERT_CREDENTIALS = "ConnectlyCredentialsBroken"
ALERT_ERROR_BUDGET = "ConnectlyErrorBudgetBurn"
ALERT_ERROR_RATIO = "ConnectlyErrorRatioHigh"
ALERT_ERROR_SPIKE = "ConnectlyErrorSpike"
ALERT_HOOK_ERRORS = "ConnectlyObsHookErrors"
ALERT_LATENCY = "ConnectlyLatencyHigh"
ALERT_MESSAGING_WINDOW = "ConnectlyMessagingWindowMisuse"
ALERT_METRICS_ABSENT = "ConnectlyMetricsAbsent"
ALERT_RATE_LIMITED = "ConnectlyRateLimited"
ALERT_RATE_LIMIT_RISING = "ConnectlyRateLimitRising"
ALERT_SERVER_ERRORS = "ConnectlyServerErrors"
ALERT_TEMPLATES = "ConnectlyTemplatesBroken"
ALERT_TRANSPORT = "ConnectlyTransportErrors"
ALERT_UNPARSED = "ConnectlyUnparsedErrorResponses"
