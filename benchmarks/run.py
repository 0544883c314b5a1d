"""Measure what connectly_obs costs per request, next to opentelemetry-instrumentation-httpx.

    python benchmarks/run.py              # the full run, several minutes
    python benchmarks/run.py --quick      # a few seconds, only to check that it works
    python benchmarks/run.py --only instructions   # instruction counts under valgrind

Prints Markdown: the machine, a table per scenario (sync or async client,
MockTransport or a loopback server, 200 or Connectly error responses), the
targets, memory after many garbage error codes, scrape time and unit costs.
Instruction counts run only when asked for, because they need valgrind.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from _breakdown import run_breakdown
from _costs import measure_scrape, measure_unit_costs
from _instructions import COUNTED_VARIANTS, InstructionRow, count_instructions, format_instruction_table
from _loopback import fake_api_process
from _memory import run_memory
from _overhead import Row, Scenario, run_scenario
from _variants import API_KEY, OUTCOMES, VARIANTS, loopback_target, mock_target

_PARTS = ("overhead", "loopback", "breakdown", "memory", "scrape", "unit")
# Parts that run only when named with --only.
_OPTIONAL_PARTS = ("instructions",)

# Per-request ratios that the targets allow over bare httpx, MockTransport.
_SUCCESS_RATIO_LIMIT = 1.05
_ERROR_RATIO_LIMIT = 1.15
# Share of opentelemetry-instrumentation-httpx's added cost, both with the SDK.
_SDK_SHARE_LIMIT = 0.5
# How far the twin bare client may drift from the first one before the
# harness itself is suspect.
_TWIN_TOLERANCE = 0.03


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that the benchmark runs, in seconds")
    # 104 rounds: eight full rotations of the 13 variants, so that each one
    # runs in every position of the order equally often.
    parser.add_argument("--rounds", type=int, default=104, help="rounds per MockTransport scenario (default 104)")
    parser.add_argument("--batch", type=int, default=100, help="requests per timed MockTransport batch (default 100)")
    parser.add_argument("--loopback-rounds", type=int, default=24, help="rounds per loopback scenario (default 24)")
    parser.add_argument("--loopback-batch", type=int, default=30, help="requests per timed loopback batch (default 30)")
    parser.add_argument(
        "--memory-requests", type=int, default=1_000_000, help="requests in the memory run (default 1000000)"
    )
    parser.add_argument(
        "--distinct-codes", type=int, default=100_000, help="distinct garbage error codes in the memory run"
    )
    parser.add_argument(
        "--only", choices=_PARTS + _OPTIONAL_PARTS, action="append", help="run only this part; may be repeated"
    )
    parser.add_argument(
        "--variant", action="append", metavar="NAME",
        help="time only this variant beside the two bare clients; may be repeated (default: every variant)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batch = 2, 5
        args.loopback_rounds, args.loopback_batch = 2, 3
        args.memory_requests, args.distinct_codes = 2_000, 500
    known = {variant.name for variant in VARIANTS}
    for name in args.variant or ():
        if name not in known:
            parser.error(f"unknown variant {name!r}; expected one of: {', '.join(sorted(known))}")
    for name in ("rounds", "batch", "loopback_rounds", "loopback_batch", "memory_requests", "distinct_codes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, not {getattr(args, name)}")
    if args.rounds < 2 or args.loopback_rounds < 2:
        parser.error("--rounds and --loopback-rounds must be at least 2, to give quartiles")
    return args


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    packages = ["httpx", "prometheus-client", "opentelemetry-sdk", "opentelemetry-instrumentation-httpx"]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": commit,
        "packages": {name: metadata.version(name) for name in packages},
        "load_average_start": os.getloadavg(),
    }


def _overhead_scenarios(args: argparse.Namespace, parts: set[str]) -> list[tuple[Scenario, list[Row]]]:
    variants = VARIANTS
    if args.variant:
        # The bare clients and the floor are always timed, for reference.
        variants = tuple(
            variant
            for variant in VARIANTS
            if variant.name.startswith(("bare", "floor")) or variant.name in args.variant
        )
    results = []
    if "overhead" in parts:
        for is_async in (False, True):
            for outcome in OUTCOMES:
                scenario = Scenario(is_async, mock_target(outcome))
                print(f"timing {scenario.title}", file=sys.stderr)
                results.append((scenario, run_scenario(scenario, variants, rounds=args.rounds, batch=args.batch)))
    if "loopback" in parts:
        with fake_api_process(API_KEY) as base_url:
            for is_async in (False, True):
                for outcome in OUTCOMES:
                    scenario = Scenario(is_async, loopback_target(base_url, outcome))
                    print(f"timing {scenario.title}", file=sys.stderr)
                    rows = run_scenario(scenario, variants, rounds=args.loopback_rounds, batch=args.loopback_batch)
                    results.append((scenario, rows))
    return results


def _memory_in_child(args: argparse.Namespace) -> dict[str, Any]:
    """Run the memory part in a fresh process, so that its RSS owes nothing to the other parts."""
    command = [
        sys.executable, __file__, "--memory-child",
        "--memory-requests", str(args.memory_requests), "--distinct-codes", str(args.distinct_codes),
    ]
    print(f"memory run: {args.memory_requests} requests", file=sys.stderr)
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _format_table(rows: list[Row]) -> str:
    lines = [
        "| variant | µs/request | x bare | added µs | x bare, quartiles |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.median_us:.1f} | {row.ratio:.3f} | {row.added_us:+.1f} "
            f"| {row.ratio_low:.3f} to {row.ratio_high:.3f} |"
        )
    return "\n".join(lines)


def _check(scenario: Scenario, variant: str, measure: str, value: float, limit: float | None) -> dict[str, Any]:
    holds = None if limit is None else value <= limit
    return {"scenario": scenario.title, "variant": variant, "measure": measure, "value": value, "limit": limit,
            "holds": holds}


def _targets(results: list[tuple[Scenario, list[Row]]]) -> list[dict[str, Any]]:
    """Check the targets in every MockTransport scenario, and the harness in every scenario."""
    checks = []
    for scenario, rows in results:
        by_name = {row.name: row for row in rows}
        twin = by_name["bare httpx (twin)"]
        twin_check = _check(scenario, twin.name, "x bare, must be within 1 ± limit", twin.ratio, _TWIN_TOLERANCE)
        twin_check["holds"] = abs(twin.ratio - 1) <= _TWIN_TOLERANCE
        checks.append(twin_check)
        if scenario.target.kind != "mock":
            continue
        ok = scenario.target.outcome == "ok"
        for mode in ("hooks", "instrument()"):
            row = by_name.get(f"connectly {mode}")
            if row is not None:
                limit = _SUCCESS_RATIO_LIMIT if ok else _ERROR_RATIO_LIMIT
                checks.append(_check(scenario, row.name, "x bare", row.ratio, limit))
            ours, theirs = by_name.get(f"connectly {mode} + SDK"), by_name.get("otel-httpx + SDK")
            if ours is not None and theirs is not None:
                # On error responses we parse the body and they do not: reported, with no limit.
                share = ours.added_us / theirs.added_us
                measure = "added µs / otel-httpx + SDK added µs"
                checks.append(_check(scenario, ours.name, measure, share, _SDK_SHARE_LIMIT if ok else None))
    return checks


def _report(
    machine: dict[str, Any],
    results: list[tuple[Scenario, list[Row]]],
    breakdown: list[Row],
    instructions: list[InstructionRow],
    extra: dict[str, Any],
) -> str:
    out = ["## Machine", ""]
    for key, value in machine.items():
        out.append(f"- {key}: {value}")
    for scenario, rows in results:
        out += ["", f"## {scenario.title}", "", _format_table(rows)]
    if results:
        out += ["", "## Targets and harness check", "", "| scenario | variant | measure | value | limit | holds |",
                "| --- | --- | --- | ---: | ---: | --- |"]
        for check in _targets(results):
            holds = {True: "yes", False: "NO", None: "reported"}[check["holds"]]
            limit = "" if check["limit"] is None else f"{check['limit']:.2f}"
            out.append(
                f"| {check['scenario']} | {check['variant']} | {check['measure']} | {check['value']:.3f} "
                f"| {limit} | {holds} |"
            )
    if breakdown:
        out += ["", "## Error path step by step (sync, MockTransport, error responses)", "", _format_table(breakdown)]
    if instructions:
        out += ["", "## Instructions per request (sync, MockTransport)", "", format_instruction_table(instructions)]
    for title, figures in extra.items():
        out += ["", f"## {title}", ""]
        for key, value in figures.items():
            shown = f"{value:.3f}" if isinstance(value, float) else value
            out.append(f"- {key}: {shown}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.memory_child:
        print(json.dumps(run_memory(args.memory_requests, args.distinct_codes)))
        return 0

    parts = set(args.only or _PARTS)
    machine = _machine()
    results = _overhead_scenarios(args, parts)
    breakdown = []
    if "breakdown" in parts:
        print("timing the error path step by step", file=sys.stderr)
        breakdown = run_breakdown(rounds=args.rounds, batch=args.batch)
    instructions = []
    if "instructions" in parts:
        print("counting instructions under valgrind", file=sys.stderr)
        if args.quick:
            instructions = count_instructions(("bare httpx", "connectly hooks"), ("ok",), low=5, high=10)
        else:
            instructions = count_instructions(COUNTED_VARIANTS, tuple(OUTCOMES), low=200, high=1200)
    extra: dict[str, Any] = {}
    if "memory" in parts:
        extra["Memory after garbage error codes"] = _memory_in_child(args)
    if "scrape" in parts:
        print("timing scrapes", file=sys.stderr)
        extra["Scrape with every series populated"] = measure_scrape(3 if args.quick else 100)
    if "unit" in parts:
        print("timing unit costs", file=sys.stderr)
        extra["Unit costs, µs, best of 7"] = measure_unit_costs(200 if args.quick else 20_000)
    machine["load_average_end"] = os.getloadavg()

    print(_report(machine, results, breakdown, instructions, extra))
    if args.json:
        document = {
            "machine": machine,
            "scenarios": [
                {"title": scenario.title, "rows": [asdict(row) for row in rows]} for scenario, rows in results
            ],
            "targets": _targets(results),
            "breakdown": [asdict(row) for row in breakdown],
            "instructions": [asdict(row) for row in instructions],
            **extra,
        }
        args.json.write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
