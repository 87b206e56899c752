"""What each function may do: one list of IAM statements per step, and nothing shared but the basics.

Every statement names its actions in full (no `*` in an action). A resource holds a `*` only where the ARN cannot be
known at deploy time or the API has no resource-level permissions; such a grant carries the reason, which becomes
its cdk-nag acknowledgement.

One module per workflow: `lifecycle` (the certificate lifecycle's steps), `renewal`, `monitoring` and `distribution`,
on the building blocks of `common` (the targets, the reasons for wildcards, the basics, DNS and notifications).
"""

from __future__ import annotations

from stacks.inventory_writes import inventory_statements
from stacks.permissions.common import AccessTargets, Grant, basics
from stacks.permissions.distribution import DISTRIBUTION_GRANTS
from stacks.permissions.lifecycle import STEP_GRANTS
from stacks.permissions.monitoring import MONITORING_GRANTS
from stacks.permissions.renewal import RENEWAL_GRANTS


def grants_for(step: str, targets: AccessTargets) -> list[Grant]:
    """The step's statements, after the basics every function has and its inventory reads and writes (each write
    scoped to the attributes its step owns: stacks/inventory_writes.py); raises KeyError for an unknown step."""
    grants = (
        STEP_GRANTS.get(step) or RENEWAL_GRANTS.get(step) or DISTRIBUTION_GRANTS.get(step) or MONITORING_GRANTS[step]
    )
    inventory = [Grant(statement) for statement in inventory_statements(step, targets.table_arn)]
    return [*basics(targets), *inventory, *grants(targets)]
