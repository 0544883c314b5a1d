"""The rules fire end to end: demo traffic, a real Prometheus and a real Alertmanager.

Each scenario gets its own Prometheus and Alertmanager on 127.0.0.1, loaded
with rules rendered from a config with windows of seconds. The demo first
sends healthy traffic for a while, so that the alerts that compare against a
baseline have one, as they would in production. Then the demo runs the
scenario, and the test collects every alert that reaches Alertmanager's API
until the intended ones have arrived and a settling period has passed. The
set of (alertname, severity) seen must equal the intended set.

Intended alerts per scenario, and why:

- Every error scenario fails half or more of its calls (rate-limit-storm and
  auth-failure 70 %, business-limit 50 %), so ConnectlyErrorRatioHigh fires
  at both severities and every ConnectlyErrorBudgetBurn window pair fires,
  at both severities. All 4xx responses count as failed calls, including the
  401s and 403s of auth-failure.
- The failures start after healthy traffic, so ConnectlyErrorSpike fires in
  every error scenario.
- rate-limit-storm adds ConnectlyRateLimited (sustained) and
  ConnectlyRateLimitRising (rising above its healthy baseline).
- business-limit adds ConnectlyBusinessLimitReached; auth-failure adds
  ConnectlyCredentialsBroken.
- healthy fires nothing.

The demo's fake API replies at once and sends no gateway pages, so the
latency, transport, unparsed-body, Connectly-side and template alerts stay
quiet. ConnectlyMetricsAbsent gets a `for` of 10 minutes here, because the
demo restarts between the healthy phase and the scenario, and the target is
down for a scrape or two.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectly_obs.alerts import load_config, render
from tests.support.live import wait_for_demo_metrics
from tests.support.servers import (
    Alertmanager,
    Prometheus,
    find_tool,
    free_port,
    run_alertmanager,
    run_prometheus,
)

# Windows and `for` durations scaled from minutes and hours down to seconds.
E2E_CONFIG: dict[str, Any] = {
    "alert_window": "10s",
    "error_ratio": {"warning_for": "5s", "critical_for": "5s"},
    "error_spike": {"baseline_window": "5m", "for": "5s"},
    "rate_limit": {"for": "10s", "rising_baseline_window": "5m", "rising_for": "5s"},
    "business_limit": {"for": "5s"},
    "credentials": {"for": "5s"},
    "templates": {"for": "5s"},
    "messaging_window": {"for": "5s"},
    "connectly_side": {"for": "5s"},
    "unparsed": {"for": "5s"},
    "transport": {"for": "5s"},
    "latency": {"for": "5s"},
    "metrics_absent": {"for": "10m"},
    "hook_errors": {"for": "5s"},
    "error_budget": {
        "burn_rates": [
            {"long_window": "1m", "short_window": "10s", "factor": 14.4, "severity": "critical", "for": "5s"},
            {"long_window": "2m", "short_window": "20s", "factor": 6, "severity": "critical", "for": "5s"},
            {"long_window": "3m", "short_window": "30s", "factor": 3, "severity": "warning", "for": "5s"},
            {"long_window": "4m", "short_window": "1m", "factor": 1, "severity": "warning", "for": "5s"},
        ]
    },
}

_SHARED_BY_ERROR_SCENARIOS = {
    ("ConnectlyErrorRatioHigh", "warning"),
    ("ConnectlyErrorRatioHigh", "critical"),
    ("ConnectlyErrorSpike", "warning"),
    ("ConnectlyErrorBudgetBurn", "critical"),
    ("ConnectlyErrorBudgetBurn", "warning"),
}

INTENDED: dict[str, set[tuple[str, str]]] = {
    "rate-limit-storm": _SHARED_BY_ERROR_SCENARIOS
    | {("ConnectlyRateLimited", "warning"), ("ConnectlyRateLimitRising", "info")},
    "business-limit": _SHARED_BY_ERROR_SCENARIOS | {("ConnectlyBusinessLimitReached", "critical")},
    "auth-failure": _SHARED_BY_ERROR_SCENARIOS | {("ConnectlyCredentialsBroken", "critical")},
    "healthy": set(),
}

# Seconds of healthy traffic before the scenario: longer than twice the time
# the spike alert needs, so the baseline is healthy when the failures start.
_WARMUP_SECONDS = 40
# Upper bounds, never expectations: how long a scenario may take to raise its
# alerts, and how long to keep watching for extra alerts after that.
_SCENARIO_TIMEOUT_SECONDS = 120.0
_SETTLE_SECONDS = 20.0
_POLL_SECONDS = 1.0


@contextlib.contextmanager
def _demo(workdir: Path, name: str, scenario: str, port: int, seconds: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run `connectly-obs demo`, and stop it by process id when the block ends."""
    command = [
        sys.executable,
        "-m",
        "connectly_obs.cli",
        "demo",
        "--scenario",
        scenario,
        "--duration",
        str(seconds),
        "--metrics-port",
        str(port),
        "--rate",
        "20",
        "--seed",
        "7",
    ]
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        wait_for_demo_metrics(process, f"http://127.0.0.1:{port}/metrics", workdir / f"{name}.log", tries=100)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _seen(alertmanager: Alertmanager) -> set[tuple[str, str]]:
    return {(alert["labels"]["alertname"], alert["labels"].get("severity", "")) for alert in alertmanager.alerts()}


def _watch(alertmanager: Alertmanager, intended: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Collect alerts until the intended ones arrived and the settling period passed."""
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + _SCENARIO_TIMEOUT_SECONDS
    settled_at: float | None = None
    for _ in range(int((_SCENARIO_TIMEOUT_SECONDS + _SETTLE_SECONDS) / _POLL_SECONDS) + 1):
        seen |= _seen(alertmanager)
        now = time.monotonic()
        if settled_at is None and (intended <= seen or now > deadline):
            settled_at = now + _SETTLE_SECONDS
        if settled_at is not None and now >= settled_at:
            break
        time.sleep(_POLL_SECONDS)
    return seen


def _rule_file(tmp_path: Path) -> Path:
    path = tmp_path / "e2e.rules.yml"
    path.write_text(render(load_config(E2E_CONFIG)))
    result = subprocess.run(
        [find_tool("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def _assert_rules_evaluated(prometheus: Prometheus) -> None:
    # Quiet rules prove nothing unless they see the demo's calls.
    calls = prometheus.wait_for('job:connectly_api_calls:rate10s{job="connectly-obs"} > 0', 30)
    assert calls, "the recording rules saw no calls from the demo"


@pytest.mark.parametrize("scenario", sorted(INTENDED))
def test_scenario_raises_intended_alerts(tmp_path: Path, scenario: str) -> None:
    rules = _rule_file(tmp_path)
    port = free_port()
    intended = INTENDED[scenario]

    with (
        run_alertmanager(tmp_path / "alertmanager") as alertmanager,
        run_prometheus(
            tmp_path / "prometheus",
            [f"127.0.0.1:{port}"],
            rule_files=[rules],
            alertmanager=alertmanager.address,
        ) as prometheus,
    ):
        with _demo(tmp_path / "demo", "warmup", "healthy", port, _WARMUP_SECONDS) as warmup:
            _assert_rules_evaluated(prometheus)
            warmup.wait(timeout=_WARMUP_SECONDS + 60)
        assert warmup.returncode == 0
        assert _seen(alertmanager) == set(), "alerts fired during the healthy warm-up"

        seconds = int(_SCENARIO_TIMEOUT_SECONDS + _SETTLE_SECONDS + 30)
        with _demo(tmp_path / "demo", scenario, scenario, port, seconds):
            _assert_rules_evaluated(prometheus)
            seen = _watch(alertmanager, intended)

    assert seen == intended
