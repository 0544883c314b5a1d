"""Scripted replies served two ways: by httpx.MockTransport and by a loopback HTTP server.

A `Reply` is the raw status, headers and body chunks of one response. The same
reply can be sent through a `MockTransport` whose stream yields the chunks
unread, or written byte for byte by `LoopbackServer`, a plain HTTP/1.1 server
on 127.0.0.1. A test picks the reply of each request with the `X-Case` header.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import HOOK_ERRORS_TOTAL
from tests.core.helpers import total

CASE_HEADER = "X-Case"
MOCK_BASE_URL = "https://api.connectly.ai"

# How long a loopback request or server thread may take. No test asserts on
# it; it only stops a hung test.
TIMEOUT_SECONDS = 30.0

MODES = ("event_hooks", "instrument")
TRANSPORTS = ("mock", "loopback")


@dataclass(frozen=True)
class Reply:
    """The raw bytes of one response: status, headers in order, and body chunks.

    With `chunked` the loopback server sends Transfer-Encoding: chunked.
    Otherwise it adds Content-Length, unless `headers` already has one.
    """

    status: int
    headers: Sequence[tuple[str, str]] = ()
    chunks: Sequence[bytes] = ()
    chunked: bool = False

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def reply(status: int, body: bytes = b"", content_type: str | None = "application/json", **options: Any) -> Reply:
    headers = list(options.pop("headers", ()))
    if content_type is not None:
        headers.insert(0, ("Content-Type", content_type))
    chunk_size = options.pop("chunk_size", 64 * 1024)
    chunks = [body[index : index + chunk_size] for index in range(0, len(body), chunk_size)]
    return Reply(status, headers, chunks, **options)


class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A raw body stream for MockTransport that counts how many chunks were pulled."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = list(chunks)
        self.pulled = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.pulled += 1
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            self.pulled += 1
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class Script:
    """Replies by case name, shared by the mock handler and the loopback server."""

    def __init__(self, replies: dict[str, Reply] | None = None) -> None:
        self.replies: dict[str, Reply] = dict(replies or {})
        self.streams: list[ChunkStream] = []
        self._lock = threading.Lock()

    def reply_for(self, request_case: str | None, target: str = "") -> Reply:
        """Return the reply for a case; a `case=` query parameter in `target` takes precedence."""
        query = httpx.URL(target).params.get("case")
        if query is not None:
            request_case = query
        if request_case is None or request_case not in self.replies:
            return reply(404, b'{"message": "no such case"}')
        return self.replies[request_case]

    def mock_response(self, request: httpx.Request) -> httpx.Response:
        scripted = self.reply_for(request.headers.get(CASE_HEADER), str(request.url))
        stream = ChunkStream(scripted.chunks)
        with self._lock:
            self.streams.append(stream)
        headers = list(scripted.headers)
        if not scripted.chunked and not any(name.lower() == "content-length" for name, _ in headers):
            headers.append(("Content-Length", str(len(scripted.body))))
        return httpx.Response(scripted.status, headers=headers, stream=stream)

    def mock_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.mock_response)


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that writes scripted replies byte for byte."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(1.0)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="loopback-accept", daemon=True)
        self.port = int(self._socket.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        # A connection of our own wakes the acceptor from accept() at once.
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
            pass
        self._acceptor.join(TIMEOUT_SECONDS)
        for thread in self._threads:
            thread.join(TIMEOUT_SECONDS)
        self._socket.close()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(TIMEOUT_SECONDS)
        with conn, contextlib.suppress(OSError), conn.makefile("rb") as reader:
            while not self._stopped.is_set():
                request = self._read_request(reader)
                if request is None:
                    return
                case, target = request
                self._write(conn, self.script.reply_for(case, target))

    @staticmethod
    def _read_request(reader: Any) -> tuple[str | None, str] | None:
        """Read one request and return its X-Case value and target, or None at the end of the connection."""
        line = reader.readline(65536)
        if not line:
            return None
        parts = line.decode("latin-1").split()
        target = parts[1] if len(parts) > 1 else "/"
        case = None
        length = 0
        while True:
            header = reader.readline(65536)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == CASE_HEADER.lower():
                case = value.strip()
            elif name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            reader.read(length)
        return case, target

    @staticmethod
    def _write(conn: socket.socket, scripted: Reply) -> None:
        head = [f"HTTP/1.1 {scripted.status} Scripted".encode()]
        names = set()
        for name, value in scripted.headers:
            names.add(name.lower())
            head.append(f"{name}: {value}".encode("latin-1"))
        if scripted.chunked:
            head.append(b"Transfer-Encoding: chunked")
        elif "content-length" not in names:
            head.append(f"Content-Length: {len(scripted.body)}".encode())
        conn.sendall(b"\r\n".join(head) + b"\r\n\r\n")
        for chunk in scripted.chunks:
            if scripted.chunked:
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            else:
                conn.sendall(chunk)
        if scripted.chunked:
            conn.sendall(b"0\r\n\r\n")


def hooks_for(
    mode: str, registry: CollectorRegistry, *, is_async: bool, **options: Any
) -> dict[str, list[Callable[..., Any]]]:
    if mode != "event_hooks":
        return {}
    hosts = ["api.connectly.ai", "127.0.0.1"]
    if is_async:
        return connectly_obs.async_event_hooks(registry=registry, hosts=hosts, **options)  # type: ignore[return-value]
    return connectly_obs.event_hooks(registry=registry, hosts=hosts, **options)


def make_client(
    mode: str, transport: str, script: Script, registry: CollectorRegistry, *, base_url: str | None = None,
    hook_options: dict[str, Any] | None = None, **client_options: Any,
) -> httpx.Client:
    """Build an instrumented httpx.Client for `mode` (event_hooks or instrument) over `transport`."""
    options = dict(hook_options or {})
    if transport == "mock":
        client_options["transport"] = script.mock_transport()
    client = httpx.Client(
        base_url=base_url or MOCK_BASE_URL,
        event_hooks=hooks_for(mode, registry, is_async=False, **options),
        timeout=TIMEOUT_SECONDS,
        **client_options,
    )
    if mode == "instrument":
        connectly_obs.instrument(client, registry=registry, **options)
    return client


def make_async_client(
    mode: str, transport: str, script: Script, registry: CollectorRegistry, *, base_url: str | None = None,
    hook_options: dict[str, Any] | None = None, **client_options: Any,
) -> httpx.AsyncClient:
    """The async twin of `make_client`."""
    options = dict(hook_options or {})
    if transport == "mock":
        client_options["transport"] = script.mock_transport()
    client = httpx.AsyncClient(
        base_url=base_url or MOCK_BASE_URL,
        event_hooks=hooks_for(mode, registry, is_async=True, **options),
        timeout=TIMEOUT_SECONDS,
        **client_options,
    )
    if mode == "instrument":
        connectly_obs.instrument(client, registry=registry, **options)
    return client


@contextlib.contextmanager
def serving(transport: str, script: Script) -> Iterator[str]:
    """Yield the base URL for `transport`: a started loopback server, or the mock's URL."""
    if transport == "mock":
        yield MOCK_BASE_URL
        return
    with LoopbackServer(script) as server:
        yield server.base_url


def hook_errors(registry: CollectorRegistry) -> float:
    return total(registry, HOOK_ERRORS_TOTAL)


_case_numbers = itertools.count()


def case_name(prefix: str) -> str:
    return f"{prefix}-{next(_case_numbers)}"


def scrape(registry: CollectorRegistry) -> str:
    """Render the registry in both exposition formats, parse both back, and return the text format."""
    from prometheus_client import generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import text_string_to_metric_families

    text = generate_latest(registry).decode()
    families = list(text_string_to_metric_families(text))
    assert families, "the text exposition has no metric families"
    openmetrics = generate_openmetrics(registry).decode()
    assert list(parse_openmetrics(openmetrics)), "the OpenMetrics exposition has no metric families"
    return text
