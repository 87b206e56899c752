"""Step on every failure path: remove our TXT values, drop an unused pending key, record the error, release the lock.

What a cleanup removes is decided from the inventory, not from the state it is handed alone: that state can be an
execution's raw input (CleanUpFailure after ValidateRequest failed, or the last state of an execution stopped in
ValidateRequest), which anyone allowed to start an execution writes. A TXT value is removed, and a pending key
dropped, only while the execution holds the certificate's lock (`lock_owner` is its ARN: ValidateRequest of that very
execution took it, for a validated request), and only those of the order the execution recorded under that lock
(`order_url`, `order_execution`), at the record name and zone ValidateRequest chose for each of the certificate's
domains (`owned_by`). An input that names another certificate's records, order or name meets another execution's
lock and is left alone.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from certlib.adapters.inventory import (
    CERTIFICATE_ARNS,
    FAILURE_NOTIFIED,
    LAST_ERROR,
    LOCK_FIELDS,
    ORDER_FIELDS,
    STATUS,
)
from certlib.adapters.route53 import ZoneAccess, group_by_zone, normalize
from certlib.exceptions import CertificateError, CertificateLocked, TransientError
from certlib.lifecycle.challenge_records import route53_of
from certlib.notifications.events import failure_event
from certlib.notifications.problems import problem_type_of
from certlib.observability import logger, record_lifecycle_failure
from certlib.private_ca import KIND as PRIVATE_CA_KIND
from certlib.private_ca import issuance_reference
from certlib.resources import LIFECYCLE_STEPS, camel_case
from certlib.services import Services
from certlib.utc import utc_iso


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
    """Safe to repeat. Raises TransientError (after doing the rest) when a TXT value could not be removed yet: the
    failure is then recorded but the lock kept, so that the retry still owns (and removes) the values; the lock is
    released once they are gone (or expires, lock_ttl_seconds, if every retry fails)."""
    state = event.get("state") or {}
    execution_id = str(event.get("execution_id", ""))
    given = state.get("request")
    request: dict[str, Any] = given if isinstance(given, dict) else {}
    name = request.get("name") or state.get("name")
    failure = describe_error(state.get("error"))
    item = services.inventory.get(name) if isinstance(name, str) and name else None
    owned = owned_by(item, execution_id, state)
    unremoved: list[str] = []
    for zone, values_by_name in group_by_zone(owned.challenges).items():
        try:
            route53_of(services, zone).remove_txt_values(zone.zone_id, values_by_name)
        except CertificateError as exc:
            logger.warning("could not remove challenge records", extra={"zone_id": zone.zone_id, "reason": str(exc)})
            unremoved.append(zone.zone_id)
    recorded = False
    if isinstance(name, str) and name:
        if owned.order_url:
            _drop_pending_key(services, name, owned.order_url)
        elif (
            state.get("issuer_kind") == PRIVATE_CA_KIND
            and execution_id
            and (item or {}).get("lock_owner") == execution_id
        ):
            _drop_pending_key(services, name, issuance_reference(execution_id))  # only this execution's own key
        status = "renewal_failed" if request.get("renewal") else "failed"
        again = ((item or {}).get("last_error") or {}).get("execution") == execution_id
        recorded = _record_failure(
            services, name, execution_id, failure, status, keep_lock=bool(unremoved), again=again
        )
        _announce_failure(services, name, request, execution_id, failure)
    if unremoved:
        raise TransientError(f"challenge records not removed yet in zone(s) {', '.join(unremoved)}")
    return {"challenges_removed": len(owned.challenges), "failure_recorded": recorded, **failure}


@dataclass(frozen=True)
class Owned:
    """What a cleanup may undo: the TXT values and the pending key of the order its execution made."""

    order_url: str | None = None
    challenges: list[Mapping[str, Any]] = field(default_factory=list)


def owned_by(item: Mapping[str, Any] | None, execution_id: str, state: Mapping[str, Any]) -> Owned:
    """The part of `state` that execution `execution_id` may clean up, checked against the inventory item of the
    certificate it names: nothing unless the execution holds that item's lock; then the order it recorded under the
    lock, and of that order's challenges in `state` those for a domain of the certificate, at the record name and
    zone ValidateRequest chose for it (`request.zones`). Values are removed only where they are this order's."""
    if not execution_id or not item or item.get("lock_owner") != execution_id:
        return Owned()
    request = state.get("request") or {}
    order = state.get("order") or {}
    order_url = order.get("url")
    if (
        not isinstance(request, Mapping)
        or request.get("execution_id") != execution_id
        or not isinstance(order_url, str)
        or item.get("order_execution") != execution_id
        or item.get("order_url") != order_url
    ):
        return Owned()
    domains = {str(domain) for domain in item.get("domains") or []}
    places = request.get("zones") or {}
    challenges = [
        challenge
        for challenge in order.get("challenges") or []
        if isinstance(challenge, Mapping) and _at_its_place(challenge, domains, places)
    ]
    return Owned(order_url, challenges)


def _at_its_place(challenge: Mapping[str, Any], domains: set[str], places: Mapping[str, Any]) -> bool:
    """Whether a challenge is for one of the certificate's domains, at that domain's DNS-01 record and zone."""
    domain = challenge.get("domain")
    place = places.get(domain) if isinstance(domain, str) and domain in domains else None
    if not isinstance(place, Mapping) or not isinstance(challenge.get("value"), str):
        return False
    try:
        same_name = normalize(str(challenge["record_name"])) == normalize(str(place["record_name"]))
        return same_name and ZoneAccess.of(challenge) == ZoneAccess.of(place)
    except KeyError:
        return False


def _drop_pending_key(services: Services, name: str, order_url: str) -> None:
    """Drop the pending key of this order (owned_by: the execution's own), never another order's."""
    stored = services.secrets.certificate(name)
    if stored is None or stored.value.get("pending_order_url") != order_url:
        return
    bundle = {k: v for k, v in stored.value.items() if k not in ("pending_private_key", "pending_order_url")}
    services.secrets.put_certificate(name, bundle)


def _announce_failure(
    services: Services, name: str, request: dict[str, Any], execution_id: str, failure: dict[str, str]
) -> bool:
    """`Certificate Issuance Failed` or `Certificate Renewal Failed` on EventBridge and the SNS topic, once per
    execution (FAILURE_NOTIFIED on the item: the execution whose failure was announced, so a retried cleanup does not
    announce it twice); False when done already.

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


def _record_failure(
    services: Services,
    name: str,
    execution_id: str,
    failure: dict[str, str],
    status: str,
    *,
    keep_lock: bool = False,
    again: bool = False,
) -> bool:
    """Record the error and release the lock (unless `keep_lock`), only while this execution holds it (never touch
    another's); the item's history gets the failure once (`again`: this execution's failure is recorded already)."""
    try:
        services.inventory.update(
            name,
            execution_id,
            {STATUS: status, LAST_ERROR: {**failure, "at": utc_iso(), "execution": execution_id}},
            event=None if again else {"event": "failed", "execution": execution_id, "error": failure["error"]},
            remove=() if keep_lock else (*LOCK_FIELDS, *ORDER_FIELDS),
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

    Only a state the execution's own ValidateRequest produced is acted on: one whose request is this execution's
    (`execution_id`), for a certificate whose lock this execution holds (or whose failure it recorded, when the event
    comes again). The raw input an execution stopped in ValidateRequest leaves behind never passes: ValidateRequest
    locks only an input made of request fields alone, which holds no `request`; only the lock it may have taken is
    released, when this execution holds it (_release_lock_taken_in_validation). clean_up_failure then re-checks every
    name, zone and value against the lock (owned_by).

    Raises TransientError when the history cannot be read yet, or a TXT value could not be removed yet (after doing
    the rest): the rule's target retries.
    """
    detail = event.get("detail") or {}
    status = str(detail.get("status", ""))
    execution_arn = str(detail.get("executionArn", ""))
    if event.get("detail-type") != STATUS_CHANGE or status not in STOPPED_EXECUTION_ERRORS or not execution_arn:
        return {"outcome": "ignored", "reason": "not a timed-out or aborted execution"}
    found = services.execution_history.last_state(execution_arn)
    if found is None:  # no state recorded a request: it stopped before or while ValidateRequest ran
        return _release_lock_taken_in_validation(services, detail, execution_arn, status)
    state_name, state = found
    refusal = _not_its_own(services, execution_arn, state)
    if refusal is not None:
        logger.warning(
            "not cleaning up after a stopped execution", extra={"execution": execution_arn, "reason": refusal}
        )
        return {"outcome": "nothing_to_clean_up", "execution_arn": execution_arn, "status": status, "reason": refusal}
    step = next((s for s in LIFECYCLE_STEPS if camel_case(s) == state_name), "")
    cause = f"the execution {status.lower().replace('_', ' ')} in state {state_name}"
    error = {"Error": STOPPED_EXECUTION_ERRORS[status], "Cause": f"{step}: {cause}" if step else cause}
    result = clean_up_failure({"state": {**state, "error": error}, "execution_id": execution_arn}, services)
    return {"outcome": "cleaned_up", "execution_arn": execution_arn, "status": status, **result}


def _release_lock_taken_in_validation(
    services: Services, detail: Mapping[str, Any], execution_arn: str, status: str
) -> dict[str, Any]:
    """An execution stopped while ValidateRequest ran may hold the lock it took, with no state to say so: the
    input's name is only a lead, acted on when this very execution holds that certificate's lock (nothing else was
    written yet: no order, no record). The lock is released and the failure recorded and announced."""
    nothing = {"outcome": "nothing_to_clean_up", "execution_arn": execution_arn, "status": status}
    try:
        name = json.loads(str(detail.get("input") or "{}")).get("name")
    except (ValueError, AttributeError):
        return nothing
    item = services.inventory.get(name) if isinstance(name, str) and name else None
    if not item or item.get("lock_owner") != execution_arn:
        return nothing
    cause = f"validate_request: the execution {status.lower().replace('_', ' ')} in state ValidateRequest"
    failure = describe_error({"Error": STOPPED_EXECUTION_ERRORS[status], "Cause": cause})
    renewal = bool(item.get(CERTIFICATE_ARNS))
    recorded = _record_failure(services, name, execution_arn, failure, "renewal_failed" if renewal else "failed")
    _announce_failure(services, name, {}, execution_arn, failure)
    return {**nothing, "outcome": "cleaned_up", "challenges_removed": 0, "failure_recorded": recorded, **failure}


def _not_its_own(services: Services, execution_arn: str, state: Mapping[str, Any]) -> str | None:
    """Why `state` is not one the execution's own ValidateRequest produced (None: it is)."""
    request = state.get("request")
    name = request.get("name") if isinstance(request, Mapping) else None
    if not isinstance(request, Mapping) or not isinstance(name, str) or not name:
        return "its last state names no certificate"
    if request.get("execution_id") != execution_arn:
        return f"its last state holds the request of another execution ({request.get('execution_id')!r})"
    item = services.inventory.get(name) or {}
    if item.get("lock_owner") == execution_arn:
        return None
    if (item.get("last_error") or {}).get("execution") == execution_arn:
        return None  # its failure is recorded already (the event came again): only the announcement may be missing
    return f"certificate {name!r} is not locked by this execution"
