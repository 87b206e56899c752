"""Steps that talk to the CA about the order: create it, answer its challenges, check it, finalize it.

Each does one phase and returns; "not yet" is an exception the state machine waits on.
"""

from __future__ import annotations

from typing import Any

from certlib.adapters.acme_client import AcmeSession, OrderStatus, order_from_dict
from certlib.adapters.inventory import ORDER_EXECUTION, ORDER_URL
from certlib.exceptions import AcmeProblem, ChallengeInvalid, NotPrevalidated, OrderInvalid, OrderPending
from certlib.keys import csr_pem, generate_private_key, load_private_key, private_key_to_pem
from certlib.lifecycle.request import Request
from certlib.observability import logger
from certlib.runtime import Services

LIVE_ORDER_STATES = frozenset({"pending", "ready", "processing", "valid"})


def session_for(request: Request, services: Services) -> AcmeSession:
    return services.acme(services.account(request.account))


def create_order(state: dict[str, Any], services: Services) -> dict[str, Any]:
    """A new order for the request's names, or the live one this execution made before a retry.

    Returns the order and the DNS-01 challenges still to solve (already valid authorizations are skipped), each
    with its hosted zone, and `has_challenges`: without any, the state machine skips the DNS-01 states.
    Raises NotPrevalidated when a name the account declares pre-validated still asks for a challenge; OrderInvalid,
    AcmeProblem, AcmeRateLimited, TransientError.
    """
    request = Request.from_state(state)
    session = session_for(request, services)
    order = _order_of_this_execution(request, services, session)
    if order is None:
        order = _new_order(request, services, session)
        services.inventory.update(
            request.name, request.execution_id, {ORDER_URL: order.url, ORDER_EXECUTION: request.execution_id}
        )
    if order.status not in LIVE_ORDER_STATES:
        raise OrderInvalid("orderInvalid", f"the new order is {order.status}: {order.error}")
    unvalidated = session.unvalidated_authorizations(order) if order.status == "pending" else []
    _refuse_unvalidated(request, [u.domain for u in unvalidated if u.domain not in request.zones])
    challenges = [session.dns_challenge(u) for u in unvalidated]
    return {
        **order.to_dict(),
        # Each value goes where the domain's DNS-01 record lives: its zone, after any CNAME delegation.
        "challenges": [{**c.to_dict(), **request.zones[c.domain]} for c in challenges],
        "has_challenges": bool(challenges),
    }


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


def _new_order(request: Request, services: Services, session: AcmeSession) -> OrderStatus:
    """A renewal names the certificate it replaces (RFC 9773), which exempts it from the CA's rate limits."""
    item = services.inventory.get(request.name) or {}
    replaces = (
        item.get("ari_certificate_id") if request.renewal and item.get("issued_account") == request.account else None
    )
    if not replaces:
        return session.new_order(request.domains)
    try:
        return session.new_order(request.domains, replaces=str(replaces))
    except AcmeProblem as problem:  # e.g. alreadyReplaced: order without it rather than not at all
        logger.warning("the CA refused 'replaces'; ordering without it", extra={"problem": problem.problem_type})
        return session.new_order(request.domains)


def _order_of_this_execution(request: Request, services: Services, session: AcmeSession) -> OrderStatus | None:
    item = services.inventory.get(request.name) or {}
    if item.get("order_execution") != request.execution_id or not item.get("order_url"):
        return None
    order = session.order(str(item["order_url"]))
    return order if order.status in LIVE_ORDER_STATES else None


def answer_challenges(state: dict[str, Any], services: Services) -> None:
    """Tell the CA to validate each challenge that has not started yet."""
    request = Request.from_state(state)
    session = session_for(request, services)
    for challenge in state["order"]["challenges"]:
        session.answer(challenge["challenge_url"])


def check_order(state: dict[str, Any], services: Services) -> None:
    """Raises OrderPending while the CA validates; ChallengeInvalid with the CA's problem when it failed."""
    request = Request.from_state(state)
    session = session_for(request, services)
    order = session.order(state["order"]["url"])
    if order.status == "pending":
        raise OrderPending(f"the CA is still validating {len(order.authorization_urls)} authorization(s)")
    if order.status == "invalid":
        domain, problem_type, detail = session.failed_challenge_problem(order)
        raise ChallengeInvalid(problem_type, detail, context=f"the CA could not validate {domain or 'the order'}")


def finalize_order(state: dict[str, Any], services: Services) -> None:
    """Finalize with a CSR from a fresh key, kept as the pending key in the certificate's secret.

    Safe to repeat: the pending key of this order is reused, and an order already finalized is left alone.
    """
    request = Request.from_state(state)
    session = session_for(request, services)
    order = session.order(state["order"]["url"])
    if order.status in ("processing", "valid"):
        return
    if order.status != "ready":
        raise OrderInvalid("orderNotReady", f"the order is {order.status}, not ready to finalize: {order.error}")
    stored = services.secrets.certificate(request.name)
    bundle = dict(stored.value) if stored is not None else {}
    if bundle.get("pending_order_url") == order.url and bundle.get("pending_private_key"):
        key = load_private_key(bundle["pending_private_key"])
    else:
        key = generate_private_key(request.key_type)
        bundle.update(pending_private_key=private_key_to_pem(key), pending_order_url=order.url)
        services.secrets.put_certificate(request.name, bundle)
    session.finalize(order_from_dict(state["order"]), csr_pem(key, request.domains))
