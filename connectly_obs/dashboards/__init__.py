"""Grafana dashboards for the connectly-obs metrics, generated from one config.

`build_dashboards()` returns each dashboard as a JSON-ready dict by file name;
`write_dashboards()` writes them where Grafana's file provisioning or a manual
import picks them up. Metric and label names come from the same constants the
library exports them under.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._config import DEFAULT_RUNBOOK_URL, DashboardConfig
from ._limits import build_limits
from ._overview import build_overview

__all__ = [
    "DEFAULT_RUNBOOK_URL",
    "DashboardConfig",
    "build_dashboards",
    "render_json",
    "write_dashboards",
]


def build_dashboards(config: DashboardConfig | None = None) -> dict[str, dict[str, Any]]:
    """Build every dashboard, keyed by the file name it is written under."""
    config = config or DashboardConfig()
    return {
        "connectly-overview.json": build_overview(config),
        "connectly-limits.json": build_limits(config),
    }


def render_json(dashboard: dict[str, Any]) -> str:
    """Return the dashboard as the JSON text written to disk, ending in a newline."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def write_dashboards(folder: Path, config: DashboardConfig | None = None) -> list[Path]:
    """Write every dashboard into `folder`, creating it if needed, and return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dashboard in build_dashboards(config).items():
        path = folder / name
        path.write_text(render_json(dashboard), encoding="utf-8")
        written.append(path)
    return written
