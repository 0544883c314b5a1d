"""The fake Connectly API in a child process, so that it does not share the GIL with the clients.

Run as a script it starts the server on 127.0.0.1, prints its base URL and
serves until its standard input closes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Seconds the server may take to start or to stop.
_TIMEOUT = 30


@contextmanager
def fake_api_process(api_key: str) -> Iterator[str]:
    """Run the fake API in a child process and yield its base URL."""
    process = subprocess.Popen(
        [sys.executable, __file__, api_key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the fake API process did not start; it printed {base_url!r}")
        yield base_url
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_TIMEOUT)


def _serve(api_key: str) -> None:
    from connectly_obs.testing import FakeConnectlyAPI
    from connectly_obs.testing._server import _Handler

    # The handler writes the headers and the body in separate sends. With
    # Nagle's algorithm on, the body then waits for the client's delayed ACK,
    # which cost about 30 ms per request here and would swamp every figure.
    # NOTE: this sets an attribute of a private class of connectly_obs.testing.
    _Handler.disable_nagle_algorithm = True

    with FakeConnectlyAPI(api_key=api_key, scenario="healthy") as api:
        print(api.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    _serve(sys.argv[1])
