"""ACME account configuration: the Sectigo connector's `acme-accounts.yaml`, accepted unchanged, plus keys of ours.

    accounts:
      sectigo-ov:
        - acme-endpoint: https://acme.sectigo.com/v2/OV
          eab-key: <key id>
          eab-hmac-key: <base64url HMAC key>
          email: pki@example.com
          RenewBeforeDays: 30
          KeyType: RSA            # RSA or EC (ECDSA)
          KeySize: 2048           # RSA: 2048, 3072, 4096; EC: 256, 384, 521
          # ours, all optional:
          preferred-chain: "ISRG Root X1"     # issuer CN of the chain root to prefer
          hosted-zones: {example.com: Z0123456789ABC}   # explicit zone per domain suffix
          ca-bundle: /path/to/ca.pem          # or inline PEM: trust roots for a private ACME CA's HTTPS
          prevalidated-domains: [corp.example, "*.corp.example"]   # or all: validated out of band by the CA
    default-account: sectigo-ov             # ours, optional: the alias of a request that names none. Without it the
                                            # only account is the default; with several (Sectigo's own sample) there
                                            # is none, and a request must name its account
    distribution-profiles:                  # ours, optional: certificates on servers (certlib.distribution.spec)
      web: {tags: {role: [web]}, reload-command: systemctl reload nginx}
    notifications:                          # ours, optional; deploy time only (certlib.notifications)
      emails: [pki-team@example.com]        # e-mail subscriptions of the SNS topic (failures, revocations, alarms)
      expiry-alarm-days: 14                 # the expiry alarm fires for a certificate under this many days

The whole file is validated at load; every error names the alias and the field. The EAB HMAC key never leaves
this module except through `eab_hmac_keys()` (which the CLI writes to Secrets Manager): `AccountConfig` and
the deployed JSON (`Config.to_json`) hold no secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from certlib.distribution.spec import DistributionProfile, ProfileError, parse_profiles
from certlib.dns_zone_config import DnsZone, parse_dns_zones
from certlib.exceptions import ConfigError
from certlib.key_types import KEY_TYPES
from certlib.notifications.settings import NotificationSettings, parse_notifications
from certlib.prevalidation import FIELD as PREVALIDATED_FIELD
from certlib.prevalidation import is_prevalidated, parse_prevalidated
from certlib.private_ca import KIND as PRIVATE_CA_KIND
from certlib.private_ca import check_renewal_fits, is_private_ca_entry, parse_private_ca

ALIAS_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ZONE_ID_PATTERN = re.compile(r"[A-Z0-9]{1,32}")
SECTIGO_FIELDS = ("acme-endpoint", "eab-key", "eab-hmac-key", "email", "RenewBeforeDays", "KeyType", "KeySize")
OUR_FIELDS = ("preferred-chain", "hosted-zones", "ca-bundle", "new-orders-per-3-hours", PREVALIDATED_FIELD)
DEFAULT_NEW_ORDERS_PER_3_HOURS = 300  # Let's Encrypt's limit per account
DEFAULT_KEY_TYPE = "ec256"
TOP_LEVEL_KEYS = ("accounts", "default-account", "dns-zones", "distribution-profiles", "notifications")


@dataclass(frozen=True)
class AccountConfig:
    """One ACME account, without its EAB HMAC key (that lives in Secrets Manager)."""

    alias: str
    directory_url: str
    email: str | None = None
    eab_key_id: str | None = None
    renew_before_days: int | None = None
    key_type: str = DEFAULT_KEY_TYPE
    preferred_chain: str | None = None
    hosted_zones: dict[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    new_orders_per_3_hours: int = DEFAULT_NEW_ORDERS_PER_3_HOURS
    prevalidated_domains: list[str] = field(default_factory=list)  # names and "*." patterns; ["*"]: every name
    # An AWS Private CA account (certlib.private_ca): no directory_url (""), no EAB; the CA and how it issues.
    private_ca_arn: str | None = None
    template_arn: str | None = None
    signing_algorithm: str | None = None
    validity_days: int | None = None

    @property
    def uses_eab(self) -> bool:
        return self.eab_key_id is not None

    @property
    def kind(self) -> str:
        """'private-ca' for an AWS Private CA account, 'acme' for the others."""
        return PRIVATE_CA_KIND if self.private_ca_arn else "acme"

    def is_prevalidated(self, domain: str) -> bool:
        """Whether the CA validated this (normalized) name out of band: no Route 53 zone, no DNS-01 record."""
        return is_prevalidated(domain, self.prevalidated_domains)


@dataclass(frozen=True)
class Config:
    accounts: dict[str, AccountConfig]
    default_account: str | None  # None: several accounts and no `default-account:`; a request must name one
    dns_zones: dict[str, DnsZone] = field(default_factory=dict)
    distribution_profiles: dict[str, DistributionProfile] = field(default_factory=dict)

    def account(self, alias: str | None) -> AccountConfig:
        """The account for an alias (the default one for None).

        Raises ConfigError for an unknown alias, or for None when there is no default account (the message lists the
        aliases and says how to name one).
        """
        chosen = alias or self.default_account
        if chosen is None:
            raise ConfigError(
                f"no ACME account named, and there is no default among the configured aliases "
                f"{', '.join(sorted(self.accounts))}: name one with 'account' in the request (certctl issue "
                f"--account ALIAS), or add 'default-account: ALIAS' to the accounts file and deploy it"
            )
        try:
            return self.accounts[chosen]
        except KeyError:
            known = ", ".join(sorted(self.accounts))
            raise ConfigError(f"unknown ACME account alias {chosen!r}; configured aliases: {known}") from None

    def to_json(self) -> str:
        """The deployable form: no secret in it."""
        return json.dumps(
            {
                "default_account": self.default_account,
                "accounts": {a: asdict(c) for a, c in self.accounts.items()},
                "dns_zones": {s: asdict(z) for s, z in self.dns_zones.items()},
                "distribution_profiles": {n: p.to_dict() for n, p in self.distribution_profiles.items()},
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Config:
        """Raises ConfigError when the deployed JSON is not what `to_json` writes."""
        try:
            data = json.loads(text)
            accounts = {alias: AccountConfig(**values) for alias, values in data["accounts"].items()}
            zones = {suffix: DnsZone(**values) for suffix, values in data.get("dns_zones", {}).items()}
            profiles = {
                name: DistributionProfile.from_dict(values)
                for name, values in data.get("distribution_profiles", {}).items()
            }
            config = cls(
                accounts=accounts,
                default_account=data.get("default_account"),
                dns_zones=zones,
                distribution_profiles=profiles,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"the deployed configuration is not valid: {exc}") from exc
        if config.default_account is not None:
            config.account(config.default_account)
        return config


@dataclass(frozen=True)
class LoadedFile:
    """A validated acme-accounts.yaml: the deployable config and, apart, the EAB HMAC keys by alias."""

    config: Config
    eab_hmac_keys: dict[str, str] = field(repr=False)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)  # deploy time only


def load_accounts_file(path: str | Path) -> LoadedFile:
    """Read and validate an acme-accounts.yaml. Raises ConfigError naming the file, alias and field."""
    import yaml  # only the CDK app and the CLI read YAML; the Lambda layer does not carry it

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the account file: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        # YAML reads an unquoted leading '*' as an alias: the usual slip in a wildcard name or pattern
        bad_line = text.splitlines()[where.line] if where is not None and where.line < len(text.splitlines()) else ""
        quote = "; quote a name that starts with '*', as in \"*.example.com\"" if "*" in bad_line else ""
        raise ConfigError(f"{path}: not valid YAML{line}: fix the syntax and load it again{quote}") from None
    return parse_accounts(document, source=str(path), base_dir=path.parent)


def parse_accounts(document: Any, source: str = "acme-accounts.yaml", base_dir: Path | None = None) -> LoadedFile:
    """Validate the parsed YAML document. Raises ConfigError with one clear message."""
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), dict) or not document["accounts"]:
        raise ConfigError(f"{source}: expected a top-level 'accounts:' mapping of alias to account settings")
    unknown_top = sorted(set(document) - set(TOP_LEVEL_KEYS))
    if unknown_top:
        raise ConfigError(f"{source}: unknown top-level key(s) {', '.join(map(repr, unknown_top))}")
    accounts: dict[str, AccountConfig] = {}
    hmac_keys: dict[str, str] = {}
    for alias, raw in document["accounts"].items():
        alias = str(alias)
        where = f"{source}: account {alias!r}"
        if not ALIAS_PATTERN.fullmatch(alias):
            raise ConfigError(f"{where}: an alias is 1-64 letters, digits, '.', '_' or '-'")
        values = _merge_entries(raw, where)
        account, hmac_key = _parse_account(alias, values, where, base_dir)
        accounts[alias] = account
        if hmac_key is not None:
            hmac_keys[alias] = hmac_key
    default = document.get("default-account")
    if default is None and len(accounts) == 1:
        default = next(iter(accounts))
    # Several accounts and no default (Sectigo's own sample) load as written: requests then name their account.
    if default is not None and default not in accounts:
        raise ConfigError(f"{source}: default-account {default!r} is not one of the configured aliases")
    try:
        profiles = parse_profiles(document.get("distribution-profiles"))
    except ProfileError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    config = Config(
        accounts=accounts,
        default_account=None if default is None else str(default),
        dns_zones=parse_dns_zones(document.get("dns-zones"), source),
        distribution_profiles=profiles,
    )
    notifications = parse_notifications(document.get("notifications"), source)
    return LoadedFile(config=config, eab_hmac_keys=hmac_keys, notifications=notifications)


def _merge_entries(raw: Any, where: str) -> dict[str, Any]:
    """The Sectigo format puts an alias's settings in a list: one mapping, or one mapping per key."""
    entries = raw if isinstance(raw, list) else [raw]
    merged: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected 'key: value' settings, got {type(entry).__name__}")
        for key, value in entry.items():
            if key in merged:
                raise ConfigError(f"{where}: field {key!r} is given twice")
            merged[str(key)] = value
    return merged


def _parse_account(
    alias: str, values: dict[str, Any], where: str, base_dir: Path | None
) -> tuple[AccountConfig, str | None]:
    if is_private_ca_entry(values):
        return _private_ca_account(alias, values, where), None
    unknown = sorted(set(values) - set(SECTIGO_FIELDS) - set(OUR_FIELDS))
    if unknown:
        known = ", ".join(SECTIGO_FIELDS + OUR_FIELDS)
        raise ConfigError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; known fields: {known}")
    directory_url = _directory_url(values.get("acme-endpoint"), where)
    eab_key_id, hmac_key = _eab(values.get("eab-key"), values.get("eab-hmac-key"), where)
    account = AccountConfig(
        alias=alias,
        directory_url=directory_url,
        email=_email(values.get("email"), where),
        eab_key_id=eab_key_id,
        renew_before_days=_renew_before_days(values.get("RenewBeforeDays"), where),
        key_type=key_type_from_sectigo(values.get("KeyType"), values.get("KeySize"), where),
        preferred_chain=_optional_text(values.get("preferred-chain"), "preferred-chain", where),
        hosted_zones=_hosted_zones(values.get("hosted-zones"), where),
        ca_bundle=_ca_bundle(values.get("ca-bundle"), where, base_dir),
        new_orders_per_3_hours=_order_budget(values.get("new-orders-per-3-hours"), where),
        prevalidated_domains=parse_prevalidated(values.get(PREVALIDATED_FIELD), where),
    )
    return account, hmac_key


def _private_ca_account(alias: str, values: dict[str, Any], where: str) -> AccountConfig:
    """An AWS Private CA account (certlib.private_ca); raises ConfigError naming the field."""
    common = ("RenewBeforeDays", "KeyType", "KeySize")
    ca = parse_private_ca(values, common, where)
    renew_before_days = _renew_before_days(values.get("RenewBeforeDays"), where)
    check_renewal_fits(ca["validity_days"], renew_before_days, where)
    key_type = key_type_from_sectigo(values.get("KeyType"), values.get("KeySize"), where)
    return AccountConfig(alias=alias, directory_url="", renew_before_days=renew_before_days, key_type=key_type, **ca)


def _directory_url(value: Any, where: str) -> str:
    if value is None or value == "":
        raise ConfigError(f"{where}: field 'acme-endpoint' is missing: give the CA's ACME directory URL")
    url = str(value).strip()
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ConfigError(f"{where}: field 'acme-endpoint' must be an https:// directory URL, got {url!r}")
    return url


def _eab(key_id: Any, hmac_key: Any, where: str) -> tuple[str | None, str | None]:
    if key_id in (None, "") and hmac_key in (None, ""):
        return None, None
    if key_id in (None, ""):
        raise ConfigError(f"{where}: field 'eab-key' is missing: EAB needs both 'eab-key' and 'eab-hmac-key'")
    if hmac_key in (None, ""):
        raise ConfigError(f"{where}: field 'eab-hmac-key' is missing: EAB needs both 'eab-key' and 'eab-hmac-key'")
    key_id = str(key_id).strip()
    if not re.fullmatch(r"[\x21-\x7e]{1,256}", key_id):
        raise ConfigError(f"{where}: field 'eab-key' must be 1-256 printable characters without spaces")
    text = str(hmac_key).strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-+/]+={0,2}", text) or len(decode_hmac_key(text)) < 16:
        # The value is secret: say what is wrong without echoing it.
        raise ConfigError(
            f"{where}: field 'eab-hmac-key' is malformed: expected the base64url HMAC key the CA gave "
            f"(at least 16 bytes once decoded)"
        )
    return key_id, text


def decode_hmac_key(text: str) -> bytes:
    """base64url (or plain base64) without or with padding; b'' when it does not decode."""
    normalized = text.replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(normalized + "=" * (-len(normalized) % 4))
    except (binascii.Error, ValueError):
        return b""


def _email(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    email = str(value).strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ConfigError(f"{where}: field 'email' is not an e-mail address: {email!r}")
    return email


def _renew_before_days(value: Any, where: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ConfigError(f"{where}: field 'RenewBeforeDays' must be a whole number of days, got {value!r}")
    days = int(str(value).strip())
    if not 1 <= days <= 365:
        raise ConfigError(f"{where}: field 'RenewBeforeDays' must be between 1 and 365, got {days}")
    return days


def _order_budget(value: Any, where: str) -> int:
    if value in (None, ""):
        return DEFAULT_NEW_ORDERS_PER_3_HOURS
    if isinstance(value, bool) or not str(value).strip().isdigit() or int(str(value)) < 1:
        raise ConfigError(f"{where}: field 'new-orders-per-3-hours' must be a whole number >= 1, got {value!r}")
    return int(str(value))


_RSA_NAMES = {"rsa"}
_EC_NAMES = {"ec", "ecdsa", "ecc"}
_EC_SIZES = {
    "256": 256,
    "p-256": 256,
    "p256": 256,
    "prime256v1": 256,
    "secp256r1": 256,
    "384": 384,
    "p-384": 384,
    "p384": 384,
    "secp384r1": 384,
    "521": 521,
    "p-521": 521,
    "p521": 521,
    "secp521r1": 521,
}


def key_type_from_sectigo(key_type: Any, key_size: Any, where: str) -> str:
    """KeyType + KeySize of the Sectigo format to one of KEY_TYPES; raises ConfigError naming the field."""
    if key_type in (None, "") and key_size in (None, ""):
        return DEFAULT_KEY_TYPE
    kind = str(key_type or "").strip().lower()
    size = str(key_size if key_size is not None else "").strip().lower()
    if kind in _RSA_NAMES:
        chosen = f"rsa{size or 2048}"
        if chosen not in KEY_TYPES:
            raise ConfigError(f"{where}: field 'KeySize' {key_size!r} does not fit KeyType RSA: use 2048, 3072 or 4096")
        return chosen
    if kind in _EC_NAMES:
        bits = _EC_SIZES.get(size or "256")
        if bits is None:
            raise ConfigError(f"{where}: field 'KeySize' {key_size!r} does not fit KeyType EC: use 256, 384 or 521")
        return f"ec{bits}"
    raise ConfigError(f"{where}: field 'KeyType' {key_type!r} is not supported: use RSA or EC")


def _optional_text(value: Any, name: str, where: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: field {name!r} must be text")
    return value.strip()


def _hosted_zones(value: Any, where: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: field 'hosted-zones' must map a domain suffix to a hosted zone ID")
    zones: dict[str, str] = {}
    for suffix, zone_id in value.items():
        zone = str(zone_id).strip().removeprefix("/hostedzone/")
        if not ZONE_ID_PATTERN.fullmatch(zone):
            raise ConfigError(f"{where}: field 'hosted-zones' has {zone_id!r} for {suffix!r}: not a hosted zone ID")
        zones[str(suffix).strip().lower().rstrip(".")] = zone
    return zones


# One PEM block (RFC 7468): its label, then base64 lines up to the END line of the same label.
PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----"
    r"(?P<body>.*?)-----END (?P=label)-----",
    re.DOTALL,
)
PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def _ca_bundle(value: Any, where: str, base_dir: Path | None) -> str | None:
    """Inline PEM or the path of a PEM file: certificates only. The bundle goes into the deployed configuration
    (the template and its SSM parameter), so a private key or anything else pasted into it is refused, never echoed."""
    if value in (None, ""):
        return None
    text = str(value)
    field_is = "field 'ca-bundle'"
    if "-----BEGIN" not in text:
        path = Path(text)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"{where}: field 'ca-bundle' names {str(path)!r}, which cannot be read") from None
        field_is = f"field 'ca-bundle' file {str(path)!r}"
    _check_certificates_only(text, f"{where}: {field_is}")
    return text


def _check_certificates_only(text: str, where: str) -> None:
    """Raise ConfigError unless `text` is one or more PEM CERTIFICATE blocks, each a readable X.509 certificate, with
    nothing but white space around them. The message names the block types found, never their content."""
    from cryptography import x509  # the layer has it; imported here to keep this module light to import

    blocks = list(PEM_BLOCK.finditer(text))
    others = sorted({block.group("label") or "(no label)" for block in blocks} - {"CERTIFICATE"})
    if PRIVATE_KEY_BEGIN.search(text):
        raise ConfigError(
            f"{where} holds a private key: a CA bundle holds only the CA's certificates; remove the key "
            "(and treat it as exposed if the file was shared)"
        )
    if others:
        raise ConfigError(f"{where} holds PEM blocks other than CERTIFICATE ({', '.join(others)}): remove them")
    if not blocks:
        raise ConfigError(f"{where} holds no PEM certificate")
    if PEM_BLOCK.sub("", text).strip():
        raise ConfigError(f"{where} holds text outside its PEM CERTIFICATE blocks: only certificates are accepted")
    for number, block in enumerate(blocks, start=1):
        try:
            x509.load_pem_x509_certificate(block.group().encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                f"{where}: certificate {number} of {len(blocks)} is not a valid X.509 certificate"
            ) from None
