"""The `connectly-obs dashboards` subcommand: write the Grafana dashboards as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..dashboards import DEFAULT_RUNBOOK_URL, DashboardConfig, build_dashboards, render_json

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboards",
        help="write the Grafana dashboards as JSON",
        description=(
            "Write the connectly-obs Grafana dashboards as JSON files, ready for Grafana's "
            "file provisioning or for Dashboards > New > Import."
        ),
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("dashboards"),
        metavar="DIR",
        help="folder to write the JSON files into, created if missing (default: %(default)s)",
    )
    parser.add_argument(
        "--selector",
        default="",
        metavar="MATCHERS",
        help='extra label matchers for every query, e.g. \'env="prod",cluster=~"eu-.*"\'',
    )
    parser.add_argument(
        "--datasource",
        default=DashboardConfig.datasource,
        metavar="NAME",
        help="Prometheus data source selected by default (default: %(default)s)",
    )
    parser.add_argument(
        "--trace-datasource",
        default=DashboardConfig.trace_datasource,
        metavar="NAME",
        help="Tempo data source selected by default for trace links (default: %(default)s)",
    )
    parser.add_argument(
        "--title-prefix",
        default="",
        metavar="TEXT",
        help="text put in front of every dashboard title, e.g. 'Prod / '",
    )
    parser.add_argument(
        "--runbook-url",
        default=DEFAULT_RUNBOOK_URL,
        metavar="URL",
        help="runbook page that panel links point into, one section per alert (default: %(default)s)",
    )
    parser.add_argument(
        "--uid-prefix",
        default=DashboardConfig.uid_prefix,
        metavar="PREFIX",
        help="start of every dashboard uid; change it to import two renderings side by side (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in --output-dir differ from what would be written",
    )
    parser.set_defaults(handler=_run, parser=parser)


def _run(args: argparse.Namespace) -> int:
    try:
        config = DashboardConfig(
            selector=args.selector,
            datasource=args.datasource,
            trace_datasource=args.trace_datasource,
            title_prefix=args.title_prefix,
            runbook_url=args.runbook_url,
            uid_prefix=args.uid_prefix,
        )
    except ValueError as exc:
        args.parser.error(str(exc))

    folder: Path = args.output_dir
    if folder.exists() and not folder.is_dir():
        args.parser.error(f"--output-dir {str(folder)!r} is a file; give a folder")

    rendered = {name: render_json(dashboard) for name, dashboard in build_dashboards(config).items()}
    if args.check:
        return _check(folder, rendered)

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in rendered.items():
            (folder / name).write_text(text, encoding="utf-8")
            print(folder / name)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        args.parser.error(f"cannot write to --output-dir {str(folder)!r}: {reason}; give a writable folder")
    return 0


def _check(folder: Path, rendered: dict[str, str]) -> int:
    stale = []
    for name, text in rendered.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path))
    if stale:
        print(
            f"out of date: {', '.join(stale)}; rerun without --check to rewrite them",
            file=sys.stderr,
        )
        return 1
    return 0
