"""The benchmark's quick mode still runs and reports every variant.

Nothing here checks a timing: the figures of a few-second run on a shared
machine mean nothing. docs/benchmarks.md has the real run.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "run.py"

# bare httpx twice, the metrics floor, connectly_obs four ways,
# opentelemetry-instrumentation-httpx alone two ways and beside connectly_obs
# four ways.
VARIANT_COUNT = 13


def test_quick_benchmark_reports_every_part(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--json", str(figures_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr

    figures = json.loads(figures_path.read_text())
    assert len(figures["scenarios"]) == 8
    for scenario in figures["scenarios"]:
        names = [row["name"] for row in scenario["rows"]]
        assert len(set(names)) == VARIANT_COUNT, scenario["title"]
        assert names[0] == "bare httpx", scenario["title"]
    assert figures["targets"]
    assert len(figures["breakdown"]) == 7
    assert figures["Memory after garbage error codes"]["requests"] == 2000
    assert figures["Scrape with every series populated"]["exposition_samples"] > 0
    assert "parse_body() of the body" in figures["Unit costs, µs, best of 7"]
    assert "| bare httpx (twin) |" in completed.stdout


def test_quick_instruction_count_runs(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--only", "instructions", "--json", str(figures_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr

    rows = {row["name"]: row for row in json.loads(figures_path.read_text())["instructions"]}
    assert set(rows) == {"bare httpx", "connectly hooks"}
    assert rows["bare httpx"]["per_request"] > 0
    # Counts, not times: the hooks run code that bare httpx does not.
    assert rows["connectly hooks"]["added"] > 0
    assert "| connectly hooks | ok |" in completed.stdout
