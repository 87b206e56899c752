"""The grants of the functions that watch the fleet (MONITORING_GRANTS)."""

from __future__ import annotations

from collections.abc import Callable

from stacks.permissions.common import LIFECYCLE_EXECUTIONS, AccessTargets, Grant, iam_statement
from stacks.permissions.lifecycle import clean_up_failure


def _report_expiry(t: AccessTargets) -> list[Grant]:
    """Read every inventory item (a Scan: the report covers the whole fleet, hourly)."""
    return [Grant(iam_statement("ScanInventory", ["dynamodb:Scan"], [t.table_arn]))]


def _clean_up_stopped_execution(t: AccessTargets) -> list[Grant]:
    """Read a stopped lifecycle execution's history (its last state), then what clean_up_failure may do."""
    history = iam_statement("ReadLifecycleHistory", ["states:GetExecutionHistory"], [t.lifecycle_executions])
    return [Grant(history, LIFECYCLE_EXECUTIONS), *clean_up_failure(t)]


# Functions outside the lifecycle that watch the fleet (certlib.resources.MONITORING_FUNCTIONS).
MONITORING_GRANTS: dict[str, Callable[[AccessTargets], list[Grant]]] = {
    "report_expiry": _report_expiry,
    "clean_up_stopped_execution": _clean_up_stopped_execution,
}
