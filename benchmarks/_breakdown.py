"""A breakdown of the time an error response costs, one step of the event hook at a time.

Each variant is an event hook that does one more step of what connectly_obs
does with a Connectly error over MockTransport, timed with the same
interleaved rounds as the main table. The steps are cumulative, so the
difference between two rows is the cost of one step in a real request,
which on a busy machine is often twice its cost in a tight loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from _overhead import Row, sync_batch, time_interleaved
from _variants import BuiltClient, Variant, mock_target
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._body import parse_body
from connectly_obs._observer import Observer

ResponseHook = Callable[[httpx.Response], None]


def _ignore(message: httpx.Request | httpx.Response) -> None:
    pass


def _load_json(response: httpx.Response) -> None:
    json.loads(response.content)


def _parse(response: httpx.Response) -> None:
    parse_body(response.content, response.headers, response.status_code, encoded=False)


def _parse_and_count(observer: Observer, *, exemplar: bool) -> ResponseHook:
    metrics = observer.metrics

    def hook(response: httpx.Response) -> None:
        result = parse_body(response.content, response.headers, response.status_code, encoded=False)
        assert result.error is not None
        error = result.error
        series = metrics.series("POST", "/v1/businesses/x/send/messages", 429)
        series.count(0.001)
        errors = metrics.error_series(series, error.type, error.code, None).errors
        if exemplar:
            errors.inc(1, exemplar={"cnt_trace_id": str(error.trace_id)})
        else:
            errors.inc()

    return hook


def _steps() -> list[tuple[str, dict[str, list[Any]]]]:
    def hooks(response_hook: ResponseHook) -> dict[str, list[Any]]:
        return {"request": [_ignore], "response": [response_hook]}

    counting = Observer(registry=CollectorRegistry())
    with_exemplar = Observer(registry=CollectorRegistry())
    return [
        ("bare httpx", {}),
        ("hooks that do nothing", hooks(_ignore)),
        ("+ json.loads() of the body", hooks(_load_json)),
        ("+ the rest of parse_body()", hooks(_parse)),
        ("+ duration and errors metrics", hooks(_parse_and_count(counting, exemplar=False))),
        ("+ exemplar on the errors counter", hooks(_parse_and_count(with_exemplar, exemplar=True))),
        ("connectly hooks (all of it)", dict(connectly_obs.event_hooks(registry=CollectorRegistry()))),
    ]


def run_breakdown(*, rounds: int, batch: int) -> list[Row]:
    """Time each cumulative step on sync clients over MockTransport with error responses."""
    target = mock_target("error")
    clients = []
    for name, event_hooks in _steps():
        handler = target.new_handler()
        assert handler is not None
        client = httpx.Client(base_url=target.base_url, transport=httpx.MockTransport(handler), event_hooks=event_hooks)
        clients.append(BuiltClient(Variant(name), client, None, None, None))

    def run_batch(built: BuiltClient, count: int) -> float:
        assert isinstance(built.client, httpx.Client)
        return sync_batch(built.client, count)

    try:
        for built in clients:
            run_batch(built, 20)
        return time_interleaved(clients, run_batch, rounds=rounds, batch=batch)
    finally:
        for built in clients:
            assert isinstance(built.client, httpx.Client)
            built.client.close()
