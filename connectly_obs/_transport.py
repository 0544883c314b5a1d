"""`instrument()`: transports that record every Connectly call, including failed ones.

Event hooks never see a call that ends in an exception, nor a response that
an earlier hook raised on. A wrapper around the client's transports records both.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import TypeVar

import httpx
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from ._body import DEFAULT_MAX_BODY_BYTES
from ._observer import Observer
from ._options import DEFAULT_HOSTS, normalize_hosts, require_hosts
from ._streams import read_prefix, read_prefix_async

__all__ = ["instrument", "uninstrument"]

ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)

# Request extension key set while one of our transports handles the request,
# so that a transport of ours wrapped inside another one passes it through
# uncounted. A dict entry costs less than setting and resetting a ContextVar.
_HANDLING = "connectly_obs.handling"

# Exceptions that stop the program rather than end a call.
_NOT_CALL_FAILURES = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _record_interrupted_read(
    observer: Observer, request: httpx.Request, exc: BaseException, start: float, entry_span: trace.Span
) -> None:
    # read_prefix keeps an Exception for the caller's own read, so only a
    # BaseException such as asyncio.CancelledError gets here. The caller then
    # gets no response, so the call is counted as one that ended without one.
    if not isinstance(exc, _NOT_CALL_FAILURES):
        observer.record_exception(request, exc, start, entry_span)


class InstrumentedTransport(httpx.BaseTransport):
    """A transport that records Connectly calls made through the transport it wraps."""

    def __init__(self, transport: httpx.BaseTransport, observer: Observer) -> None:
        self.transport = transport
        self._observer = observer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        observer = self._observer
        extensions = request.extensions
        if _HANDLING in extensions or request.url.host not in observer.hosts:
            return self.transport.handle_request(request)

        extensions[_HANDLING] = True
        start = time.perf_counter()
        try:
            response = self.transport.handle_request(request)
        except BaseException as exc:
            if not isinstance(exc, _NOT_CALL_FAILURES):
                observer.record_exception(request, exc, start, trace.get_current_span())
            raise
        finally:
            extensions.pop(_HANDLING, None)
        end = time.perf_counter()

        try:
            call = observer.begin(response, request, start, end)
            if call is not None:
                prefix = None
                if call.content is None:
                    try:
                        prefix = read_prefix(response, observer.max_body_bytes)
                    except BaseException as exc:
                        _record_interrupted_read(observer, request, exc, start, trace.get_current_span())
                        raise
                observer.complete(call, prefix)
        except Exception:
            observer.internal_failure("transport")
        return response

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> InstrumentedTransport:
        self.transport.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.transport.__exit__(exc_type, exc_value, traceback)


class AsyncInstrumentedTransport(httpx.AsyncBaseTransport):
    """The async twin of `InstrumentedTransport`."""

    def __init__(self, transport: httpx.AsyncBaseTransport, observer: Observer) -> None:
        self.transport = transport
        self._observer = observer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        observer = self._observer
        extensions = request.extensions
        if _HANDLING in extensions or request.url.host not in observer.hosts:
            return await self.transport.handle_async_request(request)

        extensions[_HANDLING] = True
        start = time.perf_counter()
        try:
            response = await self.transport.handle_async_request(request)
        except BaseException as exc:
            # asyncio.CancelledError lands here too: a cancelled call is counted.
            if not isinstance(exc, _NOT_CALL_FAILURES):
                observer.record_exception(request, exc, start, trace.get_current_span())
            raise
        finally:
            extensions.pop(_HANDLING, None)
        end = time.perf_counter()

        try:
            call = observer.begin(response, request, start, end)
            if call is not None:
                prefix = None
                if call.content is None:
                    try:
                        prefix = await read_prefix_async(response, observer.max_body_bytes)
                    except BaseException as exc:
                        _record_interrupted_read(observer, request, exc, start, trace.get_current_span())
                        raise
                observer.complete(call, prefix)
        except Exception:
            observer.internal_failure("transport")
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> AsyncInstrumentedTransport:
        await self.transport.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.transport.__aexit__(exc_type, exc_value, traceback)


def instrument(
    client: ClientT,
    *,
    registry: CollectorRegistry | None = None,
    tracer_provider: TracerProvider | None = None,
    hosts: str | Iterable[str] = DEFAULT_HOSTS,
    record_business_id: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ClientT:
    """Record the Connectly calls of an existing `httpx.Client` or `httpx.AsyncClient`.

    Wraps the client's transports, including mounted ones, so that calls which
    end in an exception (timeouts, connection errors, cancellation) are
    counted as well. The host of the client's `base_url` is added to `hosts`.
    Calling it again on the same client changes nothing. Returns the client.
    """
    if not isinstance(client, (httpx.Client, httpx.AsyncClient)):
        raise TypeError(
            f"instrument() takes an httpx.Client or httpx.AsyncClient, not {type(client).__name__}"
        )

    # Checked before the observer registers any metric, so that a rejected
    # call leaves the registry as it was.
    host_names = normalize_hosts(hosts)
    if client.base_url.host:
        host_names |= normalize_hosts([client.base_url.host])
    require_hosts(host_names, "hosts is empty and the client has no base_url")
    observer = Observer(
        registry=registry,
        tracer_provider=tracer_provider,
        hosts=host_names,
        record_business_id=record_business_id,
        max_body_bytes=max_body_bytes,
    )

    # NOTE: httpx has no public API to replace a client's transports, so this
    # uses the same private attributes as opentelemetry-instrumentation-httpx.
    if isinstance(client, httpx.Client):
        _wrap_sync(client, observer)
    else:
        _wrap_async(client, observer)
    return client


def _check_same_registry(transport: object, observer: Observer) -> None:
    # A second instrument() call changes nothing, so one that requests other
    # metrics would be silently ignored: raise instead.
    previous = getattr(transport, "_observer", None)
    if isinstance(previous, Observer) and previous.metrics is not observer.metrics:
        raise ValueError(
            "this client is already instrumented with another registry or record_business_id; "
            "call connectly_obs.uninstrument(client) first to change them"
        )


def _wrap_sync(client: httpx.Client, observer: Observer) -> None:
    _check_same_registry(client._transport, observer)
    if not isinstance(client._transport, InstrumentedTransport):
        client._transport = InstrumentedTransport(client._transport, observer)
    for pattern, transport in list(client._mounts.items()):
        if transport is not None and not isinstance(transport, InstrumentedTransport):
            client._mounts[pattern] = InstrumentedTransport(transport, observer)


def _wrap_async(client: httpx.AsyncClient, observer: Observer) -> None:
    _check_same_registry(client._transport, observer)
    if not isinstance(client._transport, AsyncInstrumentedTransport):
        client._transport = AsyncInstrumentedTransport(client._transport, observer)
    for pattern, transport in list(client._mounts.items()):
        if transport is not None and not isinstance(transport, AsyncInstrumentedTransport):
            client._mounts[pattern] = AsyncInstrumentedTransport(transport, observer)


def uninstrument(client: ClientT) -> ClientT:
    """Undo `instrument()` on a client. Returns the client."""
    if isinstance(client, httpx.Client):
        if isinstance(client._transport, InstrumentedTransport):
            client._transport = client._transport.transport
        for pattern, mounted in list(client._mounts.items()):
            if isinstance(mounted, InstrumentedTransport):
                client._mounts[pattern] = mounted.transport
    elif isinstance(client, httpx.AsyncClient):
        if isinstance(client._transport, AsyncInstrumentedTransport):
            client._transport = client._transport.transport
        for pattern, async_mounted in list(client._mounts.items()):
            if isinstance(async_mounted, AsyncInstrumentedTransport):
                client._mounts[pattern] = async_mounted.transport
    return client
