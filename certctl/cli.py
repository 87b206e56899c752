"""`python -m certctl`: the operator CLI, for a deployed stack and for the sandbox alike.

Exit codes: 0 done; 1 the operation failed (the error is on stderr, or in the --json object); 2 bad usage;
3 another execution is already working on that certificate.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, overload

from certctl import executions
from certctl.acm_tags import add_acm_tags_parser, run_migrate_acm_tags
from certctl.adopt import add_adopt_parser, run_adopt
from certctl.aws import CliError, Target
from certctl.distribution import add_distribution_flags, add_migrate_parser, distribution_choice, run_migrate
from certctl.export import add_export_parser, run_export
from certctl.output import print_json, print_result, render_certificate_detail, render_status_table, use_colour
from certctl.pkcs12 import add_pkcs12_parser, run_pkcs12_password
from certctl.status import plain, status_document, status_rows
from certctl.terminal import WaitDisplay
from certlib.adapters.stepfunctions import lifecycle_input
from certlib.config import load_accounts_file
from certlib.exceptions import CertificateError
from certlib.key_types import KEY_TYPES
from certlib.lifecycle.request import parse_request
from certlib.resources import DEFAULT_PREFIX, STANDARD_PARAMETER_MAX_BYTES
from certlib.utc import parse_utc_iso, utc_iso


class _RevocationReasons(Sequence[str]):
    """`revoke --reason`'s choices, read when argparse checks or lists them: certlib.renewal.revocation imports the
    functions' observability (the X-Ray SDK, about 0.3 s), which every other command would pay at start-up."""

    @functools.cached_property
    def _reasons(self) -> tuple[str, ...]:
        from certlib.renewal.revocation import REASON_CODES

        return tuple(REASON_CODES)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._reasons[index]

    def __len__(self) -> int:
        return len(self._reasons)


REVOCATION_REASONS = _RevocationReasons()
EXIT_FAILED = 1
EXIT_IN_PROGRESS = 3
DEFAULT_WAIT_SECONDS = 1800


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certctl", description="ACME certificates for AWS: issue, renew, inspect.")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="AWS endpoint (sandbox)")
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION)")
    parser.add_argument("--prefix", default=os.environ.get("CERTCTL_PREFIX", DEFAULT_PREFIX), help="resource prefix")
    commands = parser.add_subparsers(dest="command", required=True)

    issue = commands.add_parser("issue", help="issue (or renew) a certificate")
    issue.add_argument("--name", required=True, help="the certificate's name in the inventory")
    issue.add_argument("--domains", required=True, help="comma-separated DNS names, wildcards as *.example.com")
    issue.add_argument(
        "--account", help="ACME account alias (default: default-account; required with several and no default)"
    )
    issue.add_argument(
        "--fallback-account",
        dest="fallback_accounts",
        action="append",
        help="ACME account alias to try, in the same execution, when the account fails on the CA's side (repeatable, "
        "in order; default: what the inventory has)",
    )
    issue.add_argument("--key-type", choices=KEY_TYPES, help="key type (default: the account's)")
    issue.add_argument("--region", dest="regions", action="append", help="ACM region to import into (repeatable)")
    issue.add_argument(
        "--replace",
        action="store_true",
        help="change the domains or ACME account of an existing certificate (refused without it; announced)",
    )
    add_distribution_flags(issue)
    _add_wait_flags(issue)

    renew = commands.add_parser("renew", help="renew a certificate of the inventory now")
    renew.add_argument("--name", required=True, help="the certificate's name in the inventory")
    renew.add_argument("--force", action="store_true", help="renew even when it is not due yet")
    _add_wait_flags(renew)

    sweep = commands.add_parser("sweep", help="run the renewal sweep: renew every certificate that is due")
    sweep.add_argument("--now", help="ISO 8601 time to sweep as of (default: now), to try what would renew when")
    sweep.add_argument("--dry-run", action="store_true", help="only list what is due; start nothing")
    sweep.add_argument("--timeout", type=float, default=DEFAULT_WAIT_SECONDS, help="seconds to wait at most")
    sweep.add_argument("--json", action="store_true", help="one JSON object on stdout")

    revoke = commands.add_parser("revoke", help="revoke a certificate through ACME and issue its replacement")
    revoke.add_argument("--name", required=True, help="the certificate's name in the inventory")
    revoke.add_argument(
        "--reason",
        required=True,
        choices=REVOCATION_REASONS,
        metavar="REASON",  # argparse lists the choices of an argument without one as it adds it: not at start-up
        help="RFC 5280 reason: %(choices)s",
    )
    revoke.add_argument("--no-replace", action="store_true", help="do not issue a replacement")
    _add_wait_flags(revoke)

    status = commands.add_parser("status", help="every certificate, the most urgent first")
    status.add_argument("--name", help="only this certificate, with its history and what to do when it failed")
    status.add_argument("--json", action="store_true", help="one JSON object on stdout")
    status.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the urgency (auto: on a terminal, unless NO_COLOR is set)",
    )

    accounts = commands.add_parser("accounts", help="ACME account configuration")
    accounts_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    push = accounts_commands.add_parser(
        "push",
        help="store the EAB HMAC keys of acme-accounts.yaml in Secrets Manager, and its accounts where the next "
        "execution reads them (no deploy needed)",
    )
    push.add_argument("--file", required=True, type=Path, help="the acme-accounts.yaml to read")
    push.add_argument(
        "--keys-only", action="store_true", help="store the EAB HMAC keys only; keep the accounts in effect as they are"
    )
    push.add_argument("--json", action="store_true")

    add_export_parser(commands, DEFAULT_WAIT_SECONDS)
    add_migrate_parser(commands)
    add_acm_tags_parser(commands)
    add_adopt_parser(commands)
    add_pkcs12_parser(commands)

    sandbox = commands.add_parser("sandbox", help="the local sandbox (Pebble + moto + DNS)")
    sandbox.add_argument("action", choices=("up", "down", "demo", "prevalidate"))
    sandbox.add_argument("--state-dir", type=Path, default=None, help="where the sandbox keeps its files")
    sandbox.add_argument(
        "--no-iam",
        dest="iam",
        action="store_false",
        help="up: do not enforce IAM (every role may do anything). For debugging only: what passes so may fail on AWS",
    )
    sandbox.add_argument("--account", help="prevalidate: the ACME account alias the CA validates the names for")
    sandbox.add_argument("--domains", help="prevalidate: comma-separated DNS names the CA treats as validated")
    return parser


def _add_wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="wait for the execution to end")
    parser.add_argument("--timeout", type=float, default=DEFAULT_WAIT_SECONDS, help="seconds to wait at most")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            return run_sandbox(args)
        run = _COMMANDS.get(args.command)
        if run is None:
            raise AssertionError(f"unhandled command {args.command}")
        return run(Target(endpoint_url=args.endpoint_url, region=args.region, prefix=args.prefix), args)
    except (CliError, CertificateError) as exc:
        print(f"certctl: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("certctl: interrupted", file=sys.stderr)
        return 130


def run_issue(target: Target, args: argparse.Namespace) -> int:
    raw: dict[str, Any] = {"name": args.name, "domains": [d for d in args.domains.split(",") if d.strip()]}
    if args.account:
        raw["account"] = args.account
    if args.fallback_accounts:
        raw["fallback_accounts"] = args.fallback_accounts
    if args.key_type:
        raw["key_type"] = args.key_type
    if args.regions:
        raw["regions"] = args.regions
    if args.replace:
        raw["replace"] = True
    distribution = distribution_choice(args)
    if distribution is not None:
        raw["distribution"] = distribution
    # The state machine checks it again; checking here first saves starting an execution that must fail.
    execution_input = parse_request(raw, target.config(), target.session.region_name or "")
    if "account" not in raw:  # the execution takes the default itself, and says so if that changes the certificate's
        del execution_input["account"]
    return start_and_report(target, execution_input, args)


def start_and_report(target: Target, execution_input: dict[str, Any], args: argparse.Namespace) -> int:
    execution_arn = executions.start(target, execution_input)
    if not args.wait:
        started = {"name": execution_input["name"], "status": "started", "execution_arn": execution_arn}
        print_json(started) if args.json else print(f"started {execution_arn}")
        return 0
    if args.json:
        description = executions.wait(target, execution_arn, args.timeout, None)
    else:
        print(f"{execution_input['name']}: execution {execution_arn}", file=sys.stderr, flush=True)
        with WaitDisplay(str(execution_input["name"])) as progress:  # live on a terminal, plain lines elsewhere
            description = executions.wait(target, execution_arn, args.timeout, progress)
    result = executions.result_of(description)
    print_json(result) if args.json else print_result(result, use_colour(sys.stdout))
    if result.get("status") == "already_in_progress":
        return EXIT_IN_PROGRESS
    if result.get("status") in ("issued", "renewed"):
        return 0
    # The contract: a failure ends with one clear line on stderr, whatever stdout carries.
    where = f" in {result['step']}" if result.get("step") else ""
    print(
        f"certctl: {execution_input['name']} {result.get('status')}{where}: {result.get('error')}: "
        f"{result.get('message')}",
        file=sys.stderr,
    )
    return EXIT_FAILED


def run_renew(target: Target, args: argparse.Namespace) -> int:
    item = target.inventory.get(args.name)
    if item is None:
        raise CliError(f"no certificate named {args.name!r} in the inventory; issue it with `certctl issue`")
    renew_after = str(item.get("renew_after") or "")
    now = utc_iso(dt.datetime.now(dt.UTC))
    if renew_after > now and not args.force:
        reason = item.get("renew_detail") or item.get("renew_reason") or ""
        raise CliError(f"{args.name!r} is not due until {renew_after} ({reason}); renew it anyway with --force")
    return start_and_report(target, lifecycle_input(item), args)


def run_sweep(target: Target, args: argparse.Namespace) -> int:
    sweep_input: dict[str, Any] = {"dry_run": bool(args.dry_run)}
    if args.now:
        try:
            sweep_input["now"] = utc_iso(parse_utc_iso(args.now))
        except ValueError:
            raise CliError(f"--now {args.now!r} is not an ISO 8601 time, e.g. 2027-03-01T00:00:00Z") from None
    execution_arn = executions.start(target, sweep_input, target.sweep_arn)
    description = executions.wait(target, execution_arn, args.timeout, None)
    if description["status"] != "SUCCEEDED":
        result = executions.result_of(description)
        raise CliError(f"the sweep {description['status'].lower()}: {result['error']}: {result['message']}")
    from certlib.renewal.sweep import outcome_totals  # here: the sweep module loads Powertools (a Lambda step's code)

    output = json.loads(description.get("output") or "{}")
    outcomes = outcome_totals(output)
    summary = {**output, "outcomes": outcomes, "execution_arn": execution_arn}
    if args.json:
        print_json(summary)
    else:
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "nothing due"
        more = " (more are due: the next sweep continues)" if output.get("more") else ""
        print(f"sweep as of {output.get('now')}: {output.get('due', 0)} due; {counts}{more}")
    return 0


def run_revoke(target: Target, args: argparse.Namespace) -> int:
    """Revocation runs in the stack's revoke_certificate function: it holds the keys, the operator does not."""
    payload = {"name": args.name, "reason": args.reason, "replace": not args.no_replace}
    result = invoke_function(target, target.names.function("revoke_certificate"), payload)
    replacement = result.get("replacement") or {}
    if args.wait and replacement.get("execution_arn"):
        progress = None if args.json else WaitDisplay(f"{args.name} (replacement)")
        with progress or contextlib.nullcontext():
            description = executions.wait(target, replacement["execution_arn"], args.timeout, progress)
        result["replacement"] = {**replacement, **executions.result_of(description)}
    if args.json:
        print_json(result)
    else:
        print(f"revoked {args.name} (serial {result.get('revoked_serial')}, reason {args.reason})")
        if replacement:
            print(f"  replacement: {result['replacement'].get('status') or replacement.get('outcome')}")
    return 0


def invoke_function(target: Target, function_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Invoke one of the stack's functions; its error (type and message) becomes a CliError."""
    response = target.client("lambda").invoke(FunctionName=function_name, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        raise CliError(f"{body.get('errorType', 'Error')}: {body.get('errorMessage', 'the function failed')}")
    return dict(body)


def run_status(target: Target, args: argparse.Namespace) -> int:
    """The fleet, most urgent first (certctl.status says how urgency is ranked); one certificate in full with --name."""
    now = dt.datetime.now(dt.UTC)
    items = target.inventory.all()
    if args.name:
        items = [item for item in items if item.get("name") == args.name]
        if not items:
            raise CliError(f"no certificate named {args.name!r} in the inventory")
    rows = status_rows(items, now)
    if args.json:
        document = status_document(rows, now)
        if args.name:
            document["certificates"][0]["history"] = plain(items[0].get("history") or [])
        print_json(document)
        return 0
    colour = use_colour(sys.stdout, args.color)
    print(render_status_table(rows, colour), end="")
    if args.name:
        print()
        print(render_certificate_detail(rows[0], items[0], colour), end="")
    return 0


def run_accounts_push(target: Target, args: argparse.Namespace) -> int:
    from certlib.adapters.secrets import SecretStore
    from certlib.pushed_accounts import deploy_only_differences, pushed_value

    loaded = load_accounts_file(args.file)
    names = target.names
    store = SecretStore(target.client("secretsmanager"), names.secret_prefix, names.kms_alias)
    pushed = {alias: store.put_eab_hmac_key(alias, hmac_key) for alias, hmac_key in loaded.eab_hmac_keys.items()}
    summary: dict[str, Any] = {"pushed": sorted(pushed), "secret_arns": pushed}
    if not args.keys_only:
        value = pushed_value(loaded.config)
        target.client("ssm").put_parameter(
            Name=names.accounts_parameter,
            Value=value,
            Type="String",
            Overwrite=True,
            Tier="Advanced" if len(value.encode()) > STANDARD_PARAMETER_MAX_BYTES else "Standard",
        )
        summary["accounts"] = sorted(loaded.config.accounts)
        summary["accounts_parameter"] = names.accounts_parameter
        summary["deploy_only"] = deploy_only_differences(target.deployed_config(), loaded.config)
    if args.json:
        print_json(summary)
        return 0
    print(f"stored the EAB HMAC key of: {', '.join(sorted(pushed)) or 'none'}")
    if not args.keys_only:
        in_effect = ", ".join(summary["accounts"])
        print(f"accounts in effect from the next execution: {in_effect} ({names.accounts_parameter})")
        for section in summary["deploy_only"]:
            print(f"note: {section} differs from the deployed configuration; it takes effect with cdk deploy only")
    return 0


def run_sandbox(args: argparse.Namespace) -> int:
    from certctl import sandbox_commands

    if args.action == "up":
        print(json.dumps(sandbox_commands.up(args.state_dir, dict(os.environ), iam=args.iam), indent=2))
        return 0
    if args.action == "down":
        sandbox_commands.down(args.state_dir)
        return 0
    if args.action == "prevalidate":
        return sandbox_commands.run_prevalidate(args.state_dir, args.account, args.domains)
    from certctl.demo import run_demo

    return run_demo(args.state_dir)


# Every command but `sandbox` (which needs no deployment): what runs it against the target.
_COMMANDS: dict[str, Callable[[Target, argparse.Namespace], int]] = {
    "issue": run_issue,
    "status": run_status,
    "renew": run_renew,
    "sweep": run_sweep,
    "revoke": run_revoke,
    "export": run_export,
    "migrate-distribution": run_migrate,
    "migrate-acm-tags": run_migrate_acm_tags,
    "adopt": run_adopt,
    "pkcs12-password": run_pkcs12_password,
    "accounts": run_accounts_push,
}
