"""Rate-limited warnings for code that runs inside users' requests."""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["RateLimitedLogger"]


class RateLimitedLogger:
    """Log each kind of warning at most once per interval.

    A broken proxy can send thousands of bad responses a second; logging each
    one would flood the user's logs. Repeats within the interval are counted
    and the count is reported with the next message of that kind.
    """

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self._logger = logger
        self._interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object, exc_info: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += " (%d similar messages suppressed)"
            args = (*args, suppressed)
        self._logger.warning(message, *args, exc_info=exc_info)
