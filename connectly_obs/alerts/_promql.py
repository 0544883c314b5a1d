"""PromQL pieces shared by the recording and alerting rules.

Recording rules follow the `level:metric:operations` convention: the level is
the labels the result keeps, joined by "_", the metric is the source metric
without `_total`, and the operations name what was computed over which window.
"""

from __future__ import annotations

from .._names import (
    ERRORS_TOTAL,
    LABEL_CODE,
    LABEL_EXCEPTION,
    LABEL_REASON,
    LABEL_STATUS_CODE,
    LABEL_TYPE,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
    TRANSPORT_ERRORS_TOTAL,
    UNPARSED_ERRORS_TOTAL,
)
from ._config import Config

__all__ = ["Promql", "number", "quote"]


def quote(text: str) -> str:
    """Return `text` as a PromQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number(value: float) -> str:
    """Format a threshold without float noise such as 0.07200000000000001."""
    return f"{value:.6g}"


def _base(metric: str) -> str:
    return metric.removesuffix("_total")


class Promql:
    """Selectors and recorded series names for one config."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.by = ", ".join(config.group_by)
        self.level = "_".join(config.group_by)

    def matchers(self, *extra: str) -> str:
        """Return the config's selector plus `extra` matchers, inside braces."""
        parts = [self.config.selector.strip(), *extra]
        return "{" + ", ".join(part for part in parts if part) + "}"

    def regex_matcher(self, label: str, values: tuple[str, ...], *, negate: bool = False) -> str:
        operator = "!~" if negate else "=~"
        return f"{label}{operator}{quote('|'.join(values))}"

    def _not_ignored(self) -> tuple[str, ...]:
        # Series without an `exception` label have it empty, which passes too.
        ignored = self.config.ignored_exceptions
        return (self.regex_matcher(LABEL_EXCEPTION, ignored, negate=True),) if ignored else ()

    def calls_selector(self) -> str:
        """Select every call: those with a response and those that ended without one."""
        names = self.regex_matcher("__name__", (REQUESTS_TOTAL, TRANSPORT_ERRORS_TOTAL))
        return self.matchers(names, *self._not_ignored())

    def failed_calls_selector(self) -> str:
        """Select calls with a failed status, and calls without a response.

        Transport errors have no `status_code` label, so the optional group in
        the regular expression lets their empty value match.
        """
        names = self.regex_matcher("__name__", (REQUESTS_TOTAL, TRANSPORT_ERRORS_TOTAL))
        status = f"{LABEL_STATUS_CODE}=~{quote('(' + self.config.failed_status_codes + ')?')}"
        return self.matchers(names, status, *self._not_ignored())

    def transport_selector(self) -> str:
        return TRANSPORT_ERRORS_TOTAL + self.matchers(*self._not_ignored())

    def errors_of(
        self,
        types: tuple[str, ...],
        codes: tuple[str, ...],
        window: str,
        exclude_codes: tuple[str, ...] = (),
    ) -> str:
        """Return the rates of error series whose type or code is listed, each counted once."""
        exclude = (self.regex_matcher(LABEL_CODE, exclude_codes, negate=True),) if exclude_codes else ()
        parts = []
        if types:
            matchers = self.matchers(self.regex_matcher(LABEL_TYPE, types), *exclude)
            parts.append(f"rate({ERRORS_TOTAL}{matchers}[{window}])")
        if codes:
            matchers = self.matchers(self.regex_matcher(LABEL_CODE, codes), *exclude)
            parts.append(f"rate({ERRORS_TOTAL}{matchers}[{window}])")
        # `or` keeps a series that matches both the type and the code list once.
        return "\n  or\n  ".join(parts)

    # Recorded series names.

    def calls(self, window: str) -> str:
        return f"{self.level}:connectly_api_calls:rate{window}"

    def failed_calls(self, window: str) -> str:
        return f"{self.level}:connectly_api_failed_calls:rate{window}"

    def failed_ratio(self, window: str) -> str:
        return f"{self.level}:connectly_api_failed_calls:ratio_rate{window}"

    def requests(self, window: str) -> str:
        return f"{self.level}:{_base(REQUESTS_TOTAL)}:rate{window}"

    def errors_by_type_code(self, window: str) -> str:
        return f"{self.level}_{LABEL_TYPE}_{LABEL_CODE}:{_base(ERRORS_TOTAL)}:rate{window}"

    def rate_limited(self, window: str) -> str:
        return f"{self.level}:connectly_api_rate_limited_calls:rate{window}"

    def unparsed(self, window: str) -> str:
        level = f"{self.level}_{LABEL_REASON}_{LABEL_STATUS_CODE}"
        return f"{level}:{_base(UNPARSED_ERRORS_TOTAL)}:rate{window}"

    def transport(self, window: str) -> str:
        return f"{self.level}_{LABEL_EXCEPTION}:{_base(TRANSPORT_ERRORS_TOTAL)}:rate{window}"

    def latency(self, window: str) -> str:
        return f"{self.level}_quantile:{REQUEST_DURATION_SECONDS}:histogram_quantile_rate{window}"
