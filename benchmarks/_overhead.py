"""Per-request time of every variant, interleaved round by round.

On a shared machine the load drifts from second to second, and whichever
variant runs right after another's garbage tends to pay for it. So each round
times one batch of every variant, and the order rotates by one place every
round. Garbage is collected before each batch. Each variant is compared with
the bare client of the same round, not with a run-wide average.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
from _variants import PATH, PAYLOAD, BuiltClient, Target, Variant, build_client, check_instrumented

# Requests sent through every variant before timing, and checked afterwards.
WARMUP_REQUESTS = 20


@dataclass(frozen=True)
class Scenario:
    """One cell of the grid: sync or async client, a target, an outcome."""

    is_async: bool
    target: Target

    @property
    def title(self) -> str:
        mode = "async" if self.is_async else "sync"
        where = "MockTransport" if self.target.kind == "mock" else "loopback server"
        return f"{mode}, {where}, {self.target.outcome} responses"


@dataclass(frozen=True)
class Row:
    """A variant's figures in one scenario, in microseconds per request."""

    name: str
    median_us: float
    ratio: float  # median over rounds of (variant / bare of the same round)
    ratio_low: float  # first quartile of that ratio
    ratio_high: float  # third quartile
    added_us: float  # median over rounds of (variant - bare of the same round)


def sync_batch(client: httpx.Client, count: int) -> float:
    post = client.post
    start = time.perf_counter()
    for _ in range(count):
        post(PATH, json=PAYLOAD)
    return (time.perf_counter() - start) / count


async def _async_batch(client: httpx.AsyncClient, count: int) -> float:
    post = client.post
    start = time.perf_counter()
    for _ in range(count):
        await post(PATH, json=PAYLOAD)
    return (time.perf_counter() - start) / count


def run_scenario(scenario: Scenario, variants: Sequence[Variant], *, rounds: int, batch: int) -> list[Row]:
    """Time `variants` in one scenario and return a row per variant. The first variant must be bare httpx."""
    loop = asyncio.new_event_loop() if scenario.is_async else None

    def run_batch(built: BuiltClient, count: int) -> float:
        if loop is None:
            assert isinstance(built.client, httpx.Client)
            return sync_batch(built.client, count)
        assert isinstance(built.client, httpx.AsyncClient)
        return loop.run_until_complete(_async_batch(built.client, count))

    clients = [build_client(variant, scenario.target, is_async=scenario.is_async) for variant in variants]
    try:
        _warm_up_and_check(clients, scenario, run_batch)
        return time_interleaved(clients, run_batch, rounds=rounds, batch=batch)
    finally:
        for built in clients:
            if loop is None:
                assert isinstance(built.client, httpx.Client)
                built.client.close()
            else:
                assert isinstance(built.client, httpx.AsyncClient)
                loop.run_until_complete(built.client.aclose())
            built.shutdown_provider()
        if loop is not None:
            loop.close()


def time_interleaved(
    clients: list[BuiltClient], run_batch: Callable[[BuiltClient, int], float], *, rounds: int, batch: int
) -> list[Row]:
    """Time a batch of every client per round, rotating the order, and return a row per client."""
    for round_index in range(rounds):
        shift = round_index % len(clients)
        for built in clients[shift:] + clients[:shift]:
            gc.collect()
            built.times.append(run_batch(built, batch))
    return _rows(clients)


def _warm_up_and_check(
    clients: list[BuiltClient], scenario: Scenario, run_batch: Callable[[BuiltClient, int], float]
) -> None:
    for built in clients:
        if built.exporter is not None:
            built.exporter.reset(inspect=True)
        run_batch(built, WARMUP_REQUESTS)

    problems = []
    for built in clients:
        if built.provider is not None:
            built.provider.force_flush()
        problems += check_instrumented(built, WARMUP_REQUESTS, scenario.target.outcome)
        if built.exporter is not None:
            built.exporter.reset(inspect=False)
    if problems:
        raise RuntimeError(f"{scenario.title}: a variant does not record what it should: " + "; ".join(problems))


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    low, middle, high = statistics.quantiles(values, n=4)
    return low, middle, high


def _rows(clients: list[BuiltClient]) -> list[Row]:
    bare = clients[0].times
    rows = []
    for built in clients:
        ratios = [own / base for own, base in zip(built.times, bare, strict=True)]
        added = [(own - base) * 1e6 for own, base in zip(built.times, bare, strict=True)]
        low, _, high = _quartiles(ratios)
        rows.append(
            Row(
                name=built.variant.name,
                median_us=statistics.median(built.times) * 1e6,
                ratio=statistics.median(ratios),
                ratio_low=low,
                ratio_high=high,
                added_us=statistics.median(added),
            )
        )
    return rows
