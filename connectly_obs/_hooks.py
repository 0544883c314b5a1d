"""httpx event hooks, sync and async."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

import httpx
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from ._body import DEFAULT_MAX_BODY_BYTES
from ._observer import Observer
from ._options import DEFAULT_HOSTS, normalize_hosts, require_hosts
from ._streams import read_prefix, read_prefix_async

__all__ = ["async_event_hooks", "event_hooks"]

SyncHooks = dict[str, list[Callable[..., None]]]
AsyncHooks = dict[str, list[Callable[..., Awaitable[None]]]]




def event_hooks(
    *,
    registry: CollectorRegistry | None = None,
    tracer_provider: TracerProvider | None = None,
    hosts: str | Iterable[str] = DEFAULT_HOSTS,
    record_business_id: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> SyncHooks:
    """Return event hooks for an `httpx.Client` that record Connectly API calls.

    Pass the result as `event_hooks=`, or extend a client's own lists with it.
    Calls that end in an exception never reach event hooks; `instrument()`
    records those too.
    """
    # Checked before the observer registers any metric, so that a rejected
    # call leaves the registry as it was.
    host_names = normalize_hosts(hosts)
    require_hosts(host_names, "hosts is empty")
    observer = Observer(
        registry=registry,
        tracer_provider=tracer_provider,
        hosts=host_names,
        record_business_id=record_business_id,
        max_body_bytes=max_body_bytes,
    )

    hosts = observer.hosts
    start_key = observer.start_extension
    perf_counter = time.perf_counter

    def on_request(request: httpx.Request) -> None:
        try:
            if request.url.host in hosts:
                request.extensions[start_key] = perf_counter()
        except Exception:
            observer.internal_failure("request_hook")

    def on_response(response: httpx.Response) -> None:
        try:
            end = perf_counter()
            request = response.request
            call = observer.begin(response, request, request.extensions.get(start_key), end)
            if call is None:
                return
            prefix = None
            if call.content is None:
                prefix = read_prefix(response, observer.max_body_bytes)
            observer.complete(call, prefix)
        except Exception:
            observer.internal_failure("response_hook")

    return {"request": [on_request], "response": [on_response]}


def async_event_hooks(
    *,
    registry: CollectorRegistry | None = None,
    tracer_provider: TracerProvider | None = None,
    hosts: str | Iterable[str] = DEFAULT_HOSTS,
    record_business_id: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> AsyncHooks:
    """Return event hooks for an `httpx.AsyncClient` that record Connectly API calls.

    The async twin of `event_hooks()`, with the same options.
    """
    # Checked before the observer registers any metric, so that a rejected
    # call leaves the registry as it was.
    host_names = normalize_hosts(hosts)
    require_hosts(host_names, "hosts is empty")
    observer = Observer(
        registry=registry,
        tracer_provider=tracer_provider,
        hosts=host_names,
        record_business_id=record_business_id,
        max_body_bytes=max_body_bytes,
    )

    hosts = observer.hosts
    start_key = observer.start_extension
    perf_counter = time.perf_counter

    async def on_request(request: httpx.Request) -> None:
        try:
            if request.url.host in hosts:
                request.extensions[start_key] = perf_counter()
        except Exception:
            observer.internal_failure("request_hook")

    async def on_response(response: httpx.Response) -> None:
        try:
            end = perf_counter()
            request = response.request
            call = observer.begin(response, request, request.extensions.get(start_key), end)
            if call is None:
                return
            prefix = None
            if call.content is None:
                prefix = await read_prefix_async(response, observer.max_body_bytes)
            observer.complete(call, prefix)
        except Exception:
            observer.internal_failure("response_hook")

    return {"request": [on_request], "response": [on_response]}
