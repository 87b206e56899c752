"""Check an execution's input before anything is written or asked of the CA, then take the certificate's lock.

Input: {"name": ..., "domains": [...], "account"?: alias, "fallback_accounts"?: [alias, ...] (tried in order when
the account fails on the CA's side: certlib.lifecycle.fallback; left out, the inventory's), "key_type"?: ec256|ec384|
ec521|rsa2048|rsa3072|rsa4096,
"regions"?: [...], "distribution"?: {"profile": NAME} (certlib.distribution.spec: a deployed distribution profile;
left out, a renewal keeps the one the inventory has; {} stops it), "replace"?: true|false}. Names are normalized
(lowercase, no trailing dot, internationalized names to their A-label form); every problem is one InvalidRequest
message saying what is wrong and what to do.

A certificate's name is bound to its domains (as a set) and its ACME account: a request for a name the inventory
holds with other domains or another account is refused, unless it says `"replace": true`; an accepted replacement
is announced (certlib.notifications.events) before the inventory records it. Renewals the pipeline starts
(certlib.adapters.stepfunctions.lifecycle_input) carry the recorded domains and account, so they never change them.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import idna

from certlib.adapters.inventory import ARI_CERTIFICATE_ID, CERTIFICATE_ARNS, ISSUED_ACCOUNT
from certlib.config import AccountConfig, Config
from certlib.distribution.spec import parse_distribution
from certlib.exceptions import AccountSecretMissing, ConfigError, InvalidRequest, MalformedState, ZoneNotFound
from certlib.key_types import KEY_TYPES
from certlib.lifecycle.fields import field_of
from certlib.lifecycle.zone_directory import CHALLENGE_LABEL, ZoneDirectory
from certlib.notifications.events import replacement_event
from certlib.private_ca import KIND as PRIVATE_CA_KIND
from certlib.services import Services

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
REGION_PATTERN = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}")
LABEL_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
MAX_DOMAINS = 100  # Let's Encrypt and most public CAs
MAX_DNS_NAME_LENGTH = 253
# The DNS-01 record of a name is `_acme-challenge.<name>`, which must itself be a DNS name.
MAX_DOMAIN_LENGTH = MAX_DNS_NAME_LENGTH - len(CHALLENGE_LABEL)  # 237
ALLOWED_KEYS = ("name", "domains", "account", "fallback_accounts", "key_type", "regions", "distribution", "replace")
MAX_FALLBACK_ACCOUNTS = 4  # each one a whole ACME attempt within the execution's timeout
# The item's fields the steps after ValidateRequest take from the request (as the lock found them): the ACM ARNs
# ImportCertificate re-imports into, and the certificate a renewal replaces (CreateOrder's RFC 9773 `replaces`). While
# this execution holds the lock, only it writes them. ARNs, an alias and an ID: no secret.
RECORDED_FIELDS = (CERTIFICATE_ARNS, ARI_CERTIFICATE_ID, ISSUED_ACCOUNT)
LOCKED_AT = "locked_at"  # epoch seconds: when this execution took the lock (the issuance's duration starts there)


@dataclass(frozen=True)
class Request:
    name: str
    domains: list[str]
    account: str
    key_type: str
    regions: list[str]
    execution_id: str
    zones: dict[str, dict[str, str | None]] = field(default_factory=dict)  # domain -> its DNS-01 record's place
    prevalidated: list[str] = field(default_factory=list)  # domains validated out of band: no zone, no record
    renewal: bool = False
    distribution: dict[str, Any] | None = None  # {"profile": NAME} (certlib.distribution.spec); None: none
    # the accounts still to try, in order, when `account` fails on the CA's side (certlib.lifecycle.fallback)
    fallback_accounts: list[str] = field(default_factory=list)
    # what the certificate's item held when this execution took its lock (RECORDED_FIELDS that were there, and
    # LOCKED_AT), for the later steps instead of reading the item again; None in a state without it (they read it)
    recorded: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Request:
        """The state's `request` (ValidateRequest's result); raises MalformedState when it is missing or not one."""
        fields = field_of(state, "request", dict)
        for key, kind in (("name", str), ("domains", list), ("account", str), ("execution_id", str)):
            field_of(fields, key, kind, "request")
        try:
            return cls(**fields)
        except TypeError as exc:  # a missing or an unknown field
            raise MalformedState(f"the step's input has a 'request' Request cannot take: {exc}") from None


@dataclass(frozen=True)
class RequestState:
    """ValidateRequest's result, and SwitchToFallbackAccount's (ResultPath $: the whole state): the request, and the
    kind of its account's issuer, which the IsPrivateCa Choice reads ("acme" or "private-ca")."""

    request: Request
    issuer_kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request.to_dict(), "issuer_kind": self.issuer_kind}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> RequestState:
        """Raises MalformedState."""
        return cls(Request.from_state(state), field_of(state, "issuer_kind", str))


def input_object(raw: Any, allowed: Sequence[str]) -> dict[str, Any]:
    """An execution's input: a JSON object of only `allowed` fields. Raises InvalidRequest saying what is wrong."""
    if not isinstance(raw, dict):
        raise InvalidRequest(f"the input must be a JSON object with {', '.join(allowed)}")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InvalidRequest(f"unknown input field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return raw


def certificate_name(raw: Mapping[str, Any]) -> str:
    """The input's `name` (the inventory item's). Raises InvalidRequest when it does not match NAME_PATTERN."""
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(
            f"'name' must be 1-128 letters, digits, '.', '_' or '-' starting with a letter or digit, got {name!r}"
        )
    return name


def parse_request(raw: Any, config: Config, default_region: str) -> dict[str, Any]:
    """The normalized request fields; raises InvalidRequest with one clear message."""
    raw = input_object(raw, ALLOWED_KEYS)
    name = certificate_name(raw)
    try:
        account = config.account(_optional_text(raw, "account"))
    except ConfigError as exc:
        raise InvalidRequest(str(exc)) from None
    key_type = _optional_text(raw, "key_type") or account.key_type
    if key_type not in KEY_TYPES:
        raise InvalidRequest(f"'key_type' {key_type!r} is not supported; use one of {', '.join(KEY_TYPES)}")
    fallbacks = (
        fallback_accounts(raw["fallback_accounts"], account, config, key_named=raw.get("key_type") is not None)
        if "fallback_accounts" in raw
        else None
    )
    fields: dict[str, Any] = {
        "name": name,
        "domains": normalize_domains(raw.get("domains")),
        "account": account.alias,
        "key_type": key_type,
        "regions": _regions(raw.get("regions"), default_region),
    }
    if fallbacks is not None:  # left out: the inventory's (validate_request); []: none
        fields["fallback_accounts"] = fallbacks
    if "distribution" in raw:  # left out: the inventory's (validate_request); {}: none
        fields["distribution"] = parse_distribution(raw["distribution"], config.distribution_profiles) or {}
    replace = raw.get("replace", False)
    if not isinstance(replace, bool):
        raise InvalidRequest(f"'replace' must be true or false, got {replace!r}")
    if replace:  # left out (or false): the name keeps its domains and account
        fields["replace"] = True
    return fields


def fallback_accounts(value: Any, primary: AccountConfig, config: Config, key_named: bool) -> list[str]:
    """The configured aliases to try, in order, after `primary`; raises InvalidRequest with one clear message."""
    if not isinstance(value, list) or not all(isinstance(alias, str) and alias for alias in value):
        raise InvalidRequest(
            "'fallback_accounts' must be a list of ACME account aliases, tried in order when the account fails on the "
            'CA\'s side, e.g. ["backup-ca"]; [] for none'
        )
    if len(value) > MAX_FALLBACK_ACCOUNTS:
        raise InvalidRequest(f"'fallback_accounts' has {len(value)} aliases; name at most {MAX_FALLBACK_ACCOUNTS}")
    if value and primary.kind == PRIVATE_CA_KIND:
        raise InvalidRequest(
            f"account {primary.alias!r} is an AWS Private CA account; fallback accounts are for ACME accounts: "
            f"leave 'fallback_accounts' out, or name an ACME account as 'account'"
        )
    seen = [primary.alias]
    for alias in value:
        if alias in seen:
            raise InvalidRequest(
                f"'fallback_accounts' names {alias!r} twice (the account counts too): name each account once"
            )
        seen.append(alias)
        if alias not in config.accounts:
            raise InvalidRequest(
                f"'fallback_accounts' names {alias!r}, which is not a configured ACME account; configured: "
                f"{', '.join(sorted(config.accounts))}"
            )
        fallback = config.accounts[alias]
        if fallback.kind == PRIVATE_CA_KIND:
            raise InvalidRequest(
                f"'fallback_accounts' names {alias!r}, an AWS Private CA account; fallback accounts are ACME accounts "
                f"(the fallback repeats the ACME steps): name ACME account aliases only"
            )
        if not key_named and fallback.key_type != primary.key_type:
            raise InvalidRequest(
                f"fallback account {alias!r} gives key type {fallback.key_type} and account {primary.alias!r} gives "
                f"{primary.key_type}; a certificate keeps one key type (ACM re-imports into the same ARN only with "
                f"the same one): name 'key_type' in the request, or configure the accounts with the same KeyType"
            )
    return list(value)


def normalize_domains(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("'domains' must be a non-empty list of DNS names, e.g. [\"www.example.com\"]")
    if len(value) > MAX_DOMAINS:
        raise InvalidRequest(f"'domains' has {len(value)} names; a certificate can hold at most {MAX_DOMAINS}")
    return list(dict.fromkeys(normalize_domain(item) for item in value))


def normalize_domain(value: Any) -> str:
    """A DNS name in lowercase A-label form, or a wildcard '*.' followed by one; raises InvalidRequest."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"each domain must be a non-empty string, got {value!r}")
    text = value.strip().rstrip(".")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise InvalidRequest(f"{value!r} is an IP address: DNS-01 validates DNS names only")
    wildcard = text.startswith("*.")
    body = text[2:] if wildcard else text
    if "*" in body:
        raise InvalidRequest(f"{value!r}: a wildcard may only be the whole leftmost label, as in '*.example.com'")
    if body.isascii():
        ascii_name = body.lower()
    else:  # an internationalized name: its A-label form (IDNA 2008 with UTS 46 mapping)
        try:
            ascii_name = idna.encode(body, uts46=True).decode().lower()
        except idna.IDNAError as exc:
            raise InvalidRequest(f"{value!r} is not a valid internationalized domain name: {exc}") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > MAX_DNS_NAME_LENGTH:
        raise InvalidRequest(
            f"{value!r} must be a fully qualified name (at least two labels, at most {MAX_DNS_NAME_LENGTH} characters)"
        )
    if len(ascii_name) > MAX_DOMAIN_LENGTH:
        raise InvalidRequest(
            f"{value!r} is {len(ascii_name)} characters long; a name may have at most {MAX_DOMAIN_LENGTH}, because "
            f"its DNS-01 record name ({CHALLENGE_LABEL!r} + the name) would be longer than the "
            f"{MAX_DNS_NAME_LENGTH} characters DNS allows"
        )
    for label in labels:
        if not LABEL_PATTERN.fullmatch(label):
            raise InvalidRequest(
                f"{value!r}: label {label!r} must be 1-63 letters, digits or '-', not starting or ending with '-'"
            )
        if label.startswith("xn--") and not _is_a_label(label):
            raise InvalidRequest(f"{value!r}: label {label!r} is not a valid IDNA A-label (punycode)")
    if labels[-1].isdigit():
        raise InvalidRequest(f"{value!r}: the top-level label cannot be all digits")
    return f"*.{ascii_name}" if wildcard else ascii_name


def _is_a_label(label: str) -> bool:
    """Whether an 'xn--' label decodes to a valid IDNA 2008 U-label that encodes back to the same label."""
    try:
        return bool(idna.encode(idna.decode(label)).decode() == label)
    except (idna.IDNAError, UnicodeError):
        return False


def _optional_text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{key!r} must be a non-empty string, got {value!r}")
    return value


def _regions(value: Any, default_region: str) -> list[str]:
    if value is None:
        return [default_region]
    if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
        raise InvalidRequest("'regions' must be a non-empty list of AWS region names, e.g. [\"us-east-1\"]")
    for region in value:
        if not REGION_PATTERN.fullmatch(region):
            raise InvalidRequest(f"{region!r} is not an AWS region name (like 'eu-west-1')")
    return list(dict.fromkeys(value))


def validate_request(event: dict[str, Any], services: Services) -> RequestState:
    """Step 1. Raises InvalidRequest (nothing written), CertificateLocked (someone else works on it); TransientError
    (retried) when an accepted replacement cannot be announced yet, or DNS does not answer."""
    execution_id = str(event.get("execution_id", ""))
    raw: Any = event.get("input")
    config = services.config(fresh=True)  # accounts pushed or profiles deployed a moment ago count at once
    fields = parse_request(raw, config, services.region)
    replace = bool(fields.pop("replace", False))
    current = services.inventory.get(fields["name"]) or {}
    if "fallback_accounts" not in fields:  # a renewal, or a request that leaves them out: the recorded ones
        fields["fallback_accounts"] = _recorded_fallbacks(current, fields["account"], config)
    fallbacks = [config.account(alias) for alias in fields["fallback_accounts"]]
    zones, prevalidated = challenge_places(
        fields["domains"], config, config.account(fields["account"]), services, fallbacks
    )
    for alias in (fields["account"], *fields["fallback_accounts"]):
        _check_eab_key_if_unregistered(config.account(alias), services)
    arns = current.get("certificate_arns") or {}
    if arns and current.get("key_type") not in (None, fields["key_type"]):
        raise InvalidRequest(
            f"certificate {fields['name']!r} is in ACM with key type {current['key_type']}; ACM cannot change the key "
            f"type on re-import. Ask for key_type {current['key_type']!r}, or use a new name"
        )
    changes = binding_changes(current, fields)
    if changes and not replace:
        raise InvalidRequest(_binding_refusal(fields["name"], changes, account_named=raw.get("account") is not None))
    if changes and not _locked_by_another(current, execution_id):  # a locked one ends AlreadyInProgress: no news
        deployment = services.settings.resource_prefix
        services.events.emit(replacement_event(deployment, current, fields, list(changes), execution_id or None))
    renewal = bool(arns)
    if "distribution" not in fields:
        fields["distribution"] = current.get("distribution") or None
    fields["distribution"] = fields["distribution"] or None
    locked_at = int(time.time())
    before = services.inventory.take_lock(
        fields["name"],
        execution_id,
        services.settings.lock_ttl_seconds,
        {**fields, "status": "renewing" if renewal else "issuing"},
    )
    recorded = {key: before[key] for key in RECORDED_FIELDS if before.get(key) is not None}
    request = Request(
        **fields,
        execution_id=execution_id,
        zones=zones,
        prevalidated=prevalidated,
        renewal=renewal,
        recorded={**recorded, LOCKED_AT: locked_at},
    )
    # the lifecycle's IsPrivateCa Choice reads the kind: "private-ca" skips every ACME and DNS-01 state
    return RequestState(request, config.account(fields["account"]).kind)


def challenge_places(
    domains: list[str],
    config: Config,
    account: AccountConfig,
    services: Services,
    fallbacks: Sequence[AccountConfig] = (),
) -> tuple[dict[str, dict[str, str | None]], list[str]]:
    """({domain: its DNS-01 record's place}, [domains the account declares pre-validated]). A name pre-validated for
    the account and each fallback account is not looked up (no Route 53 call: an account whose names are all
    pre-validated needs no Route 53 permission); one that a fallback account must validate is.

    Raises InvalidRequest for any other name in no zone we may use; TransientError when DNS does not answer.
    """
    if account.kind == PRIVATE_CA_KIND:  # AWS Private CA: no DNS-01, so no zone is needed
        return {}, []
    directory = ZoneDirectory(services, config, account)
    zones: dict[str, dict[str, str | None]] = {}
    prevalidated: list[str] = []
    for domain in domains:
        if account.is_prevalidated(domain):
            prevalidated.append(domain)
            if all(fallback.is_prevalidated(domain) for fallback in fallbacks):
                continue
        try:
            zones[domain] = directory.challenge_target(domain)
        except ZoneNotFound as exc:
            raise InvalidRequest(str(exc)) from None
    return zones, prevalidated


def binding_changes(current: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What a request (its normalized fields) changes of what binds the certificate in the inventory item `current`:
    {"domains": (recorded, asked)} when the set of names differs, {"account": (recorded, asked)} when the ACME
    account does; empty for a new name, or a request that keeps both (the pipeline's renewals always do)."""
    changes: dict[str, tuple[Any, Any]] = {}
    recorded_domains = [str(domain) for domain in current.get("domains") or []]
    if recorded_domains and {_normalized(domain) for domain in recorded_domains} != set(fields["domains"]):
        changes["domains"] = (recorded_domains, list(fields["domains"]))
    recorded_account = current.get("account")
    if recorded_account and str(recorded_account) != fields["account"]:
        changes["account"] = (str(recorded_account), fields["account"])
    return changes


def _normalized(domain: str) -> str:
    """A recorded name as a request's would be normalized now (recorded names were normalized when asked for)."""
    try:
        return normalize_domain(domain)
    except InvalidRequest:
        return domain.lower()


def _binding_refusal(name: str, changes: dict[str, tuple[Any, Any]], account_named: bool) -> str:
    parts = []
    if "domains" in changes:
        recorded, asked = changes["domains"]
        parts.append(f"its domains from [{', '.join(recorded)}] to [{', '.join(asked)}]")
    if "account" in changes:
        recorded, asked = changes["account"]
        default = "" if account_named else " (the default account: the request names none)"
        parts.append(f"its ACME account from {recorded!r} to {asked!r}{default}")
    return (
        f"certificate {name!r} is bound to its domains and ACME account, and this request changes "
        f'{" and ".join(parts)}. Changing them needs "replace": true in the input (certctl issue --replace), '
        f"and is announced; or ask for the recorded ones, or use a new name"
    )


def _recorded_fallbacks(current: Mapping[str, Any], account: str, config: Config) -> list[str]:
    """The fallback accounts the inventory records for the certificate, if it is still bound to `account` and each is
    still configured (one removed from the configuration since is left out, not an error on renewal)."""
    if str(current.get("account") or "") != account:
        return []
    recorded = [str(alias) for alias in current.get("fallback_accounts") or []]
    return [alias for alias in recorded if alias in config.accounts and alias != account]


def _locked_by_another(current: Mapping[str, Any], execution_id: str) -> bool:
    """Whether another execution holds the certificate's lock (take_lock will refuse this one)."""
    owner = current.get("lock_owner")
    return bool(owner) and owner != execution_id and int(current.get("lock_expires_at") or 0) >= time.time()


def _check_eab_key_if_unregistered(account: AccountConfig, services: Services) -> None:
    """An EAB account that is not registered yet needs its HMAC key: without it, refuse before anything is written.

    Raises InvalidRequest saying how to store the key.
    """
    if not account.uses_eab or services.inventory.acme_registered_at(account.alias) == account.directory_url:
        return
    try:
        services.secrets.eab_hmac_key(account.alias)
    except AccountSecretMissing as exc:
        raise InvalidRequest(str(exc)) from None
