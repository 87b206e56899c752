"""What the `migrate-*` commands share: `--apply` (without it they only report), `--json`, and exit 1 while anything
is left to do."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from certctl.output import print_json

EXIT_LEFT = 1


def add_migration_parser(commands: Any, name: str, *, summary: str, apply_help: str) -> None:
    """The subcommand `name` (`summary` is its help) with --apply and --json."""
    migrate = commands.add_parser(name, help=summary)
    migrate.add_argument("--apply", action="store_true", help=apply_help)
    migrate.add_argument("--json", action="store_true", help="one JSON object on stdout")


def finish_migration(
    args: argparse.Namespace, report: Mapping[str, Any], print_text: Callable[[], None], left: bool
) -> int:
    """Print the report (one JSON object with --json, else `print_text()`); the exit code: EXIT_LEFT when `left`."""
    if args.json:
        print_json(report)
    else:
        print_text()
    return EXIT_LEFT if left else 0
