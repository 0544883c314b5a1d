"""The gunicorn example, run for real: four workers, one scrape, exact totals."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from connectly_obs._names import ERRORS_TOTAL, MISSING_VALUE, REQUEST_DURATION_SECONDS, REQUESTS_TOTAL
from connectly_obs.testing import FakeConnectlyAPI
from tests.support.servers import Gunicorn, run_gunicorn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKERS = 4
API_KEY = "gunicorn-test-key"


def send_messages(gunicorn: Gunicorn, count: int) -> Counter[str]:
    """Send `count` messages through the app, 8 at a time, and tally the outcomes by error code."""

    def send(index: int) -> str:
        body = json.dumps({"to": "+14155550123", "text": f"order {index} shipped"}).encode()
        request = urllib.request.Request(
            f"{gunicorn.url}/messages", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                assert response.status == 202
                return "sent"
        except urllib.error.HTTPError as exc:
            assert exc.code == 502, exc.read()
            return str(json.loads(exc.read())["error"] or MISSING_VALUE)

    # Eight requests in flight keep several sync workers busy at once, so
    # that the requests are spread over the workers.
    with ThreadPoolExecutor(max_workers=8) as pool:
        return Counter(pool.map(send, range(count)))


def scrape_totals(gunicorn: Gunicorn) -> dict[str, float]:
    """Scrape /metrics once and sum the samples of each family we check, errors by code."""
    with urllib.request.urlopen(f"{gunicorn.url}/metrics", timeout=15) as response:
        text = response.read().decode()
    totals: dict[str, float] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == REQUESTS_TOTAL:
                totals["requests"] += sample.value
            elif sample.name == f"{REQUEST_DURATION_SECONDS}_count":
                totals["durations"] += sample.value
            elif sample.name == ERRORS_TOTAL:
                totals[sample.labels["code"]] += sample.value
    return totals


def worker_files(directory: Path) -> set[int]:
    """Return the process ids that have a counter file in the multi-process directory."""
    return {int(path.stem.rpartition("_")[2]) for path in directory.glob("counter_*.db")}


def test_gunicorn_totals_exact_across_workers_and_restart(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    stale = directory / "counter_999999.db"
    stale.write_bytes(b"left over from an earlier run")

    with FakeConnectlyAPI(api_key=API_KEY, scenario="rate-limit-storm", seed=7) as fake:
        env = {
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
            "CONNECTLY_BASE_URL": fake.base_url,
            "CONNECTLY_API_KEY": API_KEY,
        }
        with run_gunicorn(
            tmp_path / "gunicorn",
            "wsgi_app:app",
            config=EXAMPLES / "gunicorn.conf.py",
            chdir=EXAMPLES,
            workers=WORKERS,
            env=env,
        ) as gunicorn:
            assert not stale.exists(), "on_starting did not wipe the directory"

            outcomes = send_messages(gunicorn, 60)
            totals = scrape_totals(gunicorn)
            assert totals["requests"] == 60
            assert totals["durations"] == 60
            for code, count in outcomes.items():
                if code != "sent":
                    assert totals[code] == count, (code, totals)
            assert outcomes["sent"] < 60, "the scenario sent no errors"
            served = worker_files(directory)
            assert len(served) >= 2, f"all requests went to one worker: {served}"

            # Kill an idle worker that counted requests; the master replaces it.
            workers = gunicorn.workers()
            victim = min(served & workers)
            os.kill(victim, signal.SIGKILL)
            replaced = gunicorn.wait_for_workers(WORKERS, exclude={victim})

            outcomes += send_messages(gunicorn, 40)
            totals = scrape_totals(gunicorn)
            assert totals["requests"] == 100
            assert totals["durations"] == 100
            for code, count in outcomes.items():
                if code != "sent":
                    assert totals[code] == count, (code, totals)
            assert victim in worker_files(directory), "the dead worker's counts were removed"
            assert replaced - workers, "no new worker started"
