"""`certctl export`: register an ACM exportable certificate for distribution to servers, and run it once.

    certctl export --certificate-arn ARN --name N [--distribution-profile P | --no-distribution]
                   [--no-wait] [--timeout S] [--json]

It starts the distribution state machine, which exports the certificate from ACM, keeps the bundle in Secrets
Manager and sends it to the nodes of the distribution profile (deploy-time configuration: docs/distribution.md);
after that, every "ACM Certificate Available" renewal of that ARN does the same without being asked. Without a
profile it registers (or re-exports) the certificate and keeps the profile it has. Exit 0 when every node got it, 1
otherwise (the JSON says which nodes failed).
"""

from __future__ import annotations

import argparse
from typing import Any

from certctl import executions
from certctl.aws import CliError, Target
from certctl.distribution import add_distribution_flags, distribution_choice
from certctl.output import print_json
from certlib.distribution.spec import parse_distribution
from certlib.exceptions import InvalidRequest
from certlib.resources import EXPORT_ALLOWED_TAG

EXIT_FAILED = 1


def add_export_parser(commands: Any, default_timeout: float) -> None:
    export = commands.add_parser(
        "export", help="distribute an ACM exportable certificate to servers (SSM), now and after each ACM renewal"
    )
    export.add_argument("--certificate-arn", required=True, help="the ACM certificate (private CA, or export enabled)")
    export.add_argument("--name", required=True, help="its name in the inventory and in Secrets Manager")
    add_distribution_flags(export)
    export.add_argument("--no-wait", action="store_true", help="start it and return")
    export.add_argument("--timeout", type=float, default=default_timeout, help="seconds to wait at most")
    export.add_argument("--json", action="store_true", help="one JSON object on stdout")


def check_tagged_for_export(target: Target, certificate_arn: str) -> None:
    """Raise CliError, with the command that fixes it, unless the certificate's owner tagged it for this deployment
    (the export function may export only such certificates: an IAM condition on the tag)."""
    region = certificate_arn.split(":")[3] if certificate_arn.count(":") >= 5 else None
    tags = target.client("acm", region).list_tags_for_certificate(CertificateArn=certificate_arn).get("Tags", [])
    wanted = target.names.prefix
    if any(tag["Key"] == EXPORT_ALLOWED_TAG and tag.get("Value") == wanted for tag in tags):
        return
    raise CliError(
        f"{certificate_arn} is not tagged for export by this deployment: its owner allows it with "
        f"`aws acm add-tags-to-certificate --certificate-arn {certificate_arn} "
        f"--tags Key={EXPORT_ALLOWED_TAG},Value={wanted}`, then run this again"
    )


def run_export(target: Target, args: argparse.Namespace) -> int:
    check_tagged_for_export(target, args.certificate_arn)
    execution_input: dict[str, Any] = {"name": args.name, "certificate_arn": args.certificate_arn}
    distribution = distribution_choice(args)
    if distribution is not None:
        try:  # the machine checks it again; checking here first saves starting an execution that must fail
            parse_distribution(distribution, target.config().distribution_profiles)
        except InvalidRequest as exc:
            raise CliError(str(exc)) from None
        execution_input["distribution"] = distribution
    machine = target.state_machine_arn(target.names.distribution_state_machine)
    execution_arn = executions.start(target, execution_input, machine)
    if args.no_wait:
        started = {"name": args.name, "status": "started", "execution_arn": execution_arn}
        print_json(started) if args.json else print(f"started {execution_arn}")
        return 0
    result = executions.result_of(executions.wait(target, execution_arn, args.timeout, None))
    if args.json:
        print_json(result)
    else:
        _print(result)
    outcome = (result.get("distribution") or {}).get("status", "succeeded")
    return 0 if result.get("status") == "exported" and outcome == "succeeded" else EXIT_FAILED


def _print(result: dict[str, Any]) -> None:
    if result.get("status") != "exported":
        print(f"{result.get('status')}: {result.get('error')}: {result.get('message')}")
        return
    print(f"exported {result['name']} (serial {result['serial']}, until {result['not_after']})")
    distribution = result.get("distribution")
    if distribution:
        print(f"  distribution {distribution['status']}: {len(distribution.get('succeeded', []))} node(s) updated")
        for node in distribution.get("failed", []):
            print(f"  failed on {node}")
        if distribution.get("detail"):
            print(f"  {distribution['detail']}")
