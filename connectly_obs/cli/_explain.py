"""`connectly-obs explain`: the meaning and corrective action of an error type or code."""

from __future__ import annotations

import argparse
import difflib
import sys
from typing import Any

from .._catalog import CODES, TYPES, lookup


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="print the meaning and corrective action of a Connectly error type or code",
        description="Print the meaning and corrective action of a documented Connectly error "
        "type or code, e.g. ERROR_CODE_BUSINESS_REACHED_LIMITS or business_reached_limits.",
    )
    parser.add_argument("value", metavar="VALUE", help="an ERROR_TYPE_... or ERROR_CODE_... value")
    parser.set_defaults(handler=run)


def _candidates(value: str) -> list[str]:
    name = value.strip().upper().replace("-", "_")
    if name.startswith(("ERROR_TYPE_", "ERROR_CODE_")):
        return [name]
    return [f"ERROR_CODE_{name}", f"ERROR_TYPE_{name}"]


def _suffix(name: str) -> str:
    return name.removeprefix("ERROR_CODE_").removeprefix("ERROR_TYPE_")


def _close_names(value: str) -> list[str]:
    """Return up to three documented names that resemble `value`."""
    # Names are compared without their ERROR_CODE_ or ERROR_TYPE_ prefix,
    # which would otherwise make every code look close to every other.
    names = [*CODES, *TYPES]
    suffixes = {_suffix(name) for name in names}
    close = difflib.get_close_matches(_suffix(_candidates(value)[0]), suffixes, n=3, cutoff=0.6)
    return [name for suffix in close for name in names if _suffix(name) == suffix][:3]


def run(args: argparse.Namespace) -> int:
    for name in _candidates(args.value):
        entry = lookup(name)
        if entry is not None:
            kind = "type" if entry.name in TYPES else "code"
            print(f"{entry.name} (documented error {kind})")
            print(f"Meaning: {entry.meaning}")
            print(f"Action:  {entry.action}")
            return 0

    if _candidates(args.value)[0] == "ERROR_CODE_UNSPECIFIED":
        # Missing from the code table, but Connectly sends it with many types.
        print("ERROR_CODE_UNSPECIFIED (used by Connectly, not in its code table)")
        print("Meaning: The error has no specific code; its type gives the category.")
        print("Action:  Look up the type of the same error, e.g. connectly-obs explain ERROR_TYPE_RATE_LIMIT.")
        return 0

    close = _close_names(args.value)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    print(
        f"connectly-obs: {args.value!r} is not a documented Connectly error type or code.{hint} "
        "Undocumented values are counted by the hook all the same; ask Connectly support "
        "what they mean.",
        file=sys.stderr,
    )
    return 1
