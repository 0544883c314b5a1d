"""The parts every dashboard shares: variables, links, tags and schema version."""

from __future__ import annotations

from typing import Any

from .._names import (
    ALERT_BUSINESS_LIMIT,
    ALERT_CREDENTIALS,
    ALERT_ERROR_RATIO,
    ALERT_ERROR_SPIKE,
    ALERT_RATE_LIMITED,
    REQUESTS_TOTAL,
)
from ._config import DashboardConfig
from ._panels import PROMETHEUS, runbook_page
from ._promql import Selectors

__all__ = [
    "ALERT_BUSINESS_LIMIT",
    "ALERT_CREDENTIALS",
    "ALERT_ERROR_RATIO",
    "ALERT_ERROR_SPIKE",
    "ALERT_RATE_LIMITED",
    "SCHEMA_VERSION",
    "TAG",
    "dashboard",
]


# The dashboard schema version that Grafana 11.6 writes, as in the Grafana 11.6
# build of grafana-foundation-sdk. Grafana migrates older versions when it loads them.
SCHEMA_VERSION = 41

# Every dashboard carries this tag, and links to the others by it.
TAG = "connectly-obs"


def dashboard(
    config: DashboardConfig,
    *,
    key: str,
    title: str,
    description: str,
    panels: list[dict[str, Any]],
    time_from: str,
) -> dict[str, Any]:
    """Wrap `panels` in a dashboard with the shared variables and links."""
    return {
        "uid": f"{config.uid_prefix}-{key}",
        "title": f"{config.title_prefix}{title}",
        "description": description,
        "tags": [TAG, "connectly", "whatsapp"],
        "editable": False,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": time_from, "to": "now"},
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": _links(config),
        "annotations": {"list": [_builtin_annotation()]},
        "templating": {"list": _variables(config)},
        "panels": panels,
    }


def _links(config: DashboardConfig) -> list[dict[str, Any]]:
    return [
        {
            "type": "dashboards",
            "title": "Connectly dashboards",
            "tags": [TAG],
            "asDropdown": False,
            "includeVars": True,
            "keepTime": True,
            "targetBlank": False,
            "icon": "external link",
            "tooltip": "",
            "url": "",
        },
        {
            "type": "link",
            "title": "Runbooks",
            "tags": [],
            "asDropdown": False,
            "includeVars": False,
            "keepTime": False,
            "targetBlank": True,
            "icon": "doc",
            "tooltip": "One section per Connectly alert",
            "url": runbook_page(config.runbook_url),
        },
    ]


def _builtin_annotation() -> dict[str, Any]:
    return {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }


def _variables(config: DashboardConfig) -> list[dict[str, Any]]:
    selectors = Selectors(config.selector)
    return [
        _datasource_variable("datasource", "Data source", "prometheus", config.datasource),
        _datasource_variable("trace_datasource", "Trace data source", "tempo", config.trace_datasource),
        _query_variable("job", selectors.label_values(REQUESTS_TOTAL, "job", filter_by_job=False)),
        _query_variable(
            "instance",
            selectors.label_values(REQUESTS_TOTAL, "instance", filter_by_job=True),
        ),
    ]


def _datasource_variable(name: str, label: str, plugin: str, default: str) -> dict[str, Any]:
    return {
        "type": "datasource",
        "name": name,
        "label": label,
        "query": plugin,
        "current": {"selected": False, "text": default, "value": default},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def _query_variable(name: str, query: str) -> dict[str, Any]:
    return {
        "type": "query",
        "name": name,
        "label": name.title(),
        "datasource": PROMETHEUS,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "includeAll": True,
        "allValue": ".+",
        "multi": True,
        "options": [],
        # 2: refresh the values when the time range changes.
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "skipUrlSync": False,
    }
