"""Multi-process mode in this process and a child process, and a warning for each setup mistake."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, values
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics

import connectly_obs
from connectly_obs._names import REQUESTS_TOTAL
from connectly_obs.testing import FakeConnectlyAPI
from tests.exposition.conftest import API_KEY, record_traffic

OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"

# A separate process in multi-process mode, as a server worker would be:
# the variable is set before prometheus_client is first imported.
CHILD_SCRIPT = textwrap.dedent(
    """
    import sys
    import httpx
    import connectly_obs

    base_url, api_key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}) as client:
        connectly_obs.instrument(client)
        for _ in range(count):
            client.post("/v1/businesses/b1/send/messages").raise_for_status()
    """
)


@pytest.fixture
def multiprocess_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Put this process in multi-process mode, as if the variable had been set before import."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    value_class = values.MultiProcessValue()
    monkeypatch.setattr(values, "ValueClass", value_class)
    yield directory
    value_class.close_all_files()


def scrape(app: object, accept: str = OPENMETRICS_ACCEPT, path: str = "/metrics") -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://app") as client:  # type: ignore[arg-type]
        return client.get(path, headers={"Accept": accept})


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_multiprocess_page_merges_processes(
    multiprocess_dir: Path, registry: CollectorRegistry, fake_api: FakeConnectlyAPI, caplog: pytest.LogCaptureFixture
) -> None:
    record_traffic(registry, fake_api, errors=1, ok=2)
    child = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT, fake_api.base_url, API_KEY, "5"],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir)},
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr.decode()

    response = scrape(connectly_obs.make_wsgi_app(registry=registry))

    assert response.status_code == 200
    samples = [s for f in parse_openmetrics(response.text) for s in f.samples]
    keys = [(s.name, tuple(sorted(s.labels.items()))) for s in samples]
    assert len(keys) == len(set(keys)), "a series appears twice"
    requests = {s.labels["status_code"]: s.value for s in samples if s.name == REQUESTS_TOTAL}
    assert requests == {"200": 7.0, "403": 1.0}
    # prometheus_client keeps no exemplars in multi-process mode.
    assert all(sample.exemplar is None for sample in samples)
    assert warnings_logged(caplog) == []


def test_multiprocess_name_filter(
    multiprocess_dir: Path, registry: CollectorRegistry, fake_api: FakeConnectlyAPI
) -> None:
    record_traffic(registry, fake_api, errors=1, ok=2)

    response = scrape(connectly_obs.make_wsgi_app(registry=registry), path=f"/metrics?name[]={REQUESTS_TOTAL}")

    assert response.status_code == 200
    samples = [s for f in parse_openmetrics(response.text) for s in f.samples]
    assert {sample.name for sample in samples} == {REQUESTS_TOTAL}
    assert sum(sample.value for sample in samples) == 3


def test_correct_single_process_setup_logs_nothing(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    connectly_obs.make_wsgi_app(registry=registry, exemplars=True)

    assert warnings_logged(caplog) == []


def test_warns_when_variable_set_after_import(
    tmp_path: Path, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # prometheus_client was imported without the variable, so its values live in memory.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    connectly_obs.make_wsgi_app(registry=registry)

    [message] = warnings_logged(caplog)
    assert f"PROMETHEUS_MULTIPROC_DIR is set to {str(tmp_path)!r}" in message
    assert "prometheus_client was imported before it was set" in message
    assert "set PROMETHEUS_MULTIPROC_DIR in the environment that starts the server" in message


def test_warns_once_per_minute_for_repeats(
    tmp_path: Path, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for _ in range(3):
        connectly_obs.make_asgi_app(registry=registry)

    assert len(warnings_logged(caplog)) == 1


def test_warns_missing_directory_and_scrape_fails(
    multiprocess_dir: Path, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    multiprocess_dir.rmdir()
    app = connectly_obs.make_wsgi_app(registry=registry)

    [message] = warnings_logged(caplog)
    assert f"PROMETHEUS_MULTIPROC_DIR is {str(multiprocess_dir)!r}, which is not an existing directory" in message
    assert "create the directory, empty, before the server starts its workers" in message

    caplog.clear()
    response = scrape(app)
    assert response.status_code == 500
    assert "connectly-obs could not collect metrics" in response.text
    [message] = warnings_logged(caplog)
    assert "could not collect metrics for a scrape" in message


def test_warns_exemplars_requested_in_multiprocess_mode(
    multiprocess_dir: Path, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    connectly_obs.start_metrics_server(0, registry=registry, exemplars=True).close()

    [message] = warnings_logged(caplog)
    assert "exemplars=True has no effect because PROMETHEUS_MULTIPROC_DIR is set" in message
    assert "run one server process per container" in message


def test_multiprocess_default_exemplars_logs_nothing(
    multiprocess_dir: Path, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    connectly_obs.make_asgi_app(registry=registry)

    assert warnings_logged(caplog) == []


@contextlib.contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """Make `directory` unwritable for this process, even for root, until the block ends."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    # Root writes through permission bits, but not into an immutable directory.
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.fail("chattr not found on PATH; install it with: apt-get install -y e2fsprogs", pytrace=False)
    result = subprocess.run([chattr, "+i", str(directory)], capture_output=True, timeout=30)
    if result.returncode != 0:
        pytest.fail(f"chattr +i {directory} failed: {result.stderr.decode()}", pytrace=False)
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True, timeout=30)


def test_warns_unwritable_directory(
    multiprocess_dir: Path, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with unwritable(multiprocess_dir):
        connectly_obs.make_wsgi_app(registry=registry)

    [message] = warnings_logged(caplog)
    assert f"PROMETHEUS_MULTIPROC_DIR is {str(multiprocess_dir)!r}, which this process" in message
    assert "cannot write to" in message
    assert "give the server's user write access to the directory" in message
