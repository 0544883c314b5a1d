"""The `connectly-obs dashboards` subcommand (not written yet)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("dashboards", help="not available yet")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    raise SystemExit("connectly-obs dashboards is not available yet")
