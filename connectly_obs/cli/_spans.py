"""Span export for the demo: OTLP when configured, otherwise memory and an optional file."""

from __future__ import annotations

import collections
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

__all__ = ["RecentSpans", "make_tracer_provider"]

# Spans the demo keeps in memory when it does not export them anywhere.
_RECENT_SPANS = 1000


class RecentSpans(SpanExporter):
    """Keeps the most recent spans in memory, and writes each to a JSON-lines file if given."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.spans: collections.deque[ReadableSpan] = collections.deque(maxlen=_RECENT_SPANS)
        self.exported = 0
        self._file = file
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.spans.extend(spans)
            self.exported += len(spans)
            if self._file is not None:
                for span in spans:
                    self._file.write(json.dumps(json.loads(span.to_json())) + "\n")
                self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def make_tracer_provider(spans_file: Path | None) -> tuple[TracerProvider, RecentSpans, str]:
    """Build the demo's tracer provider and return a description of where its spans go."""
    provider = TracerProvider(resource=Resource.create({"service.name": "connectly-obs-demo"}))
    file = spans_file.open("w", encoding="utf-8") if spans_file else None
    recent = RecentSpans(file)
    provider.add_span_processor(SimpleSpanProcessor(recent))

    destinations = []
    if spans_file:
        destinations.append(f"written to {spans_file}")
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        destinations.append("exported over OTLP/HTTP")
    if not destinations:
        return provider, recent, (
            "not saved (set OTEL_EXPORTER_OTLP_ENDPOINT or pass --spans-file to keep them)"
        )
    return provider, recent, " and ".join(destinations)
