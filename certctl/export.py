"""`certctl export`: register an ACM exportable certificate for distribution to servers, and run it once.

    certctl export --certificate-arn ARN --name N (--tag KEY=V1[,V2] ... | --instance-id ID ...)
                   [--certificate-path P] [--chain-path P] [--fullchain-path P] [--key-path P] [--owner U[:G]]
                   [--check-command C] [--reload-command C] [--access-group G] [--no-wait] [--timeout S] [--json]

It starts the distribution state machine, which exports the certificate from ACM, keeps the bundle in Secrets
Manager and sends it to the nodes; after that, every "ACM Certificate Available" renewal of that ARN does the same
without being asked. Without targets it registers (or re-exports) the certificate and keeps the targets it has.
Exit 0 when every node got it, 1 otherwise (the JSON says which nodes failed).
"""

from __future__ import annotations

import argparse
from typing import Any

from certctl import executions
from certctl.aws import CliError, Target
from certctl.output import print_json
from certlib.resources import EXPORT_ALLOWED_TAG

EXIT_FAILED = 1


def add_export_parser(commands: Any, default_timeout: float) -> None:
    export = commands.add_parser(
        "export", help="distribute an ACM exportable certificate to servers (SSM), now and after each ACM renewal"
    )
    export.add_argument("--certificate-arn", required=True, help="the ACM certificate (private CA, or export enabled)")
    export.add_argument("--name", required=True, help="its name in the inventory and in Secrets Manager")
    export.add_argument("--tag", action="append", default=[], metavar="KEY=V1[,V2]", help="SSM tag target (repeatable)")
    export.add_argument("--instance-id", action="append", default=[], help="SSM instance target (repeatable)")
    for option, what in (
        ("certificate-path", "the certificate"),
        ("chain-path", "the chain"),
        ("fullchain-path", "certificate + chain"),
        ("key-path", "the private key (mode 600)"),
    ):
        export.add_argument(f"--{option}", help=f"where {what} goes on the nodes (default /etc/ssl/acme/<name>/...)")
    export.add_argument("--owner", help="owner of the files on the nodes, user or user:group (default root:root)")
    export.add_argument("--check-command", help='run after installing, e.g. "nginx -t"; failing restores the old files')
    export.add_argument("--reload-command", help='run after a passing check, e.g. "systemctl reload nginx"')
    export.add_argument("--access-group", help="the nodes' principal tag value allowed to read it (default: the name)")
    export.add_argument("--no-wait", action="store_true", help="start it and return")
    export.add_argument("--timeout", type=float, default=default_timeout, help="seconds to wait at most")
    export.add_argument("--json", action="store_true", help="one JSON object on stdout")


def distribution_of(args: argparse.Namespace) -> dict[str, Any] | None:
    """The `distribution` input from the options; None without targets (the inventory's are kept)."""
    tags: dict[str, list[str]] = {}
    for text in args.tag:
        key, sep, values = text.partition("=")
        if not sep or not key or not values:
            raise CliError(f"--tag {text!r}: expected KEY=VALUE or KEY=V1,V2")
        tags.setdefault(key, []).extend(value for value in values.split(",") if value)
    if not tags and not args.instance_id:
        return None
    distribution: dict[str, Any] = {"tags": tags} if tags else {"instance_ids": list(args.instance_id)}
    for field in (
        "certificate_path",
        "chain_path",
        "fullchain_path",
        "key_path",
        "owner",
        "check_command",
        "reload_command",
        "access_group",
    ):
        value = getattr(args, field)
        if value is not None:
            distribution[field] = value
    return distribution


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
    distribution = distribution_of(args)
    if distribution is not None:
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
