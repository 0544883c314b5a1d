"""gunicorn settings for an app that calls Connectly and serves /metrics from its workers.

Every worker writes its metric values to files in PROMETHEUS_MULTIPROC_DIR,
and a scrape of any worker's /metrics merges the files of all workers. Set the
variable in the environment that starts gunicorn, so that it is there before
anything imports prometheus_client:

    export PROMETHEUS_MULTIPROC_DIR=/run/myapp/prometheus
    gunicorn -c gunicorn.conf.py --workers 4 myapp.wsgi:app
"""

import os
from pathlib import Path

from prometheus_client import multiprocess

_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _DIRECTORY:
    raise RuntimeError(
        "PROMETHEUS_MULTIPROC_DIR is not set: set it to an empty directory that only this "
        "gunicorn uses before starting gunicorn, or each worker counts only its own requests"
    )


def on_starting(server):
    """Remove the metric files of an earlier run, before any worker starts.

    Without this the directory keeps the files of every earlier run: scrapes
    keep serving series that the new code no longer records, and the
    directory, and with it the time each scrape takes, grows with every restart.
    """
    directory = Path(_DIRECTORY)
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink()


def child_exit(server, worker):
    """Remove the live-gauge files of a worker that exited.

    Counter and histogram files stay, so the totals still include what the dead
    worker counted. connectly-obs has no live gauges, but your own metrics may.
    """
    multiprocess.mark_process_dead(worker.pid)
