"""Draw the dashboards from real panel data, for readers without a Grafana server.

The script runs `connectly-obs demo` with mixed traffic and, from the middle
of the run on, a second instance with a rate-limit storm. A real Prometheus on
127.0.0.1 scrapes both. Every panel query then runs as Grafana would run it,
and matplotlib draws each dashboard into docs/images/ with the panels laid
out on Grafana's grid. Run it from the repository root:

    python docs/tools/render_dashboards.py

It takes about two minutes and needs the dev extra and `prometheus` on PATH.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402

from connectly_obs.dashboards import build_dashboards  # noqa: E402
from tests.support.live import run_demo, run_query, wait_for_scrapes  # noqa: E402
from tests.support.servers import free_port, run_prometheus  # noqa: E402

# Seconds of traffic in the pictures; the rate-limit storm starts halfway.
_WINDOW = 90
# Inches per Grafana grid unit, across and down.
_CELL_WIDTH = 0.75
_CELL_HEIGHT = 0.42

_UNIT_SUFFIX = {"reqps": " req/s", "s": " s", "short": "", "percentunit": ""}


def _format(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    return f"{value:.3g}{_UNIT_SUFFIX.get(unit, '')}"


def _series(result: list[dict[str, Any]], start: float) -> list[tuple[list[float], list[float]]]:
    lines = []
    for item in result:
        times = [float(t) - start for t, _ in item["values"]]
        values = [float(v) for _, v in item["values"]]
        lines.append((times, values))
    return lines


def _legend(target: dict[str, Any], labels: dict[str, str]) -> str:
    text = target["legendFormat"]
    if text == "__auto":
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or target["refId"]
    for name, value in labels.items():
        text = text.replace(f"{{{{{name}}}}}", value)
    return text.replace("{{business_id}}", "(no business_id)")


def _draw_timeseries(axes: Any, panel: dict[str, Any], results: list[Any], start: float) -> None:
    unit = panel["fieldConfig"]["defaults"]["unit"]
    drawn = 0
    for target, result in zip(panel["targets"], results, strict=True):
        for item, (times, values) in zip(result, _series(result, start), strict=True):
            axes.plot(times, values, linewidth=1, label=_legend(target, item["metric"])[:40])
            drawn += 1
    if not drawn:
        axes.text(0.5, 0.5, "No data", ha="center", va="center", transform=axes.transAxes, color="grey")
    elif drawn <= 8:
        axes.legend(fontsize=5, loc="upper left", frameon=False)
    axes.set_xlabel("seconds", fontsize=6)
    axes.set_ylabel(unit, fontsize=6)
    axes.tick_params(labelsize=6)


def _draw_stat(axes: Any, panel: dict[str, Any], results: list[Any]) -> None:
    unit = panel["fieldConfig"]["defaults"]["unit"]
    result = results[0]
    text = _format(float(result[0]["values"][-1][1]), unit) if result else "No data"
    axes.text(0.5, 0.45, text, ha="center", va="center", fontsize=16, transform=axes.transAxes)
    axes.set_axis_off()


def _draw_table(axes: Any, panel: dict[str, Any], results: list[Any]) -> None:
    unit = panel["fieldConfig"]["defaults"]["unit"]
    target = panel["targets"][0]
    rows = []
    for item in results[0]:
        values = [float(v) for _, v in item["values"]]
        rows.append((sum(values) / len(values), max(values), _legend(target, item["metric"])))
    rows.sort(reverse=True)
    lines = [f"{_format(mean, unit):>12}  {_format(peak, unit):>12}  {name[:60]}" for mean, peak, name in rows[:10]]
    header = f"{'Mean':>12}  {'Max':>12}  Series"
    axes.text(0, 1, "\n".join([header, *lines]) if lines else "No data", va="top", family="monospace", fontsize=5.5)
    axes.set_axis_off()


def _render(dashboard: dict[str, Any], prometheus: Any, start: float, end: float, path: Path) -> None:
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    figure = plt.figure(figsize=(24 * _CELL_WIDTH, height * _CELL_HEIGHT))
    grid = GridSpec(height, 24, figure=figure, hspace=1.4, wspace=1.2, top=0.97, bottom=0.02, left=0.03, right=0.99)
    figure.suptitle(dashboard["title"], fontsize=14, x=0.01, y=0.995, ha="left")

    for panel in dashboard["panels"]:
        position = panel["gridPos"]
        axes = figure.add_subplot(
            grid[position["y"] : position["y"] + position["h"], position["x"] : position["x"] + position["w"]]
        )
        if panel["type"] == "row":
            axes.text(0, 0.5, panel["title"], fontsize=11, weight="bold", va="center")
            axes.set_axis_off()
            continue
        axes.set_title(panel["title"], fontsize=8, loc="left")
        results = [run_query(prometheus, panel, t["expr"], start, end) for t in panel["targets"]]
        if panel["type"] == "stat":
            _draw_stat(axes, panel, results)
        elif panel["type"] == "table":
            _draw_table(axes, panel, results)
        else:
            _draw_timeseries(axes, panel, results, start)

    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)
    print(f"wrote {path}")


def main() -> int:
    out = REPO / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        workdir = Path(folder)
        mixed = stack.enter_context(run_demo(workdir / "mixed", scenario="mixed", duration=_WINDOW + 60, rate=40))
        # The storm instance starts later, so Prometheus gets its port up front.
        storm_port = free_port()
        prometheus = stack.enter_context(
            run_prometheus(
                workdir / "prometheus",
                [mixed, f"127.0.0.1:{storm_port}"],
                scrape_interval="1s",
                extra_args=["--enable-feature=exemplar-storage"],
            )
        )
        started = time.time()
        time.sleep(_WINDOW / 2)
        stack.enter_context(
            run_demo(workdir / "storm", scenario="rate-limit-storm", duration=_WINDOW, rate=30, port=storm_port)
        )
        time.sleep(_WINDOW / 2)
        wait_for_scrapes(prometheus, _WINDOW)
        end = time.time()
        for name, dashboard in build_dashboards().items():
            _render(dashboard, prometheus, started, end, out / name.replace(".json", ".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
