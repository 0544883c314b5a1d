"""PromQL building blocks that keep every query within the dashboard conventions.

Every series selector gets the `job` and `instance` variables and the user's
extra matchers, and every counter is read through `rate()` over
`$__rate_interval`, so Grafana picks a window of at least four scrapes.
"""

from __future__ import annotations

__all__ = ["RATE_INTERVAL", "Selectors", "equal", "legend", "matches", "not_equal", "sum_by"]

RATE_INTERVAL = "$__rate_interval"


def equal(label: str, value: str) -> str:
    return f'{label}="{value}"'


def not_equal(label: str, value: str) -> str:
    return f'{label}!="{value}"'


def matches(label: str, pattern: str) -> str:
    return f'{label}=~"{pattern}"'


class Selectors:
    """Series selectors that share the dashboard filter."""

    def __init__(self, extra: str) -> None:
        self._extra = [extra.strip()] if extra.strip() else []
        self._base = ['job=~"$job"', 'instance=~"$instance"', *self._extra]

    def series(self, metric: str, *matchers: str) -> str:
        """Return `metric{...}` with the dashboard filter and `matchers`."""
        return f"{metric}{{{', '.join([*self._base, *matchers])}}}"

    def rate(self, metric: str, *matchers: str, offset: str = "") -> str:
        """Return the per-second rate of a counter, optionally shifted back by `offset`."""
        shift = f" offset {offset}" if offset else ""
        return f"rate({self.series(metric, *matchers)}[{RATE_INTERVAL}]{shift})"

    def label_values(self, metric: str, label: str, *, filter_by_job: bool) -> str:
        """Return a Grafana `label_values()` query for a template variable."""
        parts = ['job=~"$job"'] if filter_by_job else []
        parts.extend(self._extra)
        selector = f"{metric}{{{', '.join(parts)}}}" if parts else metric
        return f"label_values({selector}, {label})"


def sum_by(labels: tuple[str, ...], expr: str) -> str:
    """Return `sum by (labels) (expr)`, or a plain `sum(expr)` when `labels` is empty."""
    if not labels:
        return f"sum({expr})"
    return f"sum by ({', '.join(labels)}) ({expr})"


def legend(*labels: str) -> str:
    """Return a Grafana legend format that shows the values of `labels`."""
    return " ".join(f"{{{{{label}}}}}" for label in labels)
