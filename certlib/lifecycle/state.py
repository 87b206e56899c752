"""The lifecycle's step state, typed: what the steps of statemachine/certificate_lifecycle.asl.json take and return.

Each handler parses its event once into its step's input type (`from_dict`) and returns its step's result as a dict
(`to_dict`). The types describe the JSON the state machine already carries (ResultPath, Parameters; executions in
flight hold it): `to_dict(from_dict(x)) == x`, key for key and in the same order. An input type reads only the fields
its step needs, so a whole state (a Task without Parameters) parses too. A missing field or one of the wrong type
raises MalformedState naming it. No secret is in the state, so none is in these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from certlib.adapters.inventory import REVOCATION_FIELDS
from certlib.adapters.route53 import ZoneAccess
from certlib.exceptions import MalformedState
from certlib.lifecycle.fields import field_of, optional_field, text_or_null
from certlib.lifecycle.request import Request


@dataclass(frozen=True)
class EnsuredAccount:
    """EnsureAccount's result ($.account): the ACME account the steps after it use, and its Retry-After pause as read
    then (`paused_until`, epoch seconds, 0: none)."""

    alias: str
    url: str
    registered: bool
    paused_until: int

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "url": self.url, "registered": self.registered, "paused_until": self.paused_until}

    @classmethod
    def from_dict(cls, data: Any, where: str = "account") -> EnsuredAccount:
        """Raises MalformedState."""
        return cls(
            alias=field_of(data, "alias", str, where),
            url=field_of(data, "url", str, where),
            registered=field_of(data, "registered", bool, where),
            paused_until=field_of(data, "paused_until", int, where),
        )


@dataclass(frozen=True)
class OrderChallenge:
    """One DNS-01 challenge of the order and where its TXT value goes: the ACME adapter's Challenge
    (certlib.adapters.acme_client.Challenge.to_dict, its body as the acme library's JSON) merged with the domain's
    record place (Request.zones: the record name after any CNAME delegation, and the zone's access)."""

    domain: str
    authorization_url: str
    challenge: dict[str, Any]  # the acme library's ChallengeBody.to_json(): parsed only by the steps that answer it
    record_name: str
    value: str
    zone: ZoneAccess

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "authorization_url": self.authorization_url,
            "challenge": self.challenge,
            "record_name": self.record_name,
            "value": self.value,
            **self.zone.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> OrderChallenge:
        """Raises MalformedState."""
        return cls(
            domain=field_of(data, "domain", str, where),
            authorization_url=field_of(data, "authorization_url", str, where),
            challenge=field_of(data, "challenge", dict, where),
            record_name=field_of(data, "record_name", str, where),
            value=field_of(data, "value", str, where),
            zone=_zone_access(data, where),
        )


@dataclass(frozen=True)
class Order:
    """CreateOrder's result ($.order): the ACME order's URL and finalize URL (no body: every step that needs its
    status reads it from the CA), the challenges still to solve, and whether there are any (the ASL's Choice)."""

    url: str
    finalize_url: str
    challenges: tuple[OrderChallenge, ...]
    has_challenges: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "finalize_url": self.finalize_url,
            "challenges": [challenge.to_dict() for challenge in self.challenges],
            "has_challenges": self.has_challenges,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "order") -> Order:
        """Raises MalformedState."""
        challenges = field_of(data, "challenges", list, where)
        return cls(
            url=field_of(data, "url", str, where),
            finalize_url=field_of(data, "finalize_url", str, where),
            challenges=tuple(
                OrderChallenge.from_dict(challenge, f"{where}.challenges[{index}]")
                for index, challenge in enumerate(challenges)
            ),
            has_challenges=field_of(data, "has_challenges", bool, where),
        )


@dataclass(frozen=True)
class DnsChange:
    """One Route 53 change PublishChallenges made ($.dns_changes[]), and the zone (and role) it was made in."""

    zone: ZoneAccess
    change_id: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.zone.to_dict(), "change_id": self.change_id}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> DnsChange:
        """Raises MalformedState."""
        return cls(zone=_zone_access(data, where), change_id=field_of(data, "change_id", str, where))


def _zone_access(data: Any, where: str) -> ZoneAccess:
    """The zone (and DNS account role) a challenge or change names. Raises MalformedState."""
    return ZoneAccess(
        field_of(data, "zone_id", str, where),
        text_or_null(data, "role_arn", where),
        text_or_null(data, "external_id", where),
    )


@dataclass(frozen=True)
class PrivateCaIssuance:
    """IssueFromPrivateCa's result ($.private_ca): the CA and the certificate it is issuing."""

    ca_arn: str
    certificate_arn: str

    def to_dict(self) -> dict[str, str]:
        return {"ca_arn": self.ca_arn, "certificate_arn": self.certificate_arn}

    @classmethod
    def from_dict(cls, data: Any, where: str = "private_ca") -> PrivateCaIssuance:
        """Raises MalformedState."""
        return cls(field_of(data, "ca_arn", str, where), field_of(data, "certificate_arn", str, where))


@dataclass(frozen=True)
class StoredCertificate:
    """StoreCertificate's and CheckPrivateCaCertificate's result ($.certificate): the certificate just stored (its
    key stays in its secret: no secret here), its renewal plan, its ARI id (ACME) and its revocation sources (the
    REVOCATION_FIELDS a state from an earlier version may lack); for AWS Private CA, its ARN and issuer."""

    serial: str
    not_before: str
    not_after: str
    domains: list[str]
    key_type: str
    issuer: str
    secret_arn: str
    renew_after: str
    renew_reason: str
    renew_detail: str
    ari_certificate_id: str | None
    revocation: dict[str, Any]  # the REVOCATION_FIELDS the state has, in its order
    private_ca_certificate_arn: str | None = None  # these two only from CheckPrivateCaCertificate
    issued_by: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        issued = {"issued_by": self.issued_by} if self.issued_by is not None else {}
        return {
            **{key: getattr(self, key) for key in _CERTIFICATE_TEXT},
            "ari_certificate_id": self.ari_certificate_id,
            **self.revocation,
            **(
                {"private_ca_certificate_arn": self.private_ca_certificate_arn}
                if self.private_ca_certificate_arn
                else {}
            ),
            **issued,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "certificate") -> StoredCertificate:
        """Raises MalformedState."""
        texts = {key: field_of(data, key, str, where) for key in _CERTIFICATE_TEXT if key != "domains"}
        return cls(
            **texts,
            domains=field_of(data, "domains", list, where),
            ari_certificate_id=text_or_null(data, "ari_certificate_id", where),
            revocation={key: value for key, value in data.items() if key in REVOCATION_FIELDS},
            private_ca_certificate_arn=optional_field(data, "private_ca_certificate_arn", str, where),
            issued_by=optional_field(data, "issued_by", dict, where),
        )


_CERTIFICATE_TEXT = (
    "serial",
    "not_before",
    "not_after",
    "domains",
    "key_type",
    "issuer",
    "secret_arn",
    "renew_after",
    "renew_reason",
    "renew_detail",
)


# --- the steps' inputs ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountStepInput:
    """EnsureAccount's input (the whole state): with `account_gone` (a later step heard `accountDoesNotExist`), the
    account is registered again."""

    request: Request
    account_gone: bool

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> AccountStepInput:
        """Raises MalformedState."""
        return cls(Request.from_state(state), "account_gone" in state)


@dataclass(frozen=True)
class AcmeStepInput:
    """What a step that calls the CA is handed (Parameters): the request, EnsureAccount's result (absent in a state
    from a caller that does not pass it) and the state's retry count (`attempt`: $$.State.RetryCount)."""

    request: Request
    account: EnsuredAccount | None
    attempt: int | None

    @property
    def first_attempt(self) -> bool:
        """Whether the step runs for the first time in this state: no earlier attempt of it (a crash, a rateLimited
        answer, a write whose answer was lost) can have left anything to pick up. A state without the count (a
        caller that does not say) counts as a retry: the step then reads what it would otherwise take from the
        state."""
        return self.attempt == 0

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> AcmeStepInput:
        """Raises MalformedState."""
        return cls(*_acme_fields(state))


@dataclass(frozen=True)
class OrderStepInput(AcmeStepInput):
    """AcmeStepInput with CreateOrder's order: AnswerChallenges, CheckOrder, FinalizeOrder, StoreCertificate."""

    order: Order

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> OrderStepInput:
        """Raises MalformedState."""
        return cls(*_acme_fields(state), order=Order.from_dict(field_of(state, "order", dict)))


def _acme_fields(state: Mapping[str, Any]) -> tuple[Request, EnsuredAccount | None, int | None]:
    account = optional_field(state, "account", dict)
    return (
        Request.from_state(state),
        EnsuredAccount.from_dict(account) if account is not None else None,
        optional_field(state, "attempt", int),
    )


@dataclass(frozen=True)
class ChallengesStepInput:
    """PublishChallenges' and RemoveChallenges' input (the whole state): the order whose TXT values they write or
    take out."""

    order: Order

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> ChallengesStepInput:
        """Raises MalformedState."""
        return cls(Order.from_dict(field_of(state, "order", dict)))


@dataclass(frozen=True)
class DnsChangesStepInput:
    """CheckDnsChange's input (the whole state): PublishChallenges' changes (none: nothing to wait for)."""

    dns_changes: tuple[DnsChange, ...]

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> DnsChangesStepInput:
        """Raises MalformedState."""
        changes = optional_field(state, "dns_changes", list) or []
        return cls(tuple(DnsChange.from_dict(change, f"dns_changes[{index}]") for index, change in enumerate(changes)))


@dataclass(frozen=True)
class PrivateCaStepInput:
    """CheckPrivateCaCertificate's input (the whole state): the request and IssueFromPrivateCa's result."""

    request: Request
    private_ca: PrivateCaIssuance

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> PrivateCaStepInput:
        """Raises MalformedState."""
        return cls(Request.from_state(state), PrivateCaIssuance.from_dict(field_of(state, "private_ca", dict)))


@dataclass(frozen=True)
class ImportStepInput:
    """ImportToRegion's input (the Map's ItemSelector): one region, the request, and the certificate just stored."""

    region: str
    request: Request
    certificate: StoredCertificate

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> ImportStepInput:
        """Raises MalformedState."""
        certificate = StoredCertificate.from_dict(field_of(item, "certificate", dict))
        return cls(field_of(item, "region", str), Request.from_state(item), certificate)


@dataclass(frozen=True)
class RecordStepInput:
    """RecordResult's input (the whole state): the request, the stored certificate, the Map's results per region
    ({region, certificate_arn}, or RegionFailed's {region, error, cause}) and the nodes' outcome
    (certlib.distribution.steps; absent without distribution)."""

    request: Request
    certificate: StoredCertificate
    imports: tuple[dict[str, Any], ...]
    distribution: dict[str, Any] | None

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> RecordStepInput:
        """Raises MalformedState."""
        imports = field_of(state, "imports", list)
        for index, entry in enumerate(imports):
            if not isinstance(entry, dict):
                raise MalformedState(
                    f"the step's input has 'imports[{index}]' of type {type(entry).__name__}, not dict"
                )
        return cls(
            request=Request.from_state(state),
            certificate=StoredCertificate.from_dict(field_of(state, "certificate", dict)),
            imports=tuple(imports),
            distribution=optional_field(state, "distribution", dict),
        )


@dataclass(frozen=True)
class FallbackStepInput:
    """SwitchToFallbackAccount's input (the whole state): the request, and the error the ASL's Catch put at $.error
    ({Error, Cause}; certlib.lifecycle.failure.describe_error reads it)."""

    request: Request
    error: dict[str, Any] | None

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> FallbackStepInput:
        """Raises MalformedState."""
        return cls(Request.from_state(state), optional_field(state, "error", dict))
