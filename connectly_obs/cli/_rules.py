"""The `connectly-obs rules` subcommand: render the alert and recording rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser"]

_FORMATS = ("prometheus", "prometheus-operator", "grafana")

_DESCRIPTION = """\
Render the Connectly recording and alerting rules from the default config, with
overrides from --config and then --set applied in that order.

formats:
  prometheus            a rule file for Prometheus' rule_files (the default)
  prometheus-operator   a PrometheusRule manifest for kubectl apply
  grafana               Grafana alert rule provisioning; Prometheus must also load
                        the recording rules of the prometheus format
"""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="render the Prometheus alert and recording rules",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="prometheus",
        help="output format (default: prometheus)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="YAML file of config overrides; --print-config shows every key",
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key, such as error_ratio.warning=0.1 (repeatable; VALUE is YAML)",
    )
    parser.add_argument(
        "--selector",
        metavar="MATCHERS",
        help='PromQL label matchers of the applications\' series, such as job="my-app"',
    )
    parser.add_argument(
        "--runbook-url",
        metavar="URL",
        help="runbook link pattern with {alert} or {anchor}, such as https://wiki/runbooks#{anchor}",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output"
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the config in effect, with a comment per key, instead of the rules",
    )
    parser.set_defaults(handler=_run)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    from ..alerts import merge_overrides, parse_assignment, read_config_file

    overrides: dict[str, Any] = read_config_file(args.config) if args.config else {}
    for assignment in args.assignments:
        overrides = merge_overrides(overrides, parse_assignment(assignment))
    if args.selector is not None:
        overrides["selector"] = args.selector
    if args.runbook_url is not None:
        overrides["runbook_url"] = args.runbook_url
    return overrides


def _run(args: argparse.Namespace) -> int:
    try:
        from ..alerts import ConfigError, dump_config, load_config, render
    except ImportError as exc:
        print(
            f"connectly-obs rules: error: {exc}; install the command-line extra with: "
            "pip install 'connectly-obs[cli]'",
            file=sys.stderr,
        )
        return 1

    try:
        config = load_config(_overrides(args))
    except ConfigError as exc:
        print(f"connectly-obs rules: error: {exc}", file=sys.stderr)
        return 2

    text = dump_config(config) if args.print_config else render(config, args.format)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(
            f"connectly-obs rules: error: cannot write {args.output}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0
