"""The demo's tally of responses and errors, printed as progress while it runs and as a table at the end."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TextIO

import httpx

from .. import parse_error
from .._catalog import lookup


@dataclass
class _Row:
    count: int = 0
    example_trace_id: str = ""
    status_code: int = 0


class Summary:
    """Counts of responses and errors, shared by the sender threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.errors = 0
        self.unparsed = 0
        self.transport_errors = 0
        self._rows: dict[tuple[str, str], _Row] = {}
        self._progress_shown = False
        self._last_printed = 0.0

    def add_response(self, response: httpx.Response) -> None:
        error = parse_error(response)
        with self._lock:
            self.requests += 1
            if response.status_code < 400:
                return
            if error is None:
                self.unparsed += 1
                key = ("(not a Connectly error body)", f"HTTP {response.status_code}")
                trace_id = ""
            else:
                self.errors += 1
                key = (error.type or "(none)", error.code or "(none)")
                trace_id = error.trace_id or ""
            row = self._rows.setdefault(key, _Row(status_code=response.status_code))
            row.count += 1
            row.example_trace_id = row.example_trace_id or trace_id

    def add_exception(self, exc: Exception) -> None:
        with self._lock:
            self.transport_errors += 1
            row = self._rows.setdefault(("(no response)", type(exc).__name__), _Row())
            row.count += 1

    def print_progress(self, elapsed: float, duration: float, *, final: bool = False) -> None:
        total = "" if duration == 0 else f"/{duration:g}s"
        line = (
            f"[{elapsed:4.0f}s{total}] {self.requests} responses, {self.errors} Connectly errors, "
            f"{self.unparsed} other error bodies, {self.transport_errors} transport errors"
        )
        if sys.stderr.isatty():
            if not final:
                sys.stderr.write("\r" + line)
                self._progress_shown = True
        elif final or elapsed - self._last_printed >= 5:
            # Without a terminal, print a line every 5 seconds instead of redrawing.
            sys.stderr.write(line + "\n")
            self._last_printed = elapsed
        sys.stderr.flush()

    def end_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\n")

    def print_table(self, out: TextIO) -> None:
        if not self._rows:
            out.write("No errors.\n")
            return
        rows = sorted(self._rows.items(), key=lambda item: -item[1].count)
        headers = ("TYPE", "CODE", "COUNT", "EXAMPLE cntTraceId")
        table = [
            (type_, code, str(row.count), row.example_trace_id or "-")
            for (type_, code), row in rows
        ]
        widths = [max(len(line[index]) for line in (headers, *table)) for index in range(4)]
        out.write("  ".join(text.ljust(width) for text, width in zip(headers, widths, strict=True)) + "  ACTION\n")
        for (type_, code), row in rows:
            entry = lookup(code) or lookup(type_)
            if entry is not None:
                action = entry.action
            elif type_ == "(no response)":
                action = "No response: check the network, proxies and client timeouts."
            elif type_.startswith("("):
                action = "Not a Connectly error body: a proxy or gateway answered, or the body was cut short."
            else:
                action = "Undocumented: send the cntTraceId to Connectly support."
            cells = (type_, code, str(row.count), row.example_trace_id or "-")
            out.write("  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)) + f"  {action}\n")
