"""`python -m sandbox serve --state-dir DIR`: run the sandbox in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from certlib.resources import DEFAULT_PREFIX
from deploy.paths import REPO_ROOT
from sandbox.serve import serve

DEFAULT_STATE_DIR = REPO_ROOT / ".sandbox"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run Pebble, moto and the DNS server until stopped")
    serve_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="keys, logs and sandbox.json")
    serve_parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="resource name prefix (as the stack's)")
    serve_parser.add_argument("--log-file", type=Path, help="send all output there instead of the terminal")
    serve_parser.add_argument("--no-iam", dest="iam", action="store_false", help="do not enforce IAM (debugging only)")
    arguments = parser.parse_args(argv)
    return serve(arguments.state_dir, arguments.prefix, arguments.log_file, arguments.iam)


if __name__ == "__main__":
    sys.exit(main())
