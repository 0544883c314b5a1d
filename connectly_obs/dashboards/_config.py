"""The one config behind every generated dashboard."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

__all__ = ["DEFAULT_RUNBOOK_URL", "DashboardConfig"]

# NOTE: the project's public address is not settled yet, so the default points
# at the runbook page of the main branch on GitHub. Pass `runbook_url` to point
# the links at your own copy.
DEFAULT_RUNBOOK_URL = "https://github.com/connectly-obs/connectly-obs/blob/main/docs/runbooks.md"

# One PromQL label matcher: a label name, an operator and a double-quoted value.
_MATCHER = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*')


@dataclass(frozen=True)
class DashboardConfig:
    """Options that change the generated dashboards."""

    # Extra label matchers added to every series selector, e.g. `env="prod"`.
    selector: str = ""
    # Name of the Prometheus data source that the `datasource` variable selects first.
    datasource: str = "Prometheus"
    # Name of the trace data source (Tempo) that the `trace_datasource` variable selects first.
    trace_datasource: str = "Tempo"
    # Text put in front of every dashboard title, e.g. "Prod / ".
    title_prefix: str = ""
    # Page with one section per alert; panel links append `#<alert name in lower case>`.
    runbook_url: str = DEFAULT_RUNBOOK_URL
    # Start of every dashboard uid; Grafana limits a uid to 40 characters.
    uid_prefix: str = "connectly-obs"

    def __post_init__(self) -> None:
        _check_selector(self.selector)
        _check_not_blank("datasource", self.datasource)
        _check_not_blank("trace_datasource", self.trace_datasource)
        _check_runbook_url(self.runbook_url)
        _check_uid_prefix(self.uid_prefix)


def _check_not_blank(name: str, value: str) -> None:
    if not value.strip():
        raise ValueError(f"{name} must name a Grafana data source, got {value!r}")


def _check_selector(selector: str) -> None:
    if not selector.strip():
        return
    # Split on commas outside quoted values by matching matcher after matcher.
    position = 0
    while True:
        match = _MATCHER.match(selector, position)
        if match is None:
            raise ValueError(
                f"invalid selector {selector!r} at character {position}: expected "
                'comma-separated label matchers such as env="prod",cluster=~"eu-.*"'
            )
        position = match.end()
        if position == len(selector):
            return
        if selector[position] != ",":
            raise ValueError(
                f"invalid selector {selector!r} at character {position}: separate label matchers with a comma"
            )
        position += 1


def _check_runbook_url(url: str) -> None:
    # The same two forms as `connectly-obs rules --runbook-url` takes, so one
    # value serves both: a page, or a pattern with {alert} or {anchor}.
    is_pattern = "{alert}" in url or "{anchor}" in url
    try:
        example = url.format(alert="ConnectlyErrorSpike", anchor="connectlyerrorspike") if is_pattern else url
    except (KeyError, IndexError, ValueError):
        raise ValueError(
            f"invalid runbook URL {url!r}: the only {{}} fields allowed are {{alert}} and {{anchor}}"
        ) from None
    parts = urllib.parse.urlsplit(example)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"invalid runbook URL {url!r}: give an absolute http or https URL, "
            "e.g. https://example.com/docs/runbooks.md or https://example.com/docs/runbooks.md#{anchor}"
        )
    if parts.fragment and not is_pattern:
        raise ValueError(
            f"invalid runbook URL {url!r}: remove the '#{parts.fragment}' part, or write '#{{anchor}}', "
            "because each panel link adds the anchor of its own alert"
        )


def _check_uid_prefix(prefix: str) -> None:
    # The longest suffix added is "-overview"; Grafana rejects uids over 40 characters.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,30}", prefix):
        raise ValueError(f"invalid uid prefix {prefix!r}: use 1 to 30 letters, digits, '-' or '_'")
