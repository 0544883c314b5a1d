"""Prometheus metrics and OpenTelemetry spans for Connectly API errors in httpx clients.

    client = httpx.Client(
        base_url="https://api.connectly.ai",
        event_hooks=connectly_obs.event_hooks(),
    )

or, to count calls that end in an exception as well:

    connectly_obs.instrument(client)

and serve the metrics to Prometheus with `start_metrics_server(9464)`, or mount
`make_wsgi_app()` or `make_asgi_app()` at `/metrics` in your own server.
"""

from ._body import parse_error
from ._catalog import CatalogEntry
from ._error import ConnectlyError
from ._exposition import make_asgi_app, make_wsgi_app
from ._hooks import async_event_hooks, event_hooks
from ._server import MetricsServer, start_metrics_server
from ._transport import instrument, uninstrument
from ._version import __version__

__all__ = [
    "CatalogEntry",
    "ConnectlyError",
    "MetricsServer",
    "__version__",
    "async_event_hooks",
    "event_hooks",
    "instrument",
    "make_asgi_app",
    "make_wsgi_app",
    "parse_error",
    "start_metrics_server",
    "uninstrument",
]
