"""CDK entry point. `cdk synth` / `cdk deploy` run it through cdk.json; `make synth` runs it directly:

    python app.py [-c accountsFile=config/acme-accounts.yaml] [-c hostedZoneIds=Z1,Z2] [-c resourcePrefix=acme-certs]
    python app.py -c 'deployments=[{"account": "111111111111", "region": "us-east-1"}]' \
                  -c 'dnsAccounts=[{"account": "333333333333", "zoneIds": ["Z1"]}]'

Run directly, it writes the cloud assembly to cdk.out (the CDK CLI chooses the directory itself). Synthesis makes
no AWS call and needs no Docker; it fails when cdk-nag reports an unacknowledged finding.
"""

from __future__ import annotations

import argparse
import os
import sys

from certlib.exceptions import ConfigError
from stacks.settings import CONTEXT_KEYS, SettingsError

DEFAULT_OUTDIR = "cdk.out"
# jsii prints a banner on every run under Node 20 (what these machines have) unless told this version is known.
NODE_VERSION_ACKNOWLEDGED = ("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _context_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or key not in CONTEXT_KEYS:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY one of {', '.join(CONTEXT_KEYS)}, got {text!r}")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Synthesize the ACME certificate stacks (and the DNS accounts' role stacks)."
    )
    parser.add_argument(
        "-c",
        "--context",
        type=_context_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a context value of cdk.json (repeatable)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault(*NODE_VERSION_ACKNOWLEDGED)
    from stacks.application import build_deployment  # after the environment is set: importing aws_cdk starts jsii

    outdir = None if os.environ.get("CDK_OUTDIR") else DEFAULT_OUTDIR
    try:
        deployed = build_deployment(dict(args.context), outdir=outdir)
    except (ConfigError, SettingsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        assembly = deployed.app.synth()
    except RuntimeError as exc:  # cdk-nag findings: the report above says which and where
        print(f"error: synthesis failed: {exc}", file=sys.stderr)
        return 1
    for stack in deployed.stacks:
        print(f"{stack.stack_name}: {assembly.directory}/{stack.template_file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
