"""Users' mistakes in options get clear errors; the public surface is pinned."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry

import connectly_obs
from tests.core.helpers import requests


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"hosts": "https://api.connectly.ai"}, ValueError, "not a URL"),
        ({"hosts": ["api.connectly.ai:443"]}, ValueError, "without a port"),
        ({"hosts": ["[::1]:8080"]}, ValueError, "without a port, such as '::1'"),
        ({"hosts": ["[::1"]}, ValueError, "closing ']' is missing"),
        ({"hosts": []}, ValueError, "hosts is empty.*no call would be recorded"),
        ({"hosts": [""]}, ValueError, "invalid host"),
        ({"hosts": 5}, TypeError, "hosts must be"),
        ({"hosts": [b"api.connectly.ai"]}, TypeError, "must be strings"),
        ({"hosts": [None]}, TypeError, r"not NoneType: None; for example hosts=\['api.connectly.ai'\]"),
        ({"registry": "default"}, TypeError, "CollectorRegistry"),
        ({"registry": CollectorRegistry}, TypeError, r"not type\. Pass one such as CollectorRegistry\(\)"),
        ({"tracer_provider": object()}, TypeError, r"TracerProvider, not object\. Pass one"),
        ({"record_business_id": "yes"}, TypeError, "True or False"),
        ({"max_body_bytes": 0}, ValueError, "max_body_bytes 0"),
        ({"max_body_bytes": 10**9}, ValueError, "from 1 to"),
        ({"max_body_bytes": "65536"}, TypeError, "whole number of bytes, not str: '65536'"),
        ({"max_body_bytes": True}, TypeError, "whole number of bytes, not bool"),
    ],
)
def test_bad_options_name_value_and_fix(options: dict[str, object], error: type[Exception], message: str) -> None:
    for factory in (connectly_obs.event_hooks, connectly_obs.async_event_hooks):
        with pytest.raises(error, match=message):
            factory(**options)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        connectly_obs.instrument(httpx.Client(), **options)  # type: ignore[arg-type]


def test_bracketed_ipv6_host_counts() -> None:
    registry = CollectorRegistry()
    hooks = connectly_obs.event_hooks(registry=registry, hosts=["[::1]"])
    transport = httpx.MockTransport(lambda request: httpx.Response(200))

    with httpx.Client(transport=transport, event_hooks=hooks) as client:
        client.get("http://[::1]:8080/v1/ping")

    assert requests(registry, "200", method="GET", route="/v1/ping") == 1.0


def test_instrument_empty_hosts_uses_base_url() -> None:
    registry = CollectorRegistry()
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    client = httpx.Client(base_url="https://api.connectly.ai", transport=transport)

    with connectly_obs.instrument(client, hosts=[], registry=registry):
        client.get("/v1/ping")

    assert requests(registry, "200", method="GET", route="/v1/ping") == 1.0


def test_instrument_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match=r"httpx\.Client or httpx\.AsyncClient, not str"):
        connectly_obs.instrument("client")  # type: ignore[type-var]


def test_conflicting_business_id_option() -> None:
    registry = CollectorRegistry()
    connectly_obs.event_hooks(registry=registry)
    with pytest.raises(ValueError, match="record_business_id=True conflicts"):
        connectly_obs.event_hooks(registry=registry, record_business_id=True)


def test_business_id_label(registry: CollectorRegistry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"type": "ERROR_TYPE_BUSINESS_LIMIT", "code": "ERROR_CODE_BUSINESS_REACHED_LIMITS"}
        return httpx.Response(403, json=body)

    client = httpx.Client(
        transport=httpx.MockTransport(handler),
        event_hooks=connectly_obs.event_hooks(registry=registry, record_business_id=True),
    )
    client.post("https://api.connectly.ai/v1/businesses/b-42/send/messages")
    labels = {"type": "ERROR_TYPE_BUSINESS_LIMIT", "code": "ERROR_CODE_BUSINESS_REACHED_LIMITS", "status_code": "403",
              "route": "/v1/businesses/{businessId}/send/messages", "business_id": "b-42"}
    assert registry.get_sample_value("connectly_api_errors_total", labels) == 1


def test_uninstrument_restores_transport(registry: CollectorRegistry) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    client = connectly_obs.instrument(httpx.Client(transport=transport), registry=registry)
    assert client._transport is not transport
    connectly_obs.uninstrument(client)
    assert client._transport is transport


def test_public_surface() -> None:
    assert sorted(connectly_obs.__all__) == [
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


def test_library_imports_no_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, connectly_obs, connectly_obs.testing\n"
        "bad = [name for name in sys.modules if name.startswith('opentelemetry.sdk')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wildcard_hosts_rejected() -> None:
    with pytest.raises(ValueError, match="wildcards are not supported"):
        connectly_obs.event_hooks(hosts=["*.connectly.ai"])


def test_instrument_again_with_other_registry(registry: CollectorRegistry) -> None:
    client = connectly_obs.instrument(httpx.Client(), registry=registry)
    connectly_obs.instrument(client, registry=registry)
    with pytest.raises(ValueError, match=r"already instrumented with another registry.*uninstrument"):
        connectly_obs.instrument(client, registry=CollectorRegistry())
    connectly_obs.uninstrument(client)
    connectly_obs.instrument(client, registry=CollectorRegistry())


def test_rejected_call_registers_nothing() -> None:
    registry = CollectorRegistry()
    factories = [
        lambda: connectly_obs.event_hooks(registry=registry, hosts=[]),
        lambda: connectly_obs.async_event_hooks(registry=registry, hosts=[]),
        lambda: connectly_obs.instrument(httpx.Client(), registry=registry, hosts=[]),
    ]

    for factory in factories:
        with pytest.raises(ValueError, match="hosts is empty"):
            factory()

    assert list(registry.collect()) == []
    # So a later call may still choose record_business_id.
    connectly_obs.event_hooks(registry=registry, record_business_id=True)


def test_hosts_iterator_is_read_once() -> None:
    registry = CollectorRegistry()
    hooks = connectly_obs.event_hooks(registry=registry, hosts=iter(["api.connectly.ai"]))
    transport = httpx.MockTransport(lambda request: httpx.Response(200))

    with httpx.Client(transport=transport, event_hooks=hooks) as client:
        client.get("https://api.connectly.ai/v1/ping")

    assert requests(registry, "200", method="GET", route="/v1/ping") == 1.0
