"""ACM's own exportable certificates (private CA ones, and public ones requested with export enabled, since June
2025): export, keep the bundle where the distribution document reads it, and send it out again after ACM renews.

`certctl export` starts the distribution state machine with {"name", "certificate_arn", "distribution"?: {"profile":
NAME}} (a deployed distribution profile, certlib.distribution.spec; {} stops distributing): its first
step registers the certificate (an inventory item with `source: "acm"`, found by ARN later) and exports it. ACM's
"ACM Certificate Available" event with `Action: RENEWAL` for a registered ARN starts the same machine again.
"""

from __future__ import annotations

import re
from typing import Any

from certlib.adapters.stepfunctions import execution_name
from certlib.distribution.spec import parse_distribution
from certlib.distribution.state import ExportedCertificate, RecordDistributionInput
from certlib.distribution.steps import distribution_record, failed_outcome
from certlib.exceptions import CertificateCheckFailed, InvalidRequest
from certlib.lifecycle.request import certificate_name, input_object
from certlib.observability import logger
from certlib.services import Services

ACM_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]{1,64}")
SOURCE_ACM = "acm"
EXPORT_INPUT_FIELDS = ("name", "certificate_arn", "distribution")


def export_certificate(event: dict[str, Any], services: Services) -> ExportedCertificate:
    """{"input": {"name", "certificate_arn", "distribution"?}, "execution_id"}: register, export, store the bundle.

    The operator's input is checked here (InvalidRequest), not parsed into state: it is a request. Returns the
    certificate exported, its secret and its distribution ({"profile": NAME} | None; left out of the input: the
    inventory's).
    Raises InvalidRequest (bad input, or a name or ARN that belongs to another certificate), ExportRefused (ACM will
    not export it), CertificateCheckFailed, TransientError.
    """
    # The key code (cryptography): only in this step, not in record_distribution and handle_certificate_available,
    # which share this module (cold start).
    from certlib.distribution.pkcs12 import profile_for_bundle, with_pkcs12
    from certlib.keys import (
        facts_of,
        key_matches_certificate,
        load_private_key,
        private_key_to_pem,
        split_pem_chain,
        to_pem,
    )

    raw = input_object(event.get("input"), EXPORT_INPUT_FIELDS)
    name = certificate_name(raw)
    given_arn = raw.get("certificate_arn")
    match = ACM_ARN_PATTERN.fullmatch(given_arn) if isinstance(given_arn, str) else None
    if match is None:
        raise InvalidRequest(f"'certificate_arn' must be an ACM certificate ARN, got {given_arn!r}")
    arn = match.group(0)
    region = match.group(1)
    item = services.inventory.get(name)
    if item is not None and item.get("source") != SOURCE_ACM:
        raise InvalidRequest(f"{name!r} is a certificate this pipeline issues through ACME; export under another name")
    if item is not None and item.get("certificate_arn") not in (None, arn):
        raise InvalidRequest(f"{name!r} is registered for {item['certificate_arn']}; use another name")
    owner = services.inventory.name_for_arn(arn)
    if owner not in (None, name):
        raise InvalidRequest(f"{arn} is registered as {owner!r} already")
    if "distribution" in raw:
        config = services.config_with_profile(raw["distribution"])
        distribution = parse_distribution(raw["distribution"], config.distribution_profiles)
    else:  # send_distribution checks it against the deployed profiles
        distribution = (item or {}).get("distribution") or None

    passphrase = services.secrets.export_passphrase(name)
    certificate_pem, chain_pem, encrypted_key = services.acm(region).export_certificate(arn, passphrase)
    certificate, *rest = split_pem_chain(certificate_pem)
    chain = [*rest, *split_pem_chain(chain_pem)] if chain_pem.strip() else rest
    key = load_private_key(encrypted_key, password=passphrase.encode())
    if not key_matches_certificate(certificate, key):
        raise CertificateCheckFailed(f"the key ACM exported for {arn} does not match its certificate")
    facts = facts_of(certificate)
    fresh = {
        "certificate": to_pem([certificate]),
        "chain": to_pem(chain),
        "private_key": private_key_to_pem(key),
        "serial": facts.serial,
        "source": SOURCE_ACM,
        "certificate_arn": arn,
    }
    previous = services.secrets.certificate(name)
    profile = profile_for_bundle(services, distribution, name)
    bundle = with_pkcs12(name, fresh, previous.value if previous else None, profile)
    secret_arn = services.secrets.put_certificate(name, bundle)
    services.inventory.register_export(
        name,
        arn,
        region,
        {
            "source": SOURCE_ACM,
            "certificate_arn": arn,
            "secret_arn": secret_arn,
            "serial": facts.serial,
            "not_before": facts.not_before,
            "not_after": facts.not_after,
            "domains": facts.domains,
            "key_type": facts.key_type,
            "issuer": facts.issuer,
        },
    )
    logger.info("exported from ACM", extra={"certificate": name, "certificate_arn": arn, "serial": facts.serial})
    return ExportedCertificate(
        name=name,
        certificate_arn=arn,
        serial=facts.serial,
        not_before=facts.not_before,
        not_after=facts.not_after,
        secret_arn=secret_arn,
        distribution=distribution,
        execution_id=str(event.get("execution_id", "")),
    )


def record_distribution(state: RecordDistributionInput, services: Services) -> dict[str, Any]:
    """Last step of the distribution machine: the outcome on the inventory item, and the execution's result.

    Without an export there is nothing to record: the error is returned for the Fail state that follows.
    """
    export = state.export
    error = state.error
    if export is None:
        return {"status": "failed", "error": (error or {}).get("Error", "Unknown")}
    name = export.name
    execution_id = export.execution_id
    spec = export.distribution
    outcome = state.distribution
    if spec is not None and outcome is None:
        outcome = failed_outcome(error)
    result_fields, values, remove = distribution_record(spec, outcome, execution_id)
    services.inventory.update(
        name,
        None,
        values,
        event={
            "event": "exported",
            "execution": execution_id,
            "serial": export.serial,
            **({"distribution": outcome["status"]} if outcome else {}),
        },
        remove=tuple(remove),
    )
    return {
        "name": name,
        "status": "exported",
        "certificate_arn": export.certificate_arn,
        "serial": export.serial,
        "not_before": export.not_before,
        "not_after": export.not_after,
        **result_fields,
    }


def handle_certificate_available(event: dict[str, Any], services: Services) -> dict[str, Any]:
    """ACM's "ACM Certificate Available" event: after ACM renewed an exported certificate of ours, export and
    distribute it again. Issuance, re-imports (our own imports send those) and certificates not registered with
    `certctl export` are left alone."""
    arns = [str(arn) for arn in event.get("resources") or []]
    detail = event.get("detail") or {}
    if event.get("detail-type") != "ACM Certificate Available" or not arns:
        return {"outcome": "ignored", "reason": "not an ACM Certificate Available event"}
    if detail.get("Action") != "RENEWAL":
        return {"outcome": "ignored", "reason": f"action {detail.get('Action')!r} is not a renewal"}
    arn = arns[0]
    name = services.inventory.name_for_arn(arn)
    item = services.inventory.get(name) if name else None
    if item is None or item.get("source") != SOURCE_ACM:
        logger.info("renewal of a certificate not registered for export", extra={"certificate_arn": arn})
        return {"outcome": "not_registered", "certificate_arn": arn}
    execution_arn = services.distribution.start_with(
        execution_name("acm-renew", str(name)), {"name": name, "certificate_arn": arn}
    )
    return {"outcome": "started", "name": name, "certificate_arn": arn, "execution_arn": execution_arn}
