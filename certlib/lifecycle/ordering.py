"""Steps that talk to the CA about the order: create it, answer its challenges, check it, finalize it.

Each does one phase and returns; "not yet" is an exception the state machine waits on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certlib.adapters.acme_client import AcmeSession, Challenge, order_from_dict, order_status, order_to_dict
from certlib.adapters.inventory import ORDER_EXECUTION, ORDER_URL
from certlib.exceptions import (
    AcmeAccountGone,
    AcmeProblem,
    ChallengeInvalid,
    NotPrevalidated,
    OrderInvalid,
    OrderPending,
    OrderRejected,
)
from certlib.lifecycle.request import Request
from certlib.lifecycle.state import AcmeStepInput, Order, OrderStepInput
from certlib.observability import logger
from certlib.services import Services

if TYPE_CHECKING:
    from acme.messages import OrderResource

LIVE_ORDER_STATES = frozenset({"pending", "ready", "processing", "valid"})


def session_for(step: AcmeStepInput, services: Services) -> AcmeSession:
    """The request's ACME session; the step's account (EnsureAccount's result) names the URL it must use: a warm
    session of an account registered again since (the CA lost it) is replaced. Its `paused_until` (the account's
    Retry-After pause as EnsureAccount read it) stands for the inventory's on a first attempt: a retry, which may
    follow a rateLimited answer, reads the pause again (Services.check_acme_pause)."""
    account = services.account(step.request.account)
    ensured = step.account if step.account is not None and step.account.alias == account.alias else None
    return services.acme(
        account,
        registered_url=ensured.url if ensured is not None else None,
        known_pause=ensured.paused_until if ensured is not None and step.first_attempt else None,
    )


def create_order(step: AcmeStepInput, services: Services) -> Order:
    """A new order for the request's names, or the live one this execution made before a retry.

    Returns the order and the DNS-01 challenges still to solve (already valid authorizations are skipped), each
    with its hosted zone, and `has_challenges`: without any, the state machine skips the DNS-01 states.
    Raises NotPrevalidated when a name the account declares pre-validated still asks for a challenge; OrderInvalid,
    OrderRejected (newOrder refused), AcmeAccountGone, AcmeProblem, AcmeRateLimited, AcmeUnavailable, TransientError.
    """
    request = step.request
    session = session_for(step, services)
    # Only a retry can find an order this execution made (a crash or a lost answer after newOrder): a first attempt
    # does not read the item for it.
    order = None if step.first_attempt else _order_of_this_execution(request, services, session)
    if order is None:
        try:
            order = _new_order(request, services, session)
        except (OrderRejected, AcmeAccountGone):  # the latter: the lifecycle registers the account again
            raise
        except AcmeProblem as problem:  # the CA will not open an order for these names: its side (CA_SIDE_ERRORS)
            raise OrderRejected(problem.problem_type, problem.detail, context="new order") from problem
        services.inventory.update(
            request.name, request.execution_id, {ORDER_URL: order.uri, ORDER_EXECUTION: request.execution_id}
        )
    if order_status(order) not in LIVE_ORDER_STATES:
        raise OrderInvalid("orderInvalid", f"the new order is {order_status(order)}: {order.body.error}")
    unvalidated = session.unvalidated_authorizations(order) if order_status(order) == "pending" else []
    # a name this account declares pre-validated may have a zone anyway (for a fallback account that must validate it)
    refused = [u.domain for u in unvalidated if u.domain not in request.zones or u.domain in request.prevalidated]
    _refuse_unvalidated(request, refused)
    challenges = [session.dns_challenge(u) for u in unvalidated]
    return Order.from_dict(
        {
            **order_to_dict(order),
            # Each value goes where the domain's DNS-01 record lives: its zone, after any CNAME delegation.
            "challenges": [{**c.to_dict(), **request.zones[c.domain]} for c in challenges],
            "has_challenges": bool(challenges),
        }
    )


def _refuse_unvalidated(request: Request, domains: list[str]) -> None:
    """Raises NotPrevalidated naming the pre-validated names the CA still asks a challenge for: with no zone of ours
    looked up for them, they cannot be validated here."""
    if not domains:
        return
    names, them = ", ".join(domains), "it" if len(domains) == 1 else "them"
    raise NotPrevalidated(
        f"the CA has not validated {names} for ACME account {request.account!r}, which declares {them} pre-validated "
        f"('prevalidated-domains'): validate {them} in the CA's portal (in the sandbox: certctl sandbox prevalidate "
        f"--account {request.account} --domains {','.join(domains)}), or give {them} a Route 53 hosted zone and take "
        f"{them} out of 'prevalidated-domains'; then retry"
    )


def _new_order(request: Request, services: Services, session: AcmeSession) -> OrderResource:
    """A renewal names the certificate it replaces (RFC 9773), which exempts it from the CA's rate limits."""
    item = request.recorded if request.recorded is not None else services.inventory.get(request.name) or {}
    replaces = (
        item.get("ari_certificate_id") if request.renewal and item.get("issued_account") == request.account else None
    )
    if not replaces:
        return session.new_order(request.domains)
    try:
        return session.new_order(request.domains, replaces=str(replaces))
    except AcmeAccountGone:
        raise  # not about 'replaces': ordering again would fail the same way (the lifecycle registers again)
    except AcmeProblem as problem:  # e.g. alreadyReplaced: order without it rather than not at all
        logger.warning("the CA refused 'replaces'; ordering without it", extra={"problem": problem.problem_type})
        return session.new_order(request.domains)


def _order_of_this_execution(request: Request, services: Services, session: AcmeSession) -> OrderResource | None:
    item = services.inventory.get(request.name) or {}
    if item.get("order_execution") != request.execution_id or not item.get("order_url"):
        return None
    order = session.order(str(item["order_url"]))
    return order if order_status(order) in LIVE_ORDER_STATES else None


def answer_challenges(step: OrderStepInput, services: Services) -> None:
    """Tell the CA to validate each challenge that has not started yet."""
    session = session_for(step, services)
    for challenge in step.order.challenges:
        session.answer(Challenge.from_dict(challenge.to_dict()))


def check_order(step: OrderStepInput, services: Services) -> None:
    """Raises OrderPending while the CA validates; ChallengeInvalid with the CA's problem when it failed."""
    session = session_for(step, services)
    order = session.order(step.order.url)
    if order_status(order) == "pending":
        raise OrderPending(f"the CA is still validating {len(order.body.authorizations)} authorization(s)")
    if order_status(order) == "invalid":
        domain, problem_type, detail = session.failed_challenge_problem(order)
        context = f"the CA could not validate {domain or 'the order'}"
        raise ChallengeInvalid(problem_type, detail, context=context, identifier=domain or None)


def finalize_order(step: OrderStepInput, services: Services) -> None:
    """Finalize with a CSR from a fresh key, kept as the pending key in the certificate's secret.

    Safe to repeat: the pending key of this order is reused, and an order already finalized is left alone.
    CheckOrder saw the order ready, so it is not read again first: only when the CA refuses to finalize it
    (orderNotReady) is it read, to tell an order finalized before (a retried step) from one that is not ready.
    """
    request = step.request
    session = session_for(step, services)
    order = order_from_dict(step.order.to_dict())
    from certlib.keys import csr_pem  # key code: only in the step that makes the key (cold start of the others)
    from certlib.lifecycle.keeping import pending_private_key

    key = pending_private_key(request, services, str(order.uri))
    try:
        session.finalize(order, csr_pem(key, request.domains))
    except AcmeProblem as refused:
        if refused.problem_type != "orderNotReady":
            raise
        current = session.order(str(order.uri))
        if order_status(current) in ("processing", "valid"):
            return
        raise OrderInvalid(
            "orderNotReady", f"the order is {order_status(current)}, not ready to finalize: {current.body.error}"
        ) from refused
