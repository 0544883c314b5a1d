"""The files in prometheus/ are the generator's output for the default config."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectly_obs.alerts import Config, render

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "prometheus"

SHIPPED = {
    "prometheus": "connectly-obs.rules.yml",
    "prometheus-operator": "connectly-obs.prometheusrule.yml",
    "grafana": "connectly-obs.grafana.yml",
}

_FIX = "render it again with: connectly-obs rules --format {format} -o prometheus/{name}"


@pytest.mark.parametrize("format", sorted(SHIPPED))
def test_shipped_file_matches_generator(format: str) -> None:
    name = SHIPPED[format]
    shipped = (PROMETHEUS_DIR / name).read_text(encoding="utf-8")

    assert shipped == render(Config(), format), _FIX.format(format=format, name=name)
