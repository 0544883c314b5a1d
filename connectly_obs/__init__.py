"""Prometheus metrics and OpenTelemetry spans for Connectly API errors in httpx clients.

    client = httpx.Client(
        base_url="https://api.connectly.ai",
        event_hooks=connectly_obs.event_hooks(),
    )

or, to count calls that end in an exception as well:

    connectly_obs.instrument(client)
"""

from ._body import parse_error
from ._catalog import CatalogEntry
from ._error import ConnectlyError
from ._hooks import async_event_hooks, event_hooks
from ._transport import instrument, uninstrument
from ._version import __version__

__all__ = [
    "CatalogEntry",
    "ConnectlyError",
    "__version__",
    "async_event_hooks",
    "event_hooks",
    "instrument",
    "parse_error",
    "uninstrument",
]
