"""`connectly-obs demo` and `connectly-obs explain`, run as a user runs them."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from connectly_obs._catalog import CODES
from connectly_obs._names import (
    ERRORS_TOTAL,
    REQUEST_DURATION_SECONDS,
    REQUESTS_TOTAL,
    TRANSPORT_ERRORS_TOTAL,
    UNPARSED_ERRORS_TOTAL,
)
from tests.support.servers import free_port

COMMAND = [sys.executable, "-m", "connectly_obs.cli"]
OPENMETRICS = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"


def scrape(port: int, accept: str | None = None) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


def wait_for_metrics(process: subprocess.Popen[str], port: int) -> None:
    for _ in range(200):
        assert process.poll() is None, process.communicate()
        try:
            scrape(port)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the demo did not serve /metrics")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    port = free_port()
    spans = tmp_path / "spans.jsonl"
    process = subprocess.Popen(
        [*COMMAND, "demo", "--duration", "12", "--rate", "100", "--metrics-port", str(port),
         "--seed", "5", "--spans-file", str(spans)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_metrics(process, port)
        yield process, port, spans
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_demo_serves_all_families(demo: tuple[subprocess.Popen[str], int, Path]) -> None:
    process, port, spans = demo
    families: dict[str, list[object]] = {}
    for _ in range(100):
        families = {family.name: family.samples for family in text_string_to_metric_families(scrape(port))}
        wanted = [REQUESTS_TOTAL, ERRORS_TOTAL, UNPARSED_ERRORS_TOTAL, TRANSPORT_ERRORS_TOTAL]
        if all(families.get(name.removesuffix("_total")) for name in wanted):
            break
        time.sleep(0.2)

    for name in (REQUESTS_TOTAL, ERRORS_TOTAL, UNPARSED_ERRORS_TOTAL, TRANSPORT_ERRORS_TOTAL):
        assert families.get(name.removesuffix("_total")), f"no samples of {name}"
    assert families.get(REQUEST_DURATION_SECONDS)

    errors = [sample for sample in families["connectly_api_errors"] if sample.name == ERRORS_TOTAL]  # type: ignore[attr-defined]
    assert {sample.labels["route"] for sample in errors} <= {  # type: ignore[attr-defined]
        "/v1/businesses/{businessId}/send/messages",
        "/v1/businesses/{businessId}/send/whatsapp_templated_messages",
        "/v1/businesses/{businessId}/create/webhooks",
    }
    assert any(sample.labels["code"] in CODES for sample in errors)  # type: ignore[attr-defined]

    openmetrics = scrape(port, OPENMETRICS)
    assert openmetrics.rstrip().endswith("# EOF")
    exemplars = [
        sample.exemplar
        for family in parse_openmetrics(openmetrics)
        if family.name == "connectly_api_errors"
        for sample in family.samples
        if sample.exemplar is not None
    ]
    assert exemplars
    assert all(len(exemplar.labels["trace_id"]) == 32 for exemplar in exemplars)
    assert all(exemplar.labels["cnt_trace_id"].isdigit() for exemplar in exemplars)
    assert " # {" not in scrape(port)

    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "EXAMPLE cntTraceId" in stdout
    assert "ERROR_TYPE_" in stdout
    recorded = [json.loads(line) for line in spans.read_text().splitlines()]
    assert any("connectly.trace_id" in span["attributes"] for span in recorded)
    assert "demo-api-key" not in spans.read_text()


def test_demo_busy_port_fails_clearly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*COMMAND, "demo", "--duration", "1", "--metrics-port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--metrics-port" in result.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--duration", "-1"], "invalid duration '-1'"),
        (["--duration", "soon"], "invalid duration 'soon'"),
        (["--metrics-port", "70000"], "invalid port '70000'"),
        (["--rate", "0"], "invalid rate '0'"),
        (["--timeout", "nan"], "invalid timeout 'nan'"),
        (["--scenario", "chaos"], "invalid choice: 'chaos'"),
    ],
)
def test_demo_bad_flags(flags: list[str], message: str) -> None:
    result = subprocess.run([*COMMAND, "demo", *flags], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("scenario", ["healthy", "rate-limit-storm", "business-limit", "auth-failure"])
def test_demo_scenarios_run(scenario: str) -> None:
    result = subprocess.run(
        [*COMMAND, "demo", "--duration", "1", "--rate", "50", "--scenario", scenario,
         "--metrics-port", str(free_port()), "--seed", "1"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expected = {
        "healthy": "No errors.",
        "rate-limit-storm": "ERROR_TYPE_RATE_LIMIT",
        "business-limit": "ERROR_CODE_BUSINESS_REACHED_LIMITS",
        "auth-failure": "ERROR_TYPE_AUTHENTICATION",
    }[scenario]
    assert expected in result.stdout


def test_explain_documented_value() -> None:
    result = subprocess.run([*COMMAND, "explain", "business_reached_limits"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "ERROR_CODE_BUSINESS_REACHED_LIMITS" in result.stdout
    assert "Action:" in result.stdout


def test_explain_unknown_value() -> None:
    result = subprocess.run([*COMMAND, "explain", "ERROR_CODE_BUSINES_REACHED_LIMIT"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "not a documented Connectly error type or code" in result.stderr
    assert "Did you mean ERROR_CODE_BUSINESS_REACHED_LIMITS" in result.stderr


def test_explain_unrelated_value_no_hint() -> None:
    result = subprocess.run([*COMMAND, "explain", "NOPE"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "'NOPE' is not a documented Connectly error type or code" in result.stderr
    assert "Did you mean" not in result.stderr


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_demo_until_stopped_prints_summary(signal_number: int) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*COMMAND, "demo", "--duration", "0", "--rate", "50", "--scenario", "business-limit",
         "--metrics-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_metrics(process, port)
        for _ in range(100):
            if "connectly_api_errors_total{" in scrape(port):
                break
            time.sleep(0.1)
        process.send_signal(signal_number)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "ERROR_TYPE_BUSINESS_LIMIT" in stdout


def test_demo_exports_spans_over_otlp() -> None:
    import http.server
    import os
    import threading

    received: list[tuple[str, str, int]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, self.headers.get("Content-Type", ""), len(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=collector.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        environment = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}"}
        result = subprocess.run(
            [*COMMAND, "demo", "--duration", "2", "--rate", "50", "--scenario", "auth-failure",
             "--metrics-port", str(free_port())],
            capture_output=True, text=True, timeout=60, env=environment,
        )
    finally:
        collector.shutdown()
        collector.server_close()

    assert result.returncode == 0, result.stderr
    assert "exported over OTLP/HTTP" in result.stderr
    assert received
    assert all(path == "/v1/traces" for path, _, _ in received)
    assert all(content_type == "application/x-protobuf" for _, content_type, _ in received)
    assert sum(size for _, _, size in received) > 0


def test_explain_unspecified_code() -> None:
    result = subprocess.run([*COMMAND, "explain", "ERROR_CODE_UNSPECIFIED"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "not in its code table" in result.stdout
    assert "explain ERROR_TYPE_" in result.stdout
