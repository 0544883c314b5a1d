"""Instructions per request, counted by valgrind's callgrind tool.

Timings on a shared machine drift with the load, but instruction counts do not.
Each count comes from a child process that sends N requests through one
variant's client under `valgrind --tool=callgrind`. Two runs with different N
give the instructions per request as the difference over the difference in N,
so start-up and imports cancel out. The counts are repeatable, but they are
not time: a CPU runs some instructions faster than others, and a cache miss
costs no instruction at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

# Variants counted, by their names in `_variants.VARIANTS`.
COUNTED_VARIANTS = (
    "bare httpx",
    "floor: inc() + observe() hooks",
    "connectly hooks",
    "connectly instrument()",
    "otel-httpx",
)

_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class InstructionRow:
    """Instructions per request of one variant for one outcome, sync client over MockTransport."""

    name: str
    outcome: str
    per_request: float
    ratio: float  # over bare httpx with the same outcome
    added: float  # per request, over bare httpx


def find_valgrind() -> str:
    """Return the path of valgrind, or raise with how to install it."""
    path = shutil.which("valgrind")
    if path is None:
        raise RuntimeError("valgrind not found on PATH; install it, e.g. with: apt-get install -y valgrind")
    return path


def _count(valgrind: str, variant: str, outcome: str, requests: int) -> int:
    command = [
        valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, str(Path(__file__)), variant, outcome, str(requests),
    ]
    # A fixed hash seed makes dict and set probing, and so the counts, the same every run.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
    match = _COLLECTED.search(completed.stderr)
    if completed.returncode != 0 or match is None:
        raise RuntimeError(
            f"callgrind run of {variant!r} ({outcome}, {requests} requests) failed with exit code "
            f"{completed.returncode}: {completed.stderr[-2000:]}"
        )
    return int(match.group(1))


def count_instructions(
    variants: tuple[str, ...], outcomes: tuple[str, ...], *, low: int, high: int
) -> list[InstructionRow]:
    """Count instructions per request for each variant and outcome. The first variant must be bare httpx."""
    valgrind = find_valgrind()
    jobs = [(variant, outcome, requests) for outcome in outcomes for variant in variants for requests in (low, high)]
    # Instruction counts do not depend on what else runs, so two runs at once
    # only save time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _count(valgrind, *job), jobs), strict=True))

    rows = []
    for outcome in outcomes:
        per_request = {
            variant: (counts[(variant, outcome, high)] - counts[(variant, outcome, low)]) / (high - low)
            for variant in variants
        }
        bare = per_request[variants[0]]
        for variant in variants:
            value = per_request[variant]
            rows.append(InstructionRow(variant, outcome, value, value / bare, value - bare))
    return rows


def format_instruction_table(rows: list[InstructionRow]) -> str:
    lines = [
        "| variant | outcome | instructions/request | x bare | added |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.outcome} | {row.per_request:,.0f} | {row.ratio:.3f} | {row.added:+,.0f} |"
        )
    return "\n".join(lines)


def _send(variant_name: str, outcome: str, requests: int) -> None:
    """Send `requests` requests through one variant's sync client, as each child run does."""
    from _overhead import sync_batch
    from _variants import VARIANTS, build_client, mock_target

    variant = next(variant for variant in VARIANTS if variant.name == variant_name)
    built = build_client(variant, mock_target(outcome), is_async=False)
    assert isinstance(built.client, httpx.Client)
    sync_batch(built.client, requests)


if __name__ == "__main__":
    _send(sys.argv[1], sys.argv[2], int(sys.argv[3]))
