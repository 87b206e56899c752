"""Step: move a certificate on to its next ACME account after its current one failed on the CA's side.

The lifecycle's fallback Catch (the ACME states' Catch on CA_SIDE_ERROR_NAMES, certlib.exceptions) leads here when the
request still has `fallback_accounts`, after RemoveAttemptChallenges took out the TXT values the failed attempt
published (an order that published none, or never came to be, leaves nothing: the CA lets it expire). This step
forgets the failed attempt's order (so CreateOrder makes a new one with the next account), records the switch in the
certificate's history, announces it (`Certificate Account Switched`, on EventBridge and to people), and returns the
request with the next account: the state machine goes back to EnsureAccount. The inventory keeps the account and
fallback list the request named, so a renewal tries the first account again; `issued_account` says who issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from certlib.adapters.inventory import ORDER_EXECUTION, ORDER_URL
from certlib.exceptions import CA_SIDE_ERROR_NAMES, InvalidRequest
from certlib.lifecycle.failure import describe_error
from certlib.lifecycle.request import RequestState
from certlib.lifecycle.state import FallbackStepInput
from certlib.notifications.events import ACCOUNT_SWITCHED, CertificateEvent, common_detail
from certlib.notifications.messages import closing_lines
from certlib.notifications.problems import safe_text
from certlib.services import Services


def switch_to_fallback_account(step: FallbackStepInput, services: Services) -> RequestState:
    """The lifecycle state for the next account: its request with `account` = the first fallback.

    Safe to repeat: the switch is computed from the state handed in, the inventory write is conditional on the lock,
    and the event has a stable id (EventBridge consumers de-duplicate on `event_id`). Raises InvalidRequest when the
    error is not the CA's or no fallback is left (the ASL's Catch and Choice never lead here then), CertificateLocked
    when the execution lost its lock, TransientError when DynamoDB, EventBridge or SNS is briefly unavailable.
    """
    request = step.request
    failure = describe_error(step.error)
    if failure["error"] not in CA_SIDE_ERROR_NAMES or not request.fallback_accounts:
        raise InvalidRequest(
            f"no switch of account for {request.name!r}: error {failure['error']!r} is not one of the CA's "
            f"({', '.join(CA_SIDE_ERROR_NAMES)}), or no fallback account is left"
        )
    following, *rest = request.fallback_accounts
    account = services.account(following)
    switched = replace(
        request,
        account=account.alias,
        fallback_accounts=list(rest),
        prevalidated=[domain for domain in request.domains if account.is_prevalidated(domain)],
    )
    record = {
        "event": "account_switched",
        "execution": request.execution_id,
        "from": request.account,
        "to": account.alias,
        "error": failure["error"],
        "step": failure["step"],
    }
    services.inventory.update(request.name, request.execution_id, {}, event=record, remove=(ORDER_URL, ORDER_EXECUTION))
    services.events.emit(
        account_switched_event(services.settings.resource_prefix, request.to_dict(), account.alias, failure)
    )
    # the whole state (ResultPath $): the failed attempt's order, account and error are left behind
    return RequestState(switched, account.kind)


def account_switched_event(
    deployment: str, request: Mapping[str, Any], to_account: str, failure: Mapping[str, str]
) -> CertificateEvent:
    """`Certificate Account Switched`: the request's account (`request["account"]`) failed on the CA's side with
    `failure` (describe_error), and the execution goes on with `to_account`."""
    execution = request.get("execution_id") or None
    name = str(request["name"])
    from_account = str(request["account"])
    # one per execution and account left: `to_account` stands in for the serial in the event id
    common = common_detail(ACCOUNT_SWITCHED, deployment, request, execution, f"{from_account}->{to_account}", None)
    message = safe_text(failure.get("message", ""), 1000)
    detail = {
        **common,
        "from_account": from_account,
        "to_account": to_account,
        "error": failure.get("error", ""),
        "step": failure.get("step") or None,
        "problem_type": failure.get("problem") or None,
        "message": message,
        "remaining_fallback_accounts": [str(alias) for alias in request.get("fallback_accounts") or []][1:],
    }
    lines = [
        f"The certificate {name!r} could not be obtained from ACME account {from_account!r}: the CA failed "
        f"({detail['error']}). This execution goes on with the fallback account {to_account!r}.",
        "",
        f"Names:         {', '.join(common['domains']) or '-'}",
        f"Failed step:   {detail['step'] or '-'}",
        f"Error:         {detail['error']}",
        f"ACME problem:  {detail['problem_type'] or '-'}",
        f"Message:       {message}",
        "",
        f"The next renewal tries {from_account!r} first again. If the CA keeps failing, see its status page.",
        "",
        *closing_lines(execution, name),
    ]
    subject = f"Certificate {name}: CA account {from_account} failed, switched to {to_account}"
    return CertificateEvent(ACCOUNT_SWITCHED, detail, (), subject, "\n".join(lines) + "\n")
