"""A local fake of the Connectly API, for tests and the demo."""

from __future__ import annotations

import hmac
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from ._replies import REPLY_KINDS, SCENARIOS, SPECIAL_KINDS, Reply, build_reply, error_reply

__all__ = ["REPLY_HEADER", "FakeConnectlyAPI"]

# A request header that picks the reply of that one request, whatever the
# scenario: a reply kind such as "ok", "gateway-502" or a documented code.
REPLY_HEADER = "X-Fake-Reply"

# Endpoints that Connectly documents; any other path under a business is
# accepted as well, since campaigns, templates and webhooks live there too.
_DOCUMENTED_ACTIONS = frozenset({"send/messages", "send/whatsapp_templated_messages", "create/webhooks"})

_MAX_REQUEST_BODY = 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on,
    # the body waits for the client's delayed ACK, about 40 ms a request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test and demo output clean

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_REQUEST_BODY:
            self._write(Reply(413, b"", {"Content-Type": "application/json"}))
            return
        if length:
            self.rfile.read(length)
        reply = fake.reply_for(self.command, self.path, self.headers.get("X-API-Key"), self.headers.get(REPLY_HEADER))
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        if reply.delay and self.server.fake.stopped.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            # The client gave up, e.g. after a timeout.
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog. socketserver's default of 5 makes the kernel drop
    # the connections of a burst of concurrent requests, such as an
    # asyncio.gather() of 50 calls, and each dropped one waits a second or
    # more for its retry.
    request_queue_size = 128
    # Connection threads end on their own once stopped is set; waiting for
    # idle keep-alive connections would only slow stop() down.
    block_on_close = False
    fake: FakeConnectlyAPI


class FakeConnectlyAPI:
    """A fake Connectly API on 127.0.0.1 that fails the way the real one does.

    Use it as a context manager; `base_url` is its address. Every request
    needs the `X-API-Key` it was created with, or gets 401
    ERROR_TYPE_AUTHENTICATION. Replies follow `scenario` (see `SCENARIOS`), or
    the `X-Fake-Reply` header of a request.
    """

    def __init__(
        self,
        *,
        api_key: str = "test-api-key",
        scenario: str = "healthy",
        seed: int | None = None,
        port: int = 0,
        slow_seconds: float = 3.0,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; expected one of: {', '.join(SCENARIOS)}")
        self.api_key = api_key
        self.scenario = scenario
        self.slow_seconds = slow_seconds
        self.stopped = threading.Event()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests_served = 0

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Connectly API is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeConnectlyAPI:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-connectly-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeConnectlyAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def reply_for(self, method: str, path: str, api_key: str | None, forced: str | None) -> Reply:
        """Choose the reply to one request."""
        with self._lock:
            self.requests_served += 1
            rng = random.Random(self._rng.getrandbits(64))

        if api_key is None or not hmac.compare_digest(api_key.encode(), self.api_key.encode()):
            return error_reply(
                "ERROR_TYPE_AUTHENTICATION",
                "ERROR_CODE_UNSPECIFIED",
                401,
                "Invalid authentication credentials: missing or invalid API key.",
                rng,
            )

        segments = path.split("?", 1)[0].strip("/").split("/")
        if len(segments) < 4 or segments[:2] != ["v1", "businesses"] or not segments[2]:
            return error_reply(
                "ERROR_TYPE_NOT_FOUND",
                "ERROR_CODE_UNSPECIFIED",
                404,
                "The requested resource does not exist.",
                rng,
            )

        if forced is not None:
            if forced not in REPLY_KINDS:
                message = (
                    f"unknown {REPLY_HEADER} value {forced!r}; expected one of {', '.join(SPECIAL_KINDS)}, "
                    "or a documented error code or type such as ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"
                )
                body = json.dumps({"message": message}).encode()
                return Reply(400, body, {"Content-Type": "application/json"})
            return build_reply(forced, rng, slow_seconds=self.slow_seconds)

        weights = SCENARIOS[self.scenario]
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        return build_reply(kind, rng, slow_seconds=self.slow_seconds)
