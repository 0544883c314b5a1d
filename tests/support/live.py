"""`connectly-obs demo` scraped by a real Prometheus, and panel queries run against it.

Shared by the live dashboard test and the script that draws the dashboard
pictures for the docs. Every process is started on 127.0.0.1 and stopped by
process id.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectly_obs._names import REQUESTS_TOTAL
from tests.support.grafana import expand_variables
from tests.support.servers import Prometheus, free_port, run_prometheus

# Scrape every second, so that a short run still gives Prometheus many samples.
SCRAPE_SECONDS = 1

# Grafana's smallest $__interval on a short time range; the panel's own
# `interval` (min interval) replaces it when larger.
_BASE_INTERVAL_SECONDS = 1

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(duration: str) -> int:
    parts = _DURATION.findall(duration)
    if not parts or "".join(number + unit for number, unit in parts) != duration:
        raise ValueError(f"invalid Grafana duration {duration!r}")
    return sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def grafana_variables(panel: dict[str, Any]) -> dict[str, str]:
    """Return the values Grafana gives the variables of `panel` with All selected.

    `$__rate_interval` follows Grafana's rule: the larger of `$__interval` plus
    one scrape interval and four scrape intervals.
    """
    interval = max(_BASE_INTERVAL_SECONDS, _seconds(panel.get("interval", "1s")))
    rate_interval = max(interval + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS)
    return {"__rate_interval": f"{rate_interval}s", "job": ".+", "instance": ".+"}


def run_query(prometheus: Prometheus, panel: dict[str, Any], expr: str, start: float, end: float) -> Any:
    """Run a panel query over [start, end] as Grafana would, and return its result matrix."""
    query = expand_variables(expr, grafana_variables(panel))
    data = prometheus.api("query_range", query=query, start=f"{start:.3f}", end=f"{end:.3f}", step="1")
    return data["result"]


def run_exemplars(prometheus: Prometheus, panel: dict[str, Any], expr: str, start: float, end: float) -> Any:
    """Return the exemplars Prometheus has for a panel query over [start, end]."""
    query = expand_variables(expr, grafana_variables(panel))
    return prometheus.api("query_exemplars", query=query, start=f"{start:.3f}", end=f"{end:.3f}")


def wait_for_demo_metrics(process: subprocess.Popen[bytes], url: str, log_path: Path, *, tries: int = 300) -> None:
    """Poll `url` every 0.2 s until the demo serves its metrics there, or raise after `tries` polls."""
    for _ in range(tries):
        if process.poll() is not None:
            raise RuntimeError(
                f"connectly-obs demo exited with status {process.returncode} before serving "
                f"{url}; its output:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2.0) as response:
            # Another server on the port, such as Prometheus with its own
            # /metrics, must not pass for the demo.
            if response.status == 200 and REQUESTS_TOTAL.encode() in response.read():
                return
        time.sleep(0.2)
    raise RuntimeError(f"connectly-obs demo did not serve {url} within {tries} tries")


@contextlib.contextmanager
def run_demo(workdir: Path, *, scenario: str, duration: int, rate: int, port: int | None = None) -> Iterator[str]:
    """Start `connectly-obs demo` and yield its metrics address (host:port).

    `port` defaults to a free one; pass one to tell Prometheus before the demo starts.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = workdir / "demo.log"
    args = [
        sys.executable, "-m", "connectly_obs.cli", "demo",
        "--scenario", scenario,
        "--duration", str(duration),
        "--rate", str(rate),
        "--metrics-port", str(port),
        "--seed", "7",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_demo_metrics(process, f"http://127.0.0.1:{port}/metrics", log_path)
        yield f"127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


@contextlib.contextmanager
def demo_with_prometheus(workdir: Path, *, scenario: str, duration: int, rate: int) -> Iterator[Prometheus]:
    """Run the demo and a Prometheus that scrapes it with exemplar storage on."""
    with (
        run_demo(workdir / "demo", scenario=scenario, duration=duration, rate=rate) as target,
        run_prometheus(
            workdir / "prometheus",
            [target],
            scrape_interval=f"{SCRAPE_SECONDS}s",
            extra_args=["--enable-feature=exemplar-storage"],
        ) as prometheus,
    ):
        yield prometheus


def wait_for_scrapes(prometheus: Prometheus, count: int) -> None:
    """Wait until Prometheus has scraped the demo successfully `count` times, or fail."""
    result = prometheus.wait_for(f'sum_over_time(up{{job="connectly-obs"}}[10m]) >= {count}', timeout=120)
    if not result:
        raise AssertionError(f"Prometheus did not scrape the demo {count} times within 120 s")
