"""The `connectly-obs` command.

Each subcommand lives in a module of its own that exposes `add_parser`, which
registers the subcommand's arguments and sets `handler` to a function that
takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _dashboards, _demo, _explain, _rules

__all__ = ["main"]

_SUBCOMMANDS = (_demo, _explain, _rules, _dashboards)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connectly-obs",
        description="Observability for Connectly API errors: demo, explain, rules, dashboards.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
