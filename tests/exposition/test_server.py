"""The standalone metrics server: where it listens, bad input, and stopping."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import REQUESTS_TOTAL
from connectly_obs.testing import FakeConnectlyAPI
from tests.exposition.conftest import record_traffic


def test_server_binds_loopback_by_default(registry: CollectorRegistry) -> None:
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        assert server.host == "127.0.0.1"
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"


def test_server_serves_registry(registry: CollectorRegistry, fake_api: FakeConnectlyAPI) -> None:
    record_traffic(registry, fake_api, errors=0, ok=3)
    with (
        connectly_obs.start_metrics_server(0, registry=registry) as server,
        urllib.request.urlopen(server.url, timeout=10) as response,
    ):
        body = response.read().decode()

    assert f'{REQUESTS_TOTAL}{{method="POST"' in body
    assert "} 3.0" in body


def test_server_rejects_post(registry: CollectorRegistry) -> None:
    with connectly_obs.start_metrics_server(0, registry=registry) as server:
        request = urllib.request.Request(server.url, data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)

    assert caught.value.code == 405
    assert caught.value.headers["Allow"] == "GET, HEAD"
    caught.value.close()


def test_server_close_releases_port(registry: CollectorRegistry) -> None:
    server = connectly_obs.start_metrics_server(0, registry=registry)
    port = server.port
    server.close()
    server.close()  # a second close does nothing

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("port", [-1, 65536, "9464", 9464.0, True, None])
def test_server_rejects_invalid_port(registry: CollectorRegistry, port: object) -> None:
    with pytest.raises(ValueError, match=r"invalid port .*pass a whole number from 1 to 65535"):
        connectly_obs.start_metrics_server(port, registry=registry)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("addr", "fix"),
    [
        ("", "pass an IP address or host name"),
        ("127.0.0.1:9464", "pass the port as the port argument"),
        ("[::1]", "without brackets"),
        ("http://127.0.0.1", "not a URL"),
        ("127.0.0.1 ", "remove the whitespace"),
        ("127.0. 0.1", "remove the whitespace"),
        (None, "pass an IP address or host name"),
    ],
)
def test_server_rejects_invalid_address(registry: CollectorRegistry, addr: object, fix: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"invalid address {addr!r}")) as caught:
        connectly_obs.start_metrics_server(0, addr, registry=registry)  # type: ignore[arg-type]

    assert fix in str(caught.value)


def test_server_port_in_use_names_port(registry: CollectorRegistry) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(OSError, match=rf"127\.0\.0\.1 port {port}: the port is already in use; stop"):
            connectly_obs.start_metrics_server(port, registry=registry)


def test_server_foreign_address_names_fix(registry: CollectorRegistry) -> None:
    # 192.0.2.1 is reserved for documentation, so no interface of this machine has it.
    with pytest.raises(OSError, match=r"192\.0\.2\.1 port 0: the address is not one of this machine's"):
        connectly_obs.start_metrics_server(0, "192.0.2.1", registry=registry)


def test_server_rejects_wrong_registry_type() -> None:
    expected = r"registry must be a prometheus_client\.CollectorRegistry, not dict\. Pass the registry"
    with pytest.raises(TypeError, match=expected):
        connectly_obs.start_metrics_server(0, registry={})  # type: ignore[arg-type]
