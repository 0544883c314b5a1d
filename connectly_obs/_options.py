"""Checks of the options that the hooks and `instrument()` take.

Each mistake raises at once, naming the value and the fix. A URL given as a
host, for example, would otherwise make a client that silently records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from ._body import DEFAULT_MAX_BODY_BYTES

__all__ = ["DEFAULT_HOSTS", "check_options", "normalize_hosts", "require_hosts"]

DEFAULT_HOSTS = ("api.connectly.ai",)

# Largest error body bound a user may set. Above this the hook would hold
# too much of a bad response in memory.
_MAX_BODY_LIMIT = 16 * 1024 * 1024


def normalize_hosts(hosts: str | Iterable[str]) -> frozenset[str]:
    if isinstance(hosts, str):
        hosts = (hosts,)
    elif isinstance(hosts, bytes) or not isinstance(hosts, Iterable):
        raise TypeError(
            f"hosts must be a host name or an iterable of host names, not {type(hosts).__name__}; "
            "for example hosts=['api.connectly.ai']"
        )
    result = set()
    for host in hosts:
        if not isinstance(host, str):
            raise TypeError(
                f"hosts entries must be strings, not {type(host).__name__}: {host!r}; "
                "for example hosts=['api.connectly.ai']"
            )
        name = host.strip().lower()
        if name.startswith("["):
            # An IPv6 address in URL form, "[::1]", possibly with a port.
            name, bracket, port = name[1:].partition("]")
            if not bracket:
                raise ValueError(f"invalid host {host!r}: the closing ']' is missing. Pass an address such as '::1'")
            if port:
                raise ValueError(
                    f"invalid host {host!r}: pass the address without a port, such as {name!r}. "
                    "Requests to every port of that host are counted"
                )
        if "*" in name:
            raise ValueError(
                f"invalid host {host!r}: wildcards are not supported; list each host name, "
                "such as ['api.connectly.ai']"
            )
        if not name or "/" in name or any(char.isspace() for char in name):
            raise ValueError(
                f"invalid host {host!r}: pass a host name such as 'api.connectly.ai', not a URL"
            )
        if name.count(":") == 1:
            raise ValueError(
                f"invalid host {host!r}: pass the host name without a port, such as "
                f"{name.partition(':')[0]!r}; requests to every port of that host are counted"
            )
        result.add(name)
    return frozenset(result)


def require_hosts(hosts: frozenset[str], problem: str) -> None:
    """Raise when an empty host list would make the hooks or transports record nothing."""
    if not hosts:
        raise ValueError(
            f"{problem}, so no call would be recorded. Pass at least one host name, "
            "such as hosts=['api.connectly.ai']"
        )


def check_options(
    registry: object, tracer_provider: object, record_business_id: object, max_body_bytes: object
) -> None:
    if registry is not None and not isinstance(registry, CollectorRegistry):
        raise TypeError(
            f"registry must be a prometheus_client.CollectorRegistry, not {type(registry).__name__}. "
            "Pass one such as CollectorRegistry(), or leave registry out to use prometheus_client.REGISTRY"
        )
    if tracer_provider is not None and not callable(getattr(tracer_provider, "get_tracer", None)):
        raise TypeError(
            "tracer_provider must be an OpenTelemetry TracerProvider, "
            f"not {type(tracer_provider).__name__}. Pass one such as the SDK's "
            "opentelemetry.sdk.trace.TracerProvider(), or leave it out to use the global provider"
        )
    if not isinstance(record_business_id, bool):
        raise TypeError(f"record_business_id must be True or False, not {record_business_id!r}")
    if not isinstance(max_body_bytes, int) or isinstance(max_body_bytes, bool):
        raise TypeError(
            f"max_body_bytes must be a whole number of bytes, not {type(max_body_bytes).__name__}: "
            f"{max_body_bytes!r}. The default is {DEFAULT_MAX_BODY_BYTES}"
        )
    if not 0 < max_body_bytes <= _MAX_BODY_LIMIT:
        raise ValueError(
            f"invalid max_body_bytes {max_body_bytes!r}: pass a whole number of bytes "
            f"from 1 to {_MAX_BODY_LIMIT}; the default is {DEFAULT_MAX_BODY_BYTES}"
        )
