"""Multi-process mode: where metric values live, and the setup mistakes that lose them.

prometheus_client switches to multi-process mode when PROMETHEUS_MULTIPROC_DIR
is in the environment at the moment prometheus_client is first imported. Every
process then writes its counters and histograms to its own files in that
directory, and an exposition merges the files of all processes, dead ones
included, so that totals survive a worker that exits.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector

from ._logging import RateLimitedLogger

__all__ = ["ENV_VAR", "check_setup", "multiprocess_dir", "multiprocess_registry", "values_in_files"]

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"

# prometheus_client still reads the lower-case name, deprecated since 0.10.
_LEGACY_ENV_VAR = "prometheus_multiproc_dir"

logger = logging.getLogger(__name__)
_log = RateLimitedLogger(logger)


def multiprocess_dir() -> str | None:
    """Return the multi-process directory from the environment, or None in single-process mode."""
    directory = os.environ.get(ENV_VAR)
    if directory is None:
        directory = os.environ.get(_LEGACY_ENV_VAR)
    return directory


def values_in_files() -> bool | None:
    """Return whether prometheus_client chose file-backed values at import, or None if unknown."""
    # NOTE: `ValueClass` and its `_multiprocess` flag are not public API of
    # prometheus_client (read from 0.20 to 0.26). If they change, the check is skipped.
    in_files = getattr(values.ValueClass, "_multiprocess", None)
    return in_files if isinstance(in_files, bool) else None


def check_setup(*, exemplars: bool | None) -> str | None:
    """Log a warning for each multi-process setup mistake, and return the directory or None.

    Each mistake makes the numbers silently wrong or missing, so each warning
    names the fix. Warnings repeat at most once a minute per directory.
    """
    directory = multiprocess_dir()
    if directory is None:
        return None

    if values_in_files() is False:
        _log.warning(
            f"late_import:{directory}",
            "%s is set to %r, but prometheus_client was imported before it was set, so this process "
            "keeps its metrics in memory where the multi-process exposition cannot see them; set %s "
            "in the environment that starts the server (the shell, the container spec, the systemd "
            "unit or the top of the gunicorn config file), not in application code",
            ENV_VAR,
            directory,
            ENV_VAR,
        )

    if not os.path.isdir(directory):
        _log.warning(
            f"missing:{directory}",
            "%s is %r, which is not an existing directory, so no process can record metrics and "
            "every scrape fails; create the directory, empty, before the server starts its workers "
            "(for example in gunicorn's on_starting hook)",
            ENV_VAR,
            directory,
        )
    elif not os.access(directory, os.W_OK | os.X_OK):
        _log.warning(
            f"not_writable:{directory}",
            "%s is %r, which this process (user id %d) cannot write to, so its metrics are lost; "
            "give the server's user write access to the directory, or point %s at a directory "
            "that user owns",
            ENV_VAR,
            directory,
            os.geteuid(),
            ENV_VAR,
        )

    if exemplars:
        _log.warning(
            f"exemplars:{directory}",
            "exemplars=True has no effect because %s is set: prometheus_client stores no exemplars "
            "in multi-process mode, so every scrape comes without them; to keep exemplars, run "
            "one server process per container and scale with replicas, or leave exemplars unset "
            "to accept metrics without them",
            ENV_VAR,
        )
    return directory


def multiprocess_registry(directory: str) -> CollectorRegistry:
    """Build a registry that reads the merged values of every process in `directory`.

    A fresh registry per scrape holds only the file collector. Adding the
    collector to the default registry would expose this process's own values
    next to the merged ones, duplicating every series.
    Raises ValueError when `directory` is not a directory.
    """
    try:
        # The file collector has no describe(), so without this option a
        # `name[]` filter finds no collector and serves an empty page.
        registry = CollectorRegistry(support_collectors_without_names=True)
    except TypeError:
        # NOTE: prometheus_client releases without this option serve an
        # empty page for a `name[]` filter in multi-process mode.
        registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped upstream
    return registry
