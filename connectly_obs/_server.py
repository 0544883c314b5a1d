"""A standalone metrics server on its own port, in a background thread."""

from __future__ import annotations

import errno
import logging
import socket
import threading
from socketserver import TCPServer, ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry

from ._exposition import make_wsgi_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["DEFAULT_ADDRESS", "MetricsServer", "start_metrics_server"]

logger = logging.getLogger(__name__)

# Loopback only: metrics name routes and error codes, which are not for
# everyone who can reach the host. prometheus_client's own server listens on
# all interfaces by default.
DEFAULT_ADDRESS = "127.0.0.1"

_ADDRESS_HINT = (
    "pass an IP address or host name of this machine, such as '127.0.0.1' "
    "(the default, for a scraper on the same machine) or '0.0.0.0' "
    "(all interfaces, as a scraper in another container or pod needs)"
)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's fully qualified name with a
        # reverse DNS query, which can stall startup. The numeric address is enough.
        TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])
        self.setup_environ()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per scrape would flood the application's stderr


def _validate_port(port: object) -> int:
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(
            f"invalid port {port!r}: pass a whole number from 1 to 65535, "
            "or 0 to let the operating system pick a free port (read it from .port)"
        )
    return port


def _validate_address(addr: object) -> str:
    if not isinstance(addr, str) or not addr.strip():
        raise ValueError(f"invalid address {addr!r}: {_ADDRESS_HINT}")
    if "/" in addr:
        raise ValueError(f"invalid address {addr!r}: pass a bare address, not a URL; {_ADDRESS_HINT}")
    if any(char.isspace() for char in addr):
        raise ValueError(f"invalid address {addr!r}: remove the whitespace; {_ADDRESS_HINT}")
    if addr.count(":") == 1 or addr.startswith("["):
        raise ValueError(
            f"invalid address {addr!r}: pass the port as the port argument and the address "
            "without brackets or port, such as '127.0.0.1' or '::1'"
        )
    return addr


def _bind_error(exc: OSError, addr: str, port: int) -> OSError:
    where = f"{addr} port {port}"
    if exc.errno == errno.EADDRINUSE:
        fix = "stop the process that uses it, or pick another port"
        problem = "the port is already in use"
    elif exc.errno == errno.EADDRNOTAVAIL:
        fix = _ADDRESS_HINT
        problem = "the address is not one of this machine's"
    elif exc.errno == errno.EACCES:
        fix = "pick a port of 1024 or above, or grant the process the right to bind low ports"
        problem = "permission denied"
    else:
        fix = "check the address and port"
        problem = exc.strerror or str(exc)
    return OSError(exc.errno, f"cannot serve metrics on {where}: {problem}; {fix}")


class MetricsServer:
    """A running metrics server, stopped by `close()` or at the end of a `with` block."""

    def __init__(self, server: _ThreadingServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on: the one requested, or the one picked for port 0."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The metrics URL, for example `http://127.0.0.1:9464/metrics`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port. Calling it again does nothing."""
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        logger.info("Stopped the metrics server at %s", self.url)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _listen(addr: str, port: int, app: WSGIApplication) -> _ThreadingServer:
    try:
        infos = socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ValueError(f"invalid address {addr!r}: {exc.strerror}; {_ADDRESS_HINT}") from exc
    family, _, _, _, sockaddr = infos[0]

    class _Server(_ThreadingServer):
        address_family = family

    try:
        server = _Server((str(sockaddr[0]), port), _QuietHandler)
    except OSError as exc:
        raise _bind_error(exc, addr, port) from exc
    server.set_app(app)
    return server


def start_metrics_server(
    port: int,
    addr: str = DEFAULT_ADDRESS,
    *,
    registry: CollectorRegistry | None = None,
    exemplars: bool | None = None,
) -> MetricsServer:
    """Serve the metrics on `addr`:`port` from a background thread, and return the server.

    Serves the same page as `make_wsgi_app`, at any path. The default address
    is loopback only; pass `addr="0.0.0.0"` for a scraper on another host,
    container or pod. `port=0` picks a free port, read it from `.port`.

    Raises ValueError for an invalid port or address, and OSError, with the
    system's error number, when the port cannot be bound.
    """
    port = _validate_port(port)
    addr = _validate_address(addr)
    app = make_wsgi_app(registry=registry, exemplars=exemplars)
    server = _listen(addr, port, app)
    # The poll interval bounds how long close() waits for the serving loop to stop.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.2},
        name="connectly-obs-metrics-server",
        daemon=True,
    )
    thread.start()
    metrics_server = MetricsServer(server, thread)
    logger.info("Serving metrics at %s", metrics_server.url)
    return metrics_server
