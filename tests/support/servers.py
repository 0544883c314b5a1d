"""Real Prometheus and Alertmanager servers for the tests.

Each server listens on 127.0.0.1 on a free port, keeps its data in a pytest
temporary folder, and is stopped by process id when the `with` block ends,
whether the test passed or not. A missing binary fails the test with the
command that installs it: these tests are never skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

# How long a server may take to become ready. Generous because CI machines are
# shared; no test asserts on it.
_STARTUP_SECONDS = 60.0

_INSTALL_HINT = "install it with: apt-get update && apt-get install -y prometheus prometheus-alertmanager"


def find_tool(*names: str) -> str:
    """Return the path of the first of `names` on PATH, or fail the test."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"{names[0]} not found on PATH; {_INSTALL_HINT}", pytrace=False)


# Ports that free_port() returned in this process. The kernel may hand a port
# out again as soon as the probing socket closes, so without this a server
# started later could take the port picked earlier for another one.
_RETURNED_PORTS: set[int] = set()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago and not returned before in this process."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _RETURNED_PORTS:
            _RETURNED_PORTS.add(port)
            return port
    raise RuntimeError("found no TCP port on 127.0.0.1 that free_port() had not returned before, in 100 tries")


def http_get_json(url: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args[0]} exited with status {process.returncode} before it was ready; "
                f"its log:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2.0) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{process.args[0]} was not ready at {url} after {_STARTUP_SECONDS} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextlib.contextmanager
def _run_server(
    args: Sequence[str], ready_url: str, log_path: Path, env: Mapping[str, str] | None = None
) -> Iterator[int]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(args), stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_ready(process, ready_url, log_path)
        yield process.pid
    finally:
        _stop(process)


class Prometheus:
    """A running Prometheus server and a small client for its HTTP API."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        body = http_get_json(f"{self.url}/api/v1/{path}?{query}")
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus API {path} failed: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Run an instant query and return its result vector."""
        return list(self.api("query", query=expr)["result"])

    def wait_for(self, expr: str, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Poll an instant query until it returns a non-empty result, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.5)


@contextlib.contextmanager
def run_prometheus(
    workdir: Path,
    scrape_targets: Sequence[str],
    *,
    rule_files: Sequence[Path] = (),
    alertmanager: str | None = None,
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
    extra_args: Sequence[str] = (),
) -> Iterator[Prometheus]:
    """Start Prometheus scraping `scrape_targets` (host:port) as job `connectly-obs`."""
    binary = find_tool("prometheus")
    workdir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval},
        "scrape_configs": [
            {"job_name": "connectly-obs", "static_configs": [{"targets": list(scrape_targets)}]}
        ],
        "rule_files": [str(path) for path in rule_files],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *extra_args,
    ]
    with _run_server(args, f"{url}/-/ready", workdir / "prometheus.log") as pid:
        yield Prometheus(url, pid)


class Alertmanager:
    """A running Alertmanager and a small client for its v2 API."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid
        self.address = url.removeprefix("http://")

    def alerts(self) -> list[dict[str, Any]]:
        return list(http_get_json(f"{self.url}/api/v2/alerts"))

    def alert_names(self) -> set[str]:
        return {alert["labels"]["alertname"] for alert in self.alerts()}


@contextlib.contextmanager
def run_alertmanager(workdir: Path) -> Iterator[Alertmanager]:
    """Start Alertmanager with one receiver that sends nowhere."""
    binary = find_tool("prometheus-alertmanager", "alertmanager")
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "route": {
            "receiver": "null",
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "null"}],
    }
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(yaml.safe_dump(config))

    port = free_port()
    cluster_port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary,
        f"--config.file={config_path}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # A cluster listener on all interfaces is the default; bind it to loopback.
        f"--cluster.listen-address=127.0.0.1:{cluster_port}",
    ]
    with _run_server(args, f"{url}/-/ready", workdir / "alertmanager.log") as pid:
        yield Alertmanager(url, pid)


def child_pids(pid: int) -> set[int]:
    """Return the process ids whose parent is `pid`, read from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name in brackets may contain spaces; the parent id follows the state.
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid:
            children.add(int(entry.name))
    return children


class Gunicorn:
    """A running gunicorn master and the address its workers serve."""

    def __init__(self, url: str, pid: int, log_path: Path) -> None:
        self.url = url
        self.pid = pid
        self.log_path = log_path

    def workers(self) -> set[int]:
        return child_pids(self.pid)

    def wait_for_workers(self, count: int, exclude: set[int], timeout: float = 30.0) -> set[int]:
        """Wait until the master has `count` workers, none of them in `exclude`, and return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            workers = self.workers()
            if len(workers) == count and not workers & exclude:
                return workers
            time.sleep(0.1)
        raise AssertionError(
            f"gunicorn did not reach {count} workers without {sorted(exclude)} in {timeout} s; "
            f"it has {sorted(self.workers())}; its log:\n{self.log_path.read_text(errors='replace')[-4000:]}"
        )


@contextlib.contextmanager
def run_gunicorn(
    workdir: Path,
    app: str,
    *,
    config: Path,
    chdir: Path,
    workers: int,
    env: Mapping[str, str],
) -> Iterator[Gunicorn]:
    """Start gunicorn on 127.0.0.1 with `workers` sync workers; ready once `/metrics` returns 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--config={config}",
        f"--chdir={chdir}",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--graceful-timeout=5",
        app,
    ]
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "gunicorn.log"
    with _run_server(args, f"{url}/metrics", log_path, env={**os.environ, **env}) as pid:
        gunicorn = Gunicorn(url, pid, log_path)
        gunicorn.wait_for_workers(workers, exclude=set())
        yield gunicorn
