"""Adopt a certificate already imported into ACM (by the Sectigo connector, certbot and a script, by hand): record it
as a certificate's first version, so the renewal re-imports into the same ARN and every attachment keeps working.

`plan_adoption` reads and checks; it writes nothing and raises InvalidRequest, one clear message, for what cannot be
adopted: an Amazon-issued certificate, a key ACM cannot re-import with our key types, a certificate another deployment
or another name owns (its tags, or our inventory), a name taken, names with no way to validate. An expired certificate
is adopted, and its renewal is due at once. `adopt` then tags the certificate (acm_ownership_tags: what the import
step and its role require to re-import into it) and writes the inventory item as record_result does for an issued
certificate, through the adapter's lock; both are safe to repeat, and the certificate itself is left as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from cryptography import x509

from certlib.adapters.acm import ACM_KEY_ALGORITHMS
from certlib.adapters.aws_errors import raise_classified
from certlib.adapters.inventory import (
    ACCOUNT,
    CERTIFICATE_ARNS,
    DOMAINS,
    IMPORT_FAILURES,
    ISSUED_AT,
    ISSUER,
    KEY_TYPE,
    LAST_ERROR,
    LOCK_FIELDS,
    NOT_AFTER,
    NOT_BEFORE,
    ORDER_FIELDS,
    REGIONS,
    RENEW_DETAIL,
    RENEW_REASON,
    REVOCATION,
    REVOCATION_FIELDS,
    SERIAL,
    STATUS,
)
from certlib.config import Config
from certlib.exceptions import ConfigError, InvalidRequest
from certlib.keys import facts_of, names_of, split_pem_chain
from certlib.lifecycle.request import NAME_PATTERN, challenge_places, normalize_domains
from certlib.renewal.revocation_sources import revocation_sources
from certlib.renewal.timing import RenewalPlan, plan_renewal
from certlib.resources import (
    CERTIFICATE_NAME_TAG,
    MANAGED_BY_TAG,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET,
    RENEWAL_BUCKET_ATTRIBUTE,
    acm_ownership_tags,
)
from certlib.services import Services
from certlib.utc import utc_iso

ADOPTING = "adopting"  # the item's status while an adoption writes it (a crash leaves it; adopting again completes it)
ADOPT_LOCK_SECONDS = 300
LEGACY_MANAGED_BY = MANAGED_BY_TAG  # the tag every earlier version put on its imports (certctl migrate-acm-tags)
KEY_TYPE_OF_ALGORITHM = {algorithm: key_type for key_type, algorithm in ACM_KEY_ALGORITHMS.items()}


@dataclass(frozen=True)
class AcmCertificate:
    """What ACM says of one certificate (the public parts only: ACM never returns an imported key)."""

    arn: str
    region: str
    kind: str  # ACM's Type: IMPORTED, AMAZON_ISSUED, PRIVATE
    key_algorithm: str
    in_use_by: list[str]
    tags: dict[str, str]
    certificate: x509.Certificate | None  # None unless IMPORTED
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def key_type(self) -> str | None:
        return KEY_TYPE_OF_ALGORITHM.get(self.key_algorithm)

    @property
    def domains(self) -> list[str]:
        return names_of(self.certificate) if self.certificate is not None else []


@dataclass(frozen=True)
class Adoption:
    name: str
    account: str
    key_type: str
    domains: list[str]
    certificates: list[AcmCertificate]
    plan: RenewalPlan
    expired: bool
    done_already: bool  # adopted before, exactly so: adopting again writes nothing

    def summary(self) -> dict[str, Any]:
        first = self.soonest
        return {
            "name": self.name,
            "domains": self.domains,
            "account": self.account,
            "key_type": self.key_type,
            "certificate_arns": {c.region: c.arn for c in self.certificates},
            "in_use_by": sorted({user for c in self.certificates for user in c.in_use_by}),
            "not_after": utc_iso(first.not_valid_after_utc),
            "issuer": first.issuer.rfc4514_string(),
            "expired": self.expired,
            "renew_after": utc_iso(self.plan.renew_after),
        }

    @property
    def soonest(self) -> x509.Certificate:
        certificates = [c.certificate for c in self.certificates if c.certificate is not None]
        return min(certificates, key=lambda certificate: certificate.not_valid_after_utc)


def region_of(arn: str) -> str:
    """The region of an ACM certificate ARN; raises InvalidRequest for anything else."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "acm" or not parts[5].startswith("certificate/"):
        raise InvalidRequest(f"{arn!r} is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
    return parts[3]


def read_acm_certificate(client: Any, arn: str) -> AcmCertificate:
    """Describe the certificate and, when imported, read its certificate and chain from ACM.

    Raises InvalidRequest when there is no such certificate; TransientError or AwsError when ACM fails.
    """
    try:
        described = client.describe_certificate(CertificateArn=arn)["Certificate"]
        tags = client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        certificate, chain = None, []
        if described.get("Type") == "IMPORTED":
            body = client.get_certificate(CertificateArn=arn)
            certificate, *rest = split_pem_chain(body["Certificate"])
            chain = [*rest, *split_pem_chain(body.get("CertificateChain") or "")]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise InvalidRequest(f"ACM has no certificate {arn} (check the ARN and its region)") from None
        raise_classified(exc, f"reading {arn} from ACM")
    return AcmCertificate(
        arn=arn,
        region=region_of(arn),
        kind=str(described.get("Type", "")),
        key_algorithm=str(described.get("KeyAlgorithm", "")),
        in_use_by=[str(user) for user in described.get("InUseBy") or []],
        tags={tag["Key"]: tag.get("Value", "") for tag in tags},
        certificate=certificate,
        chain=chain,
    )


def default_name(certificate: AcmCertificate) -> str:
    """The inventory name --discover gives a certificate: its first name (a wildcard's `*.` spelled `wildcard.`)."""
    first = certificate.domains[0] if certificate.domains else certificate.arn.rsplit("/", 1)[-1]
    return first.replace("*.", "wildcard.", 1)


def plan_adoption(
    certificates: list[AcmCertificate],
    name: str,
    account_alias: str | None,
    key_type: str | None,
    config: Config,
    services: Services,
    now: dt.datetime,
) -> Adoption:
    """Check that the certificates (one per region, the same names) can be adopted as `name`; writes nothing.

    Raises InvalidRequest saying what is wrong and what to do; TransientError when Route 53 or DNS does not answer.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(f"name {name!r} must be 1-128 letters, digits, '.', '_' or '-'; give one with --name")
    for certificate in certificates:
        _check_certificate(certificate, name, services)
    first = certificates[0]
    regions = [c.region for c in certificates]
    if len(set(regions)) != len(regions):
        raise InvalidRequest(f"{name!r}: give one certificate per region, got {', '.join(regions)}")
    if any(sorted(c.domains) != sorted(first.domains) or c.key_type != first.key_type for c in certificates):
        raise InvalidRequest(f"{name!r}: the certificates of each region must have the same names and key type")
    own_key_type = str(first.key_type)
    if key_type not in (None, own_key_type):
        raise InvalidRequest(
            f"{first.arn} holds a {own_key_type} key and ACM keeps the key type on re-import: leave out --key-type "
            f"(or give {own_key_type}); for {key_type}, issue a new certificate with `certctl issue`"
        )
    try:
        account = config.account(account_alias)
    except ConfigError as exc:
        raise InvalidRequest(str(exc)) from None
    domains = normalize_domains(first.domains)
    try:
        challenge_places(domains, config, account, services)
    except InvalidRequest as exc:
        raise InvalidRequest(
            f"{first.arn} ({', '.join(domains)}) could not be renewed here: {exc}. Put the name's zone where this "
            f"deployment reaches it, delegate its _acme-challenge with a CNAME, or declare it in the account's "
            f"prevalidated-domains; then adopt it"
        ) from None
    arns = {c.region: c.arn for c in certificates}
    item = services.inventory.get(name)
    if item is not None and item.get(STATUS) != ADOPTING and dict(item.get(CERTIFICATE_ARNS) or {}) != arns:
        raise InvalidRequest(
            f"name {name!r} is taken in the inventory by another certificate; adopt {first.arn} with another --name"
        )
    soonest = min((c.certificate for c in certificates if c.certificate is not None), key=_not_after)
    plan = plan_renewal(soonest.not_valid_before_utc, soonest.not_valid_after_utc, account.renew_before_days, None)
    expired = soonest.not_valid_after_utc <= now
    if expired:  # due now: `certctl adopt` starts the renewal, and the next sweep would take it anyway
        detail = f"{plan.detail}; it had expired ({utc_iso(soonest.not_valid_after_utc)}) when adopted: renewed at once"
        plan = RenewalPlan(now, plan.reason, detail)
    done = (
        item is not None
        and item.get(STATUS) != ADOPTING
        and all(
            acm_ownership_tags(services.settings.resource_prefix, name).items() <= c.tags.items() for c in certificates
        )
        and all(services.inventory.name_for_arn(c.arn) == name for c in certificates)
    )
    return Adoption(name, account.alias, own_key_type, domains, certificates, plan, expired, done)


def _not_after(certificate: x509.Certificate) -> dt.datetime:
    return certificate.not_valid_after_utc


def _check_certificate(certificate: AcmCertificate, name: str, services: Services) -> None:
    """Raises InvalidRequest unless this one certificate may become `name`'s."""
    arn = certificate.arn
    if certificate.kind != "IMPORTED" or certificate.certificate is None:
        raise InvalidRequest(
            f"{arn} was issued by ACM (type {certificate.kind}): ACM renews it itself, there is nothing to adopt. To "
            f"put an exportable one on servers, use `certctl export --certificate-arn {arn} --name N`"
        )
    if certificate.key_type is None:
        raise InvalidRequest(
            f"{arn} holds a {certificate.key_algorithm} key: ACM re-imports only with the same key type, and this "
            f"pipeline issues {', '.join(ACM_KEY_ALGORITHMS.values())}. Leave it as it is, or issue a new certificate "
            f"with `certctl issue` and move its attachments"
        )
    if not certificate.domains:
        raise InvalidRequest(f"{arn} has no DNS names in its subjectAltName: a renewal could not ask for the same ones")
    deployment = services.settings.resource_prefix
    managed_by = certificate.tags.get(MANAGED_BY_TAG[0])
    tagged_name = certificate.tags.get(CERTIFICATE_NAME_TAG)
    if managed_by == deployment and tagged_name not in (None, name):
        raise InvalidRequest(f"{arn} is already managed by this deployment as {tagged_name!r}; nothing to adopt")
    if managed_by == LEGACY_MANAGED_BY[1] and managed_by != deployment:
        raise InvalidRequest(
            f"{arn} carries {LEGACY_MANAGED_BY[0]}={LEGACY_MANAGED_BY[1]}, the tag earlier versions of this pipeline "
            f"put on their imports (as {tagged_name!r}): it belongs to a deployment already. If it is this one's, "
            f"`certctl migrate-acm-tags --apply` retags it; else leave it to the deployment that renews it"
        )
    if managed_by not in (None, deployment):
        raise InvalidRequest(
            f"{arn} is managed by another deployment ({MANAGED_BY_TAG[0]}={managed_by}): two pipelines must not "
            f"renew one certificate; adopt it there, or remove that deployment's tags first if it is gone"
        )
    owner = services.inventory.name_for_arn(arn)
    if owner not in (None, name):
        raise InvalidRequest(f"{arn} is already in this deployment's inventory as {owner!r}; nothing to adopt")


def adopt(adoption: Adoption, services: Services) -> dict[str, Any]:
    """Tag the certificates as this deployment's and record them as `adoption.name`'s first version; returns the
    summary. Nothing happens when `done_already`. Raises TransientError, AwsError, CertificateLocked (an execution
    holds the name's lock)."""
    summary = adoption.summary()
    if adoption.done_already:
        return {**summary, "outcome": "already_adopted"}
    name, owner = adoption.name, f"adopt:{adoption.name}"
    tags = acm_ownership_tags(services.settings.resource_prefix, name)
    for certificate in adoption.certificates:
        if not tags.items() <= certificate.tags.items():
            services.acm(certificate.region).tag_as_ours(certificate.arn, name)
    request = {
        DOMAINS: adoption.domains,
        ACCOUNT: adoption.account,
        KEY_TYPE: adoption.key_type,
        REGIONS: [c.region for c in adoption.certificates],
        STATUS: ADOPTING,
    }
    services.inventory.take_lock(name, owner, ADOPT_LOCK_SECONDS, request)
    for certificate in adoption.certificates:
        recorded = (services.inventory.get(name) or {}).get(CERTIFICATE_ARNS) is not None
        services.inventory.set_certificate_arn(name, owner, certificate.region, certificate.arn, has_arns=recorded)
    soonest = adoption.soonest
    facts = facts_of(soonest)
    chain = next((c.chain for c in adoption.certificates if c.certificate is soonest), [])
    issuer = chain[0] if chain else soonest  # without a chain: a self-signed certificate is its own issuer
    # Not recorded: secret_arn (ACM never gives back an imported key), issued_account and ari_certificate_id (another
    # CA issued it: the first order must not name it as the certificate it `replaces`).
    services.inventory.update(
        name,
        owner,
        {
            STATUS: "issued",
            SERIAL: facts.serial,
            NOT_BEFORE: facts.not_before,
            NOT_AFTER: facts.not_after,
            ISSUER: facts.issuer,
            ISSUED_AT: dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            RENEWAL_BUCKET_ATTRIBUTE: RENEWAL_BUCKET,
            RENEW_AFTER_ATTRIBUTE: utc_iso(adoption.plan.renew_after),
            RENEW_REASON: adoption.plan.reason,
            RENEW_DETAIL: adoption.plan.detail,
            REVOCATION: {key: _revocation(soonest, issuer).get(key) for key in REVOCATION_FIELDS},
            IMPORT_FAILURES: {},
        },
        event={"event": "adopted", "serial": facts.serial, "certificate_arns": summary["certificate_arns"]},
        remove=(*LOCK_FIELDS, *ORDER_FIELDS, LAST_ERROR),
    )
    return {**summary, "outcome": "adopted"}


def _revocation(certificate: x509.Certificate, issuer: x509.Certificate) -> dict[str, Any]:
    try:
        return revocation_sources(certificate, issuer)
    except ValueError:  # an issuer key we cannot hash: the revocation check answers "unknown" for it
        return {}
