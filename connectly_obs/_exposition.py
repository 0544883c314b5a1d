"""The metrics page, rendered for a scrape, and the WSGI and ASGI apps that serve it.

Every scrape picks its format from the scraper's Accept header. Prometheus
requests OpenMetrics first, and only OpenMetrics carries exemplars, so the
error counters' links to traces reach Prometheus. Clients that ask for the
classic text format get the same samples without exemplars.
"""

from __future__ import annotations

import copy
import gzip
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ._logging import RateLimitedLogger
from ._multiprocess import check_setup, multiprocess_registry

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ASGIApp", "MetricsPage", "choose_format", "make_asgi_app", "make_wsgi_app"]

logger = logging.getLogger(__name__)
_log = RateLimitedLogger(logger)

_ALLOWED_METHODS = "GET, HEAD"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Encoder = Callable[[Collector], bytes]


@dataclass
class Response:
    """A rendered HTTP response: status code, headers and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def status_line(self) -> str:
        reasons = {200: "OK", 405: "Method Not Allowed", 500: "Internal Server Error"}
        return f"{self.status} {reasons.get(self.status, '')}".rstrip()


def _check_options(registry: object, exemplars: object) -> None:
    if registry is not None and not isinstance(registry, CollectorRegistry):
        raise TypeError(
            f"registry must be a prometheus_client.CollectorRegistry, not {type(registry).__name__}. "
            "Pass the registry that the hooks record into, or leave registry out to serve "
            "prometheus_client.REGISTRY"
        )
    if exemplars is not None and not isinstance(exemplars, bool):
        raise TypeError(f"exemplars must be True, False or None, not {exemplars!r}")


def _ranked_media_ranges(accept: str) -> list[str]:
    """Return the media ranges of an Accept header by q value, highest first, without q=0."""
    ranked: list[tuple[float, int, str]] = []
    for index, media_range in enumerate(accept.split(",")):
        media_range = media_range.strip()
        if not media_range:
            continue
        quality = 1.0
        for parameter in media_range.split(";")[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0  # not a number: treated as not acceptable
        if quality > 0:
            ranked.append((-quality, index, media_range))
    ranked.sort()
    return [media_range for _, _, media_range in ranked]


def choose_format(accept: str | None) -> tuple[Encoder, str]:
    """Return the encoder and Content-Type for the most preferred format we can write.

    prometheus_client's `choose_encoder` takes ranges in the order listed and
    ignores q values, and it skips `text/plain;version=0.0.4` in the hope of
    finding OpenMetrics later. Here each range is tried on its own, by q value.
    """
    for media_range in _ranked_media_ranges(accept or ""):
        media_type = media_range.split(";")[0].strip().lower()
        if media_type == "application/openmetrics-text":
            encoder, content_type = choose_encoder(media_range)
            if content_type.startswith("application/openmetrics-text"):
                return encoder, content_type
            # An OpenMetrics version that prometheus_client cannot write, such as 0.0.1.
        elif media_type in ("text/plain", "text/*", "*/*"):
            return choose_encoder(media_range)
    return choose_encoder("")


class _WithoutExemplars:
    """A collector that yields another collector's metrics with their exemplars removed."""

    def __init__(self, source: Collector) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for metric in self._source.collect():
            stripped = copy.copy(metric)
            stripped.samples = [sample._replace(exemplar=None) for sample in metric.samples]
            yield stripped


class MetricsPage:
    """Renders the metrics of one registry, or of the multi-process directory, per scrape."""

    def __init__(self, registry: CollectorRegistry | None, exemplars: bool | None) -> None:
        _check_options(registry, exemplars)
        self._registry = registry
        self._exemplars = exemplars is not False
        self._multiprocess_dir = check_setup(exemplars=exemplars)

    def _source(self) -> CollectorRegistry:
        if self._multiprocess_dir is not None:
            # NOTE: in multi-process mode `registry` is not read. Values come from
            # the directory's files, so collectors without files are not served.
            return multiprocess_registry(self._multiprocess_dir)
        return REGISTRY if self._registry is None else self._registry

    def render(self, accept: str | None, accept_encoding: str | None, query: str) -> Response:
        """Render the page for one scrape, or a 500 response whose body gives the reason."""
        encoder, content_type = choose_format(accept)
        names = parse_qs(query).get("name[]")
        try:
            registry = self._source()
            source: Collector = registry.restricted_registry(names) if names else registry
            if not self._exemplars:
                source = _WithoutExemplars(source)
            body = encoder(source)
        except (OSError, ValueError) as exc:
            # A wiped or unreadable directory, or a collector that failed.
            _log.warning(
                f"render:{self._multiprocess_dir}",
                "connectly-obs could not collect metrics for a scrape (multi-process directory %r): %s",
                self._multiprocess_dir,
                exc,
                exc_info=True,
            )
            message = f"connectly-obs could not collect metrics: {exc}\n"
            return Response(500, [("Content-Type", "text/plain; charset=utf-8")], message.encode())

        headers = [("Content-Type", content_type)]
        if _accepts_gzip(accept_encoding):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        return Response(200, headers, body)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    for coding in (accept_encoding or "").split(","):
        name, _, parameters = coding.partition(";")
        if name.strip().lower() == "gzip":
            return parameters.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _method_not_allowed(method: str) -> Response:
    body = f"{method} is not supported here; scrape the metrics with GET\n".encode()
    headers = [("Allow", _ALLOWED_METHODS), ("Content-Type", "text/plain; charset=utf-8")]
    return Response(405, headers, body)


def make_wsgi_app(
    *, registry: CollectorRegistry | None = None, exemplars: bool | None = None
) -> WSGIApplication:
    """Build a WSGI app that serves the metrics, for mounting at `/metrics` in your own server.

    With PROMETHEUS_MULTIPROC_DIR set it serves the merged values of all
    processes, from a fresh registry per scrape. Otherwise it serves
    `registry`, by default prometheus_client's default registry. Exemplars
    are served to OpenMetrics scrapers unless `exemplars=False`, and in
    multi-process mode there are none, since prometheus_client keeps none
    there. Setup mistakes, `exemplars=True` in multi-process mode included,
    are logged as warnings when the app is built.
    """
    page = MetricsPage(registry, exemplars)

    def metrics_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method in ("GET", "HEAD"):
            response = page.render(
                environ.get("HTTP_ACCEPT"),
                environ.get("HTTP_ACCEPT_ENCODING"),
                environ.get("QUERY_STRING", ""),
            )
        else:
            response = _method_not_allowed(method)
        start_response(
            response.status_line,
            [*response.headers, ("Content-Length", str(len(response.body)))],
        )
        return [b"" if method == "HEAD" else response.body]

    return metrics_app


class ASGIApp:
    """An ASGI app that serves the metrics; see `make_asgi_app`."""

    def __init__(self, page: MetricsPage) -> None:
        self._page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _run_lifespan(receive, send)
            return
        if kind != "http":
            # A WebSocket connection closed before it is accepted gets HTTP 403.
            await send({"type": "websocket.close", "code": 1008})
            return

        method = scope.get("method", "GET")
        if method in ("GET", "HEAD"):
            headers = _request_headers(scope)
            # NOTE: rendering blocks the event loop while it reads the metrics,
            # which in multi-process mode means reading every process's file.
            response = self._page.render(
                headers.get("accept"),
                headers.get("accept-encoding"),
                bytes(scope.get("query_string", b"")).decode("latin-1"),
            )
        else:
            response = _method_not_allowed(method)

        raw_headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
        raw_headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else response.body})


def _request_headers(scope: Scope) -> dict[str, str]:
    """Join repeated request headers with commas, as HTTP allows for list-valued headers."""
    joined: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = bytes(raw_name).decode("latin-1").lower()
        value = bytes(raw_value).decode("latin-1")
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


async def _run_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge lifespan startup and shutdown, for when the app is served on its own."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def make_asgi_app(*, registry: CollectorRegistry | None = None, exemplars: bool | None = None) -> ASGIApp:
    """Build an ASGI app that serves the metrics, for mounting at `/metrics` in your own server.

    Behaves as `make_wsgi_app` does. The app is a class instance rather than a
    function, so Starlette and FastAPI route to it as a plain ASGI app:
    `app.add_route("/metrics", make_asgi_app())` serves `/metrics` with no
    redirect to `/metrics/`.
    """
    return ASGIApp(MetricsPage(registry, exemplars))
