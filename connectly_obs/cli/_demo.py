"""`connectly-obs demo`: the whole loop on one machine.

A fake Connectly API, an instrumented httpx client sending a realistic mix of
traffic to it, `/metrics` for Prometheus, and spans for a tracing backend.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import httpx
from prometheus_client import CollectorRegistry, start_http_server

from .. import instrument
from ..testing import SCENARIOS, FakeConnectlyAPI
from ._spans import make_tracer_provider
from ._summary import Summary

T = TypeVar("T")

_API_KEY = "demo-api-key"

# Businesses the demo sends for, so that route templates and business ids show.
_BUSINESSES = (
    "3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a90",
    "8b1e4d2c-0a9f-4c3b-8e7d-6f5a4b3c2d1e",
)
_ENDPOINTS = ("send/messages", "send/whatsapp_templated_messages", "create/webhooks")


def _checked(
    name: str, convert: Callable[[str], T], expected: str, is_valid: Callable[[T], bool], allowed: str
) -> Callable[[str], T]:
    """Build an argparse type that converts a flag's value and checks its range."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {name} {text!r}: give {expected}") from None
        if not is_valid(value):
            raise argparse.ArgumentTypeError(f"invalid {name} {text!r}: give {allowed}")
        return value

    return parse


# NaN fails every comparison below, so it is rejected along with the rest.
_non_negative_seconds = _checked(
    "duration", float, "a number of seconds", lambda value: 0 <= value < math.inf,
    "0 (run until Ctrl-C) or a positive number of seconds",
)
_port = _checked("port", int, "a whole number", lambda value: 1 <= value <= 65535, "a port from 1 to 65535")
_rate = _checked(
    "rate", float, "requests per second", lambda value: 0 < value <= 1000, "0 < rate <= 1000 requests per second"
)
_timeout = _checked(
    "timeout", float, "a number of seconds", lambda value: 0 < value <= 60, "0 < timeout <= 60 seconds"
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a fake Connectly API and an instrumented client, and serve /metrics",
        description="Start a fake Connectly API on 127.0.0.1, send it traffic through an "
        "instrumented httpx client, and serve the metrics for Prometheus. Ends with a table "
        "of the errors seen.",
    )
    parser.add_argument(
        "--duration", type=_non_negative_seconds, default=30.0, metavar="SECONDS",
        help="how long to send traffic, in seconds; 0 runs until Ctrl-C (default: 30)",
    )
    parser.add_argument(
        "--scenario", choices=list(SCENARIOS), default="mixed",
        help="traffic shape (default: mixed)",
    )
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="ADDRESS",
        help="address to serve /metrics on (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--metrics-port", type=_port, default=9464, metavar="PORT",
        help="port to serve /metrics on (default: 9464)",
    )
    parser.add_argument(
        "--rate", type=_rate, default=20.0, metavar="PER_SECOND",
        help="requests per second (default: 20)",
    )
    parser.add_argument(
        "--timeout", type=_timeout, default=1.0, metavar="SECONDS",
        help="client timeout in seconds; slow replies take longer and time out (default: 1)",
    )
    parser.add_argument(
        "--spans-file", type=Path, metavar="PATH",
        help="also write every span to this file, one JSON object per line",
    )
    parser.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    parser.set_defaults(handler=run)


def _send_loop(
    client: httpx.Client,
    summary: Summary,
    stop: threading.Event,
    schedule: _Schedule,
    rng: random.Random,
) -> None:
    from opentelemetry import trace

    tracer = trace.get_tracer("connectly_obs.demo")
    while not stop.is_set():
        if not schedule.wait_turn(stop):
            return
        business = rng.choice(_BUSINESSES)
        endpoint = rng.choice(_ENDPOINTS)
        payload = {"recipient": {"id": "+14155550123"}, "text": "Your order has shipped."}
        # The application's own span, so that the HTTP span has a parent as in real code.
        with tracer.start_as_current_span("send whatsapp message"):
            try:
                response = client.post(f"/v1/businesses/{business}/{endpoint}", json=payload)
            except httpx.TransportError as exc:
                summary.add_exception(exc)
                continue
        summary.add_response(response)


class _Schedule:
    """Spaces requests from all threads evenly at the requested rate."""

    def __init__(self, rate: float, deadline: float | None) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()
        self._deadline = deadline
        self._lock = threading.Lock()

    def wait_turn(self, stop: threading.Event) -> bool:
        with self._lock:
            turn = self._next
            self._next = max(turn, time.monotonic()) + self._interval
        if self._deadline is not None and turn >= self._deadline:
            return False
        return not stop.wait(max(0.0, turn - time.monotonic()))


def run(args: argparse.Namespace) -> int:
    registry = CollectorRegistry()
    try:
        metrics_server, metrics_thread = start_http_server(
            args.metrics_port, addr=args.metrics_host, registry=registry
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(
                f"connectly-obs: port {args.metrics_port} on {args.metrics_host} is already in use; "
                "stop what uses it or pick another port with --metrics-port",
                file=sys.stderr,
            )
        else:
            print(
                f"connectly-obs: cannot serve metrics on {args.metrics_host}:{args.metrics_port}: "
                f"{exc.strerror or exc}; check --metrics-host and --metrics-port",
                file=sys.stderr,
            )
        return 2

    try:
        provider, recent, span_destination = make_tracer_provider(args.spans_file)
    except OSError as exc:
        metrics_server.shutdown()
        print(f"connectly-obs: cannot write spans to {args.spans_file}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    from opentelemetry import trace

    trace.set_tracer_provider(provider)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    with contextlib.suppress(ValueError):  # not in the main thread, e.g. under a test runner
        signal.signal(signal.SIGTERM, request_stop)

    summary = Summary()
    rng = random.Random(args.seed)
    fake = FakeConnectlyAPI(api_key=_API_KEY, scenario=args.scenario, seed=rng.getrandbits(64))
    fake.start()
    client = httpx.Client(
        base_url=fake.base_url, headers={"X-API-Key": _API_KEY}, timeout=args.timeout
    )
    instrument(client, registry=registry, tracer_provider=provider)

    address = f"http://{args.metrics_host}:{args.metrics_port}/metrics"
    length = "until Ctrl-C" if args.duration == 0 else f"for {args.duration:g} s"
    print(f"Fake Connectly API at {fake.base_url}, scenario {args.scenario}", file=sys.stderr)
    print(f"Metrics at {address}; spans {span_destination}", file=sys.stderr)
    print(f"Sending about {args.rate:g} requests per second {length}.", file=sys.stderr)

    started = time.monotonic()
    deadline = None if args.duration == 0 else started + args.duration
    schedule = _Schedule(args.rate, deadline)
    workers = [
        threading.Thread(
            target=_send_loop,
            args=(client, summary, stop, schedule, random.Random(rng.getrandbits(64))),
            name=f"demo-sender-{index}",
            daemon=True,
        )
        for index in range(4)
    ]
    for worker in workers:
        worker.start()

    try:
        while any(worker.is_alive() for worker in workers):
            # Returns at once on SIGTERM; Ctrl-C interrupts the wait.
            stop.wait(1.0)
            summary.print_progress(time.monotonic() - started, args.duration)
    except KeyboardInterrupt:
        stop.set()
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=args.timeout + 5)
        summary.end_progress()
        client.close()
        fake.stop()
        provider.shutdown()
        metrics_server.shutdown()
        metrics_server.server_close()
        metrics_thread.join(timeout=5)

    summary.print_progress(time.monotonic() - started, args.duration, final=True)
    summary.print_table(sys.stdout)
    print(
        f"\n{recent.exported} spans ended: one application span per request, and one "
        f"connectly-obs span per failed call; {span_destination}.",
        file=sys.stderr,
    )
    return 0
