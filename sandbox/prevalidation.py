"""`certctl sandbox prevalidate --account ALIAS --domains D1,D2`: the sandbox's CA validates names for an ACME account
out of band, as Sectigo's portal does for OV/EV names, so the pipeline then issues them with no Route 53 zone.

It acts with the operator's credentials against the running sandbox (its sandbox.json): it registers the account the
way ensure_account does (or finds the key the pipeline registered, in Secrets Manager), orders the names from Pebble,
serves each DNS-01 value through the sandbox DNS (sandbox.dns_overrides: the names need no Route 53 zone), answers
the challenges and waits until every authorization is valid. The order is never finalized: Pebble reuses an
account's valid authorizations for its next orders (PEBBLE_AUTHZREUSE=100, sandbox.pebble), which the pipeline then
finds valid and needs no challenge for.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acme import messages

from certlib.adapters.acme_client import AcmeSession, Challenge
from certlib.lifecycle.account import ensure_registered
from certlib.lifecycle.request import normalize_domains
from certlib.resources import ResourceNames
from certlib.services import Services, aws_session, new_client
from certlib.settings import Settings
from sandbox.dns_overrides import served_txt
from sandbox.process import DeadlineExceeded, wait_until

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

VALIDATION_TIMEOUT_SECONDS = 30.0
UNUSED_LOCK_TTL_SECONDS = 900  # Settings needs one; nothing here takes a lock


class PrevalidationError(Exception):
    """The CA did not validate a name; the message says which and why."""


def prevalidate(info: Mapping[str, Any], alias: str, domains: list[str]) -> dict[str, Any]:
    """Validate `domains` at the sandbox's CA for ACME account `alias`; returns what was done.

    Raises ConfigError for an unknown alias, InvalidRequest for a malformed name, PrevalidationError when the CA does
    not validate a name, and what registering or ordering raises (AcmeProblem, TransientError).
    """
    names = normalize_domains(domains)
    services = operator_services(info)
    account = services.config().account(alias)
    ensure_registered(account, services)
    session = services.acme(account)
    order = session.new_order(names)
    challenges = [session.dns_challenge(unvalidated) for unvalidated in session.unvalidated_authorizations(order)]
    values: dict[str, list[str]] = {}
    for challenge in challenges:
        values.setdefault(challenge.record_name, []).append(challenge.value)
    with served_txt(Path(info["dns_overrides_file"]), values):
        for challenge in challenges:
            session.answer(challenge)
        _wait_until_valid(session, challenges)
    validated = sorted({challenge.domain for challenge in challenges})
    return {
        "account": account.alias,
        "domains": names,
        "validated": validated,
        "already_valid": [name for name in names if name not in validated],
        # issuing a name the account does not declare pre-validated still needs a Route 53 zone (ValidateRequest)
        "not_declared_prevalidated": [name for name in names if not account.is_prevalidated(name)],
    }


def operator_services(info: Mapping[str, Any]) -> Services:
    """The pipeline's adapters with the operator's (unrestricted) credentials of the sandbox in `info`."""
    session = aws_session(info["region"], info["aws_access_key_id"], info["aws_secret_access_key"])
    endpoint_url = info["aws_endpoint_url"]
    names = ResourceNames(info["resource_prefix"])
    kms: KMSClient = new_client(session, "kms", endpoint_url=endpoint_url)
    key_arn = kms.describe_key(KeyId=names.kms_alias)["KeyMetadata"]["Arn"]
    settings = Settings(
        inventory_table=names.inventory_table,
        config_parameter=names.config_parameter,
        secret_prefix=names.secret_prefix,
        kms_key_id=key_arn,  # the key the functions' secrets use (their KMS_KEY_ID)
        lock_ttl_seconds=UNUSED_LOCK_TTL_SECONDS,
        resource_prefix=names.prefix,
    )
    return Services(settings, session, endpoint_url=endpoint_url)


def _wait_until_valid(session: AcmeSession, challenges: list[Challenge]) -> None:
    """Wait until the CA has validated every challenge's authorization; raises PrevalidationError on a failure."""

    def all_valid() -> bool:
        for challenge in challenges:
            authorization = session.authorization(challenge.authorization_url)
            if authorization.status == messages.STATUS_INVALID:
                problems = [str(c.error.detail or c.error.typ) for c in authorization.challenges if c.error is not None]
                raise PrevalidationError(
                    f"the CA could not validate {challenge.domain}: {'; '.join(problems) or 'authorization invalid'}"
                )
            if authorization.status != messages.STATUS_VALID:
                return False
        return True

    what = f"the CA validating {', '.join(challenge.domain for challenge in challenges)}"
    try:
        wait_until(all_valid, VALIDATION_TIMEOUT_SECONDS, what)
    except DeadlineExceeded as exc:
        raise PrevalidationError(str(exc)) from None
