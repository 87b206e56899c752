"""`python -m sandbox.iam.report [USAGE_DIR]`: for each function (and state machine), the actions its role is granted
in the synthesized template that no request in the sandbox ever used: candidates to remove.

USAGE_DIR holds what each sandbox allowed, one JSON file per sandbox (`make test` collects them in build/iam-usage,
through SANDBOX_IAM_USAGE_DIR). Actions the sandbox cannot see are listed apart: CloudWatch Logs and X-Ray are
written by the Lambda runtime, not through the sandbox's endpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from certlib.resources import ResourceNames
from deploy.paths import REPO_ROOT
from sandbox.dns_account import DNS_ACCOUNT_ID, ROLE_ARN
from sandbox.iam.stack_roles import SandboxStacks, load_sandbox_stacks, physical_values, synthesis_input
from sandbox.iam.template import ResolvedStack, Role, load_templates, synthesize

DEFAULT_USAGE_DIR = REPO_ROOT / "build" / "iam-usage"
# Granted to every function by CDK for the Lambda runtime itself; never called through the sandbox's endpoint.
RUNTIME_ONLY_PREFIXES = ("logs:", "xray:")
SANDBOX_ACCOUNT = "123456789012"
REGION = "us-east-1"


def granted_actions(role: Role, managed: Mapping[str, Any]) -> set[str]:
    """Every action an Allow statement of the role's policies names (inline and attached managed)."""
    documents = list(role.inline_policies.values())
    documents += [policy.document for policy in managed.values() if policy.name in role.managed_policy_names]
    actions: set[str] = set()
    for document in documents:
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            if statement.get("Effect") != "Allow":
                continue
            named = statement.get("Action", [])
            actions.update([named] if isinstance(named, str) else named)
    return actions


def used_actions(usage_files: Iterable[Path]) -> dict[str, set[str]]:
    """{role name: actions allowed at least once} over every sandbox's usage file."""
    used: dict[str, set[str]] = {}
    for path in usage_files:
        document = json.loads(path.read_text())
        for role_arn, actions in document.get("allowed", {}).items():
            used.setdefault(role_arn.rsplit("/", 1)[-1], set()).update(actions)
    return used


def written_attributes(usage_files: Iterable[Path]) -> dict[str, dict[str, set[str]]]:
    """{role name: {DynamoDB write action: attribute names}} over every sandbox's usage file."""
    written: dict[str, dict[str, set[str]]] = {}
    for path in usage_files:
        document = json.loads(path.read_text())
        for role_arn, actions in document.get("written_attributes", {}).items():
            by_action = written.setdefault(role_arn.rsplit("/", 1)[-1], {})
            for action, names in actions.items():
                by_action.setdefault(action, set()).update(names)
    return written


def unused_by_principal(stacks: SandboxStacks, used: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """{function or state machine name: granted actions never used}, runtime-only actions left out."""
    report: dict[str, list[str]] = {}
    for stack in (stacks.workload, stacks.dns):
        for principal, role in _principals(stack).items():
            granted = granted_actions(role, stack.managed_policies)
            checkable = {action for action in granted if not action.lower().startswith(RUNTIME_ONLY_PREFIXES)}
            report[principal] = sorted(checkable - used.get(role.name, set()))
    return report


def _principals(stack: ResolvedStack) -> dict[str, Role]:
    principals = {name: stack.roles[logical_id] for name, logical_id in stack.function_roles.items()}
    principals.update({name: stack.roles[logical_id] for name, logical_id in stack.state_machine_roles.items()})
    for role in stack.roles.values():
        if role.name not in {known.name for known in principals.values()} and role.inline_policies:
            principals.setdefault(f"role {role.name}", role)
    return principals


def sandbox_stacks(prefix: str) -> SandboxStacks:
    """The stacks the sandbox synthesizes, resolved with stand-ins for what only a running sandbox knows."""
    spec = synthesis_input(
        ResourceNames(prefix), SANDBOX_ACCOUNT, REGION, DNS_ACCOUNT_ID, ROLE_ARN, "sandbox", "admin@example.test"
    )
    stand_in_zones = {"partner.test": "ZPARTNER", "validation.example.net": "ZVALIDATION"}
    templates = load_templates(synthesize(spec))
    resources: dict[str, Any] = {}
    for template in templates.values():
        resources.update(template.get("Resources", {}))
    secrets = {
        str(resource["Properties"]["Name"]): f"arn:aws:secretsmanager:{REGION}:{SANDBOX_ACCOUNT}:secret:"
        f"{resource['Properties']['Name']}-AbCdEf"
        for resource in resources.values()
        if resource["Type"] == "AWS::SecretsManager::Secret" and "Name" in resource.get("Properties", {})
    }
    physical = physical_values(resources, f"arn:aws:kms:{REGION}:{SANDBOX_ACCOUNT}:key/stand-in", secrets)
    return load_sandbox_stacks(templates, SANDBOX_ACCOUNT, REGION, DNS_ACCOUNT_ID, physical, stand_in_zones, prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.iam.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("usage_dir", nargs="?", type=Path, default=DEFAULT_USAGE_DIR)
    parser.add_argument("--prefix", default=ResourceNames().prefix)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--attributes", action="store_true", help="also: the inventory attributes each role's writes touched"
    )
    args = parser.parse_args(argv)
    files = sorted(args.usage_dir.glob("*.json")) if args.usage_dir.is_dir() else []
    if not files:
        print(f"error: no sandbox usage in {args.usage_dir}: run `make test` first (it collects them)", file=sys.stderr)
        return 2
    report = unused_by_principal(sandbox_stacks(args.prefix), used_actions(files))
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    print(f"Granted actions no request used, over {len(files)} sandbox runs in {args.usage_dir}")
    print("(CloudWatch Logs and X-Ray grants are used by the Lambda runtime, outside the sandbox: not listed)\n")
    for principal, actions in sorted(report.items()):
        print(f"{principal}: {', '.join(actions) if actions else '-'}")
    if args.attributes:
        print("\nInventory attributes each role's writes touched (for dynamodb:Attributes conditions):")
        for role, by_action in sorted(written_attributes(files).items()):
            for action, names in sorted(by_action.items()):
                print(f"{role} {action}: {', '.join(sorted(names))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
