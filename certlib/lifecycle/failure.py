"""Step on every failure path: remove our TXT values, drop an unused pending key, record the error, release the lock."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from certlib.adapters.inventory import utc_now
from certlib.adapters.route53 import group_by_zone
from certlib.exceptions import CertificateError, CertificateLocked, TransientError
from certlib.lifecycle.certificate import LOCK_FIELDS, ORDER_FIELDS
from certlib.lifecycle.dns import route53_of
from certlib.notifications import failure_event, problem_type_of
from certlib.observability import logger, record_lifecycle_failure
from certlib.resources import LIFECYCLE_STEPS, camel_case
from certlib.runtime import Services


def describe_error(error: dict[str, Any] | None) -> dict[str, str]:
    """{error, message, step, problem} from a Step Functions error object {Error, Cause}.

    `problem` is the CA's problem type (e.g. "unauthorized") when the error is the CA's, else "".
    """
    error = error or {}
    name = str(error.get("Error", "Unknown"))
    cause = str(error.get("Cause", ""))
    try:
        message = str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        message = cause
    step = next((s for s in LIFECYCLE_STEPS if message.startswith(f"{s}: ")), "")
    return {"error": name, "message": message, "step": step, "problem": problem_type_of(name, message) or ""}


def clean_up_failure(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """Safe to repeat. Raises TransientError (after doing the rest) when a TXT value could not be removed yet."""
    state = event.get("state") or {}
    execution_id = str(event.get("execution_id", ""))
    request = state.get("request") or {}
    name = request.get("name") or state.get("name")
    failure = describe_error(state.get("error"))
    unremoved: list[str] = []
    challenges = (state.get("order") or {}).get("challenges") or []
    for zone, values_by_name in group_by_zone(challenges).items():
        try:
            route53_of(services, zone).remove_txt_values(zone.zone_id, values_by_name)
        except CertificateError as exc:
            logger.warning("could not remove challenge records", extra={"zone_id": zone.zone_id, "reason": str(exc)})
            unremoved.append(zone.zone_id)
    recorded = False
    if isinstance(name, str) and name:
        _drop_pending_key(services, name, (state.get("order") or {}).get("url"))
        status = "renewal_failed" if request.get("renewal") else "failed"
        recorded = _record_failure(services, name, execution_id, failure, status)
        _announce_failure(services, name, request, execution_id, failure)
    if unremoved:
        raise TransientError(f"challenge records not removed yet in zone(s) {', '.join(unremoved)}")
    return {"challenges_removed": len(challenges), "failure_recorded": recorded, **failure}


def _drop_pending_key(services: Services, name: str, order_url: str | None) -> None:
    stored = services.secrets.certificate(name)
    if stored is None or not order_url or stored.value.get("pending_order_url") != order_url:
        return
    bundle = {k: v for k, v in stored.value.items() if k not in ("pending_private_key", "pending_order_url")}
    services.secrets.put_certificate(name, bundle)


# On the inventory item: the execution whose failure was announced, so a retried cleanup does not announce it twice.
FAILURE_NOTIFIED = "failure_notified"


def _announce_failure(
    services: Services, name: str, request: dict[str, Any], execution_id: str, failure: dict[str, str]
) -> bool:
    """`Certificate Renewal Failed` on EventBridge and the SNS topic, once per execution; False when done already.

    Raises TransientError when EventBridge or SNS is briefly unavailable: the state machine retries this step.
    """
    item = services.inventory.get(name) or {}
    if execution_id and item.get(FAILURE_NOTIFIED) == execution_id:
        return False
    certificate = {
        "name": name,
        "domains": request.get("domains") or item.get("domains") or [],
        "account": request.get("account") or item.get("account"),
        "key_type": request.get("key_type") or item.get("key_type"),
    }
    renewal = bool(request.get("renewal", bool(item.get("certificate_arns"))))
    deployment = services.settings.resource_prefix
    event = failure_event(deployment, certificate, failure, renewal, execution_id or None, current=item)
    services.events.emit(event)
    record_lifecycle_failure(deployment, failure["step"], failure["error"], event.detail["problem_type"])
    if item and execution_id:
        with contextlib.suppress(CertificateLocked):  # raised when the item is gone: nothing to mark then
            services.inventory.update(name, None, {FAILURE_NOTIFIED: execution_id})
    return True


def _record_failure(services: Services, name: str, execution_id: str, failure: dict[str, str], status: str) -> bool:
    """Record the error and release the lock, only while this execution holds it (never touch another's)."""
    try:
        services.inventory.update(
            name,
            execution_id,
            {"status": status, "last_error": {**failure, "at": utc_now(), "execution": execution_id}},
            event={"event": "failed", "execution": execution_id, "error": failure["error"]},
            remove=(*LOCK_FIELDS, *ORDER_FIELDS),
        )
    except CertificateLocked:
        return False
    return True


# Step Functions' own names for an execution that ended without reaching CleanUpFailure.
STOPPED_EXECUTION_ERRORS = {"TIMED_OUT": "States.Timeout", "ABORTED": "ExecutionAborted"}
STATUS_CHANGE = "Step Functions Execution Status Change"


def clean_up_stopped_execution(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """EventBridge's status change of a lifecycle execution that timed out or was aborted: what CleanUpFailure does
    after a caught error, from the last state the execution recorded (its history). Safe to repeat, as the rule may
    deliver an event twice: only the execution that still holds the lock is recorded, and announced once.

    Raises TransientError when the history cannot be read yet, or a TXT value could not be removed yet (after doing
    the rest): the rule's target retries.
    """
    detail = event.get("detail") or {}
    status = str(detail.get("status", ""))
    execution_arn = str(detail.get("executionArn", ""))
    if event.get("detail-type") != STATUS_CHANGE or status not in STOPPED_EXECUTION_ERRORS or not execution_arn:
        return {"outcome": "ignored", "reason": "not a timed-out or aborted execution"}
    found = services.execution_history.last_state(execution_arn)
    if found is None:  # it stopped before ValidateRequest took the lock: nothing was written
        return {"outcome": "nothing_to_clean_up", "execution_arn": execution_arn, "status": status}
    state_name, state = found
    step = next((s for s in LIFECYCLE_STEPS if camel_case(s) == state_name), "")
    cause = f"the execution {status.lower().replace('_', ' ')} in state {state_name}"
    error = {"Error": STOPPED_EXECUTION_ERRORS[status], "Cause": f"{step}: {cause}" if step else cause}
    result = clean_up_failure({"state": {**state, "error": error}, "execution_id": execution_arn}, services)
    return {"outcome": "cleaned_up", "execution_arn": execution_arn, "status": status, **result}
