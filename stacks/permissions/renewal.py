"""The renewals' grants (RENEWAL_GRANTS): each starts lifecycle executions."""

from __future__ import annotations

from collections.abc import Callable

from stacks.permissions.common import AccessTargets, Grant, iam_statement, notification_grants, read_account_keys
from stacks.permissions.lifecycle import revoke_at_private_cas


# --- renewals (certlib.resources.RENEWAL_FUNCTIONS): each starts lifecycle executions -------------------------------
def _start_lifecycle(t: AccessTargets) -> Grant:
    if not t.lifecycle_state_machine:
        raise ValueError("the renewal functions' grants need the lifecycle state machine's ARN")
    return Grant(iam_statement("StartLifecycle", ["states:StartExecution"], [t.lifecycle_state_machine]))


def _find_due_certificates(t: AccessTargets) -> list[Grant]:
    """One Query on the renewal index; not the table itself."""
    return [Grant(iam_statement("QueryRenewalIndex", ["dynamodb:Query"], [t.renewal_index]))]


def _renewal_starter(t: AccessTargets) -> list[Grant]:
    """start_renewal, handle_expiry_event: read the item, mark it queued, count the account's order, start."""
    return [_start_lifecycle(t)]


def _check_revocations(t: AccessTargets) -> list[Grant]:
    """Every active certificate (a Scan; the item keeps its issuer to verify a revocation answer), then replace it.
    No certificate secret: nothing here can read a private key."""
    return [
        Grant(iam_statement("ScanInventory", ["dynamodb:Scan"], [t.table_arn])),
        _start_lifecycle(t),
        *notification_grants(t),
    ]


def _revoke_certificate(t: AccessTargets) -> list[Grant]:
    """Revoke through the ACME account that issued it (the certificate is on the item), record it, and start the
    replacement. No certificate secret: nothing here can read a private key."""
    return [
        read_account_keys(t),
        *revoke_at_private_cas(t),
        _start_lifecycle(t),
        *notification_grants(t),
    ]


RENEWAL_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "find_due_certificates": _find_due_certificates,
    "start_renewal": _renewal_starter,
    "handle_expiry_event": _renewal_starter,
    "check_revocations": _check_revocations,
    "revoke_certificate": _revoke_certificate,
}
