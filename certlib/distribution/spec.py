"""A certificate's distribution: which nodes get it (SSM targets) and how (the document's parameters).

Targets, file locations, owner and hooks are deploy-time configuration, reviewed like code: named *distribution
profiles* in the accounts file (`distribution-profiles:`, parsed here; docs/distribution.md), deployed with the rest
of the configuration (the SSM parameter /<prefix>/config). An execution only names one:

    "distribution": {"profile": "web"}         # certctl issue --distribution-profile web

`"distribution": {}` stops distributing a certificate; leaving the key out keeps what the inventory has. The
inventory keeps the choice ({"profile": "web"}), never a target, a path or a command: send_distribution looks the
profile up in the deployed configuration each time it sends, so whoever may start an execution (or write an
inventory item) can at most pick another reviewed profile.

    distribution-profiles:
      web:
        tags: {role: [web], env: [prod]}      # SSM tag targets (ANDed), or instance-ids: [i-0123456789abcdef0]
        directory: /etc/ssl/acme/{name}       # the default; {name} is the certificate's name
        key-path: /etc/nginx/tls/{name}.key   # each of the four files may be placed apart
        owner: root:root                      # the default
        check-command: nginx -t
        reload-command: systemctl reload nginx
        access-group: web                     # the nodes' principal tag allowed to read the bundle; default: the
                                              # profile's name
        pkcs12-path: /etc/ssl/acme/{name}.p12 # also a PKCS#12 file (certlib.distribution.pkcs12); none by default
        pem: false                            # no PEM file (only with pkcs12-path); default true
        pkcs12-legacy: true                   # 3DES/SHA-1 for Java before 8u301, Windows Server 2016; default false
        accounts: ["222222222222"]            # nodes in other accounts (docs/distribution.md, "Nodes in other
                                              # accounts"); default: this account's nodes only
        external-id: acme-nodes               # optional: what their node-account stacks' roles require

Only nodes that opted in receive commands: the targets always include the opt-in tag (DISTRIBUTION_OPT_IN_TAG = the
resource prefix), and IAM allows ssm:SendCommand only on instances carrying it. The patterns are the document's
allowedPattern values (ssm/distribute-certificate.yaml; a test keeps them equal): SSM pastes parameter values into
the script, so these patterns are what keep them data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from certlib.distribution.node_accounts import check_node_accounts, check_profile_external_id
from certlib.exceptions import InvalidRequest

PATH_PATTERN = r"^(/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,254}){1,32}$"
OWNER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}(:[A-Za-z_][A-Za-z0-9_.-]{0,31})?$"
COMMAND_PATTERN = r"^[^'\r\n]{0,1024}$"
SECRET_ID_PATTERN = r"^[A-Za-z0-9/_+=.@:-]{1,2048}$"  # noqa: S105 - a name pattern
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]{1,2}$"
SERIAL_PATTERN = r"^[0-9a-fA-F]{0,64}$"
OPTIONAL_PATH_PATTERN = r"^((/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,254}){1,32})?$"
BOOLEAN_PATTERN = r"^(true|false)$"
# The document's parameter -> its pattern.
DOCUMENT_PATTERNS = {
    "secretId": SECRET_ID_PATTERN,
    "region": REGION_PATTERN,
    "expectedSerial": SERIAL_PATTERN,
    "certificatePath": PATH_PATTERN,
    "chainPath": PATH_PATTERN,
    "fullchainPath": PATH_PATTERN,
    "keyPath": PATH_PATTERN,
    "pkcs12Path": OPTIONAL_PATH_PATTERN,
    "installPem": BOOLEAN_PATTERN,
    "owner": OWNER_PATTERN,
    "checkCommand": COMMAND_PATTERN,
    "reloadCommand": COMMAND_PATTERN,
}
PROFILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TAG_KEY_PATTERN = re.compile(r"[A-Za-z0-9 _.:/=+@-]{1,128}")
TAG_VALUE_PATTERN = re.compile(r"[A-Za-z0-9 _.:/=+@-]{1,256}")
INSTANCE_ID_PATTERN = re.compile(r"(i|mi)-[0-9a-f]{8,17}")
ACCESS_GROUP_PATTERN = re.compile(r"[A-Za-z0-9_.:/=+@-]{1,256}")
MAX_TAG_KEYS = 4  # SSM Targets: at most 5 keys (ANDed); the opt-in tag is the fifth
MAX_TAG_VALUES = 50
MAX_INSTANCE_IDS = 50  # SendCommand InstanceIds
NAME_PLACEHOLDER = "{name}"
DEFAULT_DIRECTORY = f"/etc/ssl/acme/{NAME_PLACEHOLDER}"
DEFAULT_OWNER = "root:root"
# The four files: the profile's path field -> the file name in `directory` when the path is not given.
FILES = {
    "certificate_path": "cert.pem",
    "chain_path": "chain.pem",
    "fullchain_path": "fullchain.pem",
    "key_path": "privkey.pem",
}
# The accounts file's keys of a profile (YAML style of our additions: hyphens).
PROFILE_KEYS = (
    "tags",
    "instance-ids",
    "directory",
    *(key.replace("_", "-") for key in FILES),
    "owner",
    "check-command",
    "reload-command",
    "access-group",
    "pkcs12-path",
    "pem",
    "pkcs12-legacy",
    "accounts",
    "external-id",
)
MIGRATION_HELP = "docs/distribution.md#migrating-from-an-inline-distribution"


class ProfileError(ValueError):
    """A profile that does not hold (the accounts file reports it as ConfigError, with the file and the profile)."""


@dataclass(frozen=True)
class DistributionProfile:
    """A deployed distribution profile. Its paths may hold {name}; `for_certificate` fills it in."""

    name: str
    access_group: str
    certificate_path: str
    chain_path: str
    fullchain_path: str
    key_path: str
    tags: dict[str, list[str]] = field(default_factory=dict)
    instance_ids: list[str] = field(default_factory=list)
    owner: str = DEFAULT_OWNER
    check_command: str = ""
    reload_command: str = ""
    pkcs12_path: str = ""  # "": no PKCS#12 file
    pem: bool = True  # False: the PKCS#12 file only
    pkcs12_legacy: bool = False  # PBESv1 3DES + SHA-1 MAC instead of PBES2 AES-256 + SHA-256
    # The node accounts: the command is sent there (through their node-account stack's roles), not in this account.
    accounts: list[str] = field(default_factory=list)
    external_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistributionProfile:
        """From what to_dict wrote (the deployed configuration's JSON)."""
        values = dict(data)
        values["tags"] = {str(k): [str(v) for v in vs] for k, vs in (data.get("tags") or {}).items()}
        values["instance_ids"] = [str(i) for i in data.get("instance_ids") or []]
        values["accounts"] = [str(account) for account in data.get("accounts") or []]
        return cls(**values)

    def for_certificate(self, certificate: str) -> DistributionProfile:
        """The profile with {name} replaced by the certificate's name; raises InvalidRequest if a path breaks."""
        paths = {key: getattr(self, key).replace(NAME_PLACEHOLDER, certificate) for key in (*FILES, "pkcs12_path")}
        for key, path in paths.items():
            if key == "pkcs12_path" and not path:
                continue
            if not re.search(PATH_PATTERN, path):
                raise InvalidRequest(f"distribution profile {self.name!r}: {key} {path!r} is not an absolute path")
        return replace(self, **paths)

    def targets(self, opt_in: tuple[str, str]) -> list[dict[str, Any]]:
        """SendCommand Targets: one entry per tag key and the opt-in tag (SSM ANDs them); none for instance IDs."""
        if not self.tags:
            return []
        keys = {**{key: list(values) for key, values in self.tags.items()}, opt_in[0]: [opt_in[1]]}
        return [{"Key": f"tag:{key}", "Values": values} for key, values in sorted(keys.items())]

    def document_parameters(self, secret_id: str, region: str, serial: str) -> dict[str, list[str]]:
        """SendCommand Parameters: names and paths only; the node fetches the key itself."""
        parameters = {
            "secretId": secret_id,
            "region": region,
            "expectedSerial": serial,
            "certificatePath": self.certificate_path,
            "chainPath": self.chain_path,
            "fullchainPath": self.fullchain_path,
            "keyPath": self.key_path,
            "pkcs12Path": self.pkcs12_path,
            "installPem": "true" if self.pem else "false",
            "owner": self.owner,
            "checkCommand": self.check_command,
            "reloadCommand": self.reload_command,
        }
        for name, value in parameters.items():
            if not re.search(DOCUMENT_PATTERNS[name], value):
                raise InvalidRequest(f"distribution: document parameter {name} {value!r} is not allowed")
        return {name: [value] for name, value in parameters.items()}

    def describe_targets(self) -> str:
        if self.instance_ids:
            return f"profile {self.name}: instances " + ", ".join(self.instance_ids)
        return f"profile {self.name}: " + " and ".join(f"tag {k} in {v}" for k, v in sorted(self.tags.items()))


# --- the execution's side: a profile's name, nothing else -----------------------------------------------------------


def parse_distribution(raw: Any, profiles: Mapping[str, DistributionProfile]) -> dict[str, str] | None:
    """An execution's `distribution`: {"profile": NAME} of a deployed profile, or None for `{}` (no distribution).
    Raises InvalidRequest with one clear message; targets, paths, owners and commands are refused, whatever else."""
    if not isinstance(raw, dict):
        raise InvalidRequest(
            "'distribution' must be {\"profile\": NAME} (a distribution profile of the deployed configuration), or {} "
            "to stop distributing"
        )
    if not raw:
        return None
    if set(raw) != {"profile"}:
        others = ", ".join(sorted(repr(key) for key in raw if key != "profile"))
        raise InvalidRequest(
            f"'distribution' takes only 'profile', not {others}: targets, paths, owner and commands are deploy-time "
            f"configuration. Define a distribution profile in the accounts file, deploy it, and name it "
            f'("distribution": {{"profile": "web"}}); see {MIGRATION_HELP}'
        )
    return {"profile": profile_of(raw, profiles).name}


def profile_of(choice: Any, profiles: Mapping[str, DistributionProfile], certificate: str = "") -> DistributionProfile:
    """The deployed profile a recorded or requested choice names. Raises InvalidRequest when the choice is not
    {"profile": NAME} (an inventory item written before profiles holds its targets and commands inline: those are
    never run) or names no deployed profile."""
    whose = f" of {certificate!r}" if certificate else ""
    if not isinstance(choice, Mapping) or set(choice) != {"profile"}:
        raise InvalidRequest(
            f"the distribution{whose} is not a profile name (an inline distribution from before profiles, which is "
            f"never run): name a distribution profile (certctl issue --distribution-profile NAME) or run "
            f"`certctl migrate-distribution`; see {MIGRATION_HELP}"
        )
    name = choice["profile"]
    if not isinstance(name, str) or not PROFILE_NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(f"'distribution' 'profile' must be a profile name, got {name!r}")
    profile = profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(profiles)) or "none"
        raise InvalidRequest(
            f"distribution profile {name!r}{whose} is not in the deployed configuration (deployed profiles: {known}): "
            f"add it under 'distribution-profiles:' in the accounts file and deploy"
        )
    return profile


# --- the accounts file's side: `distribution-profiles:` ---------------------------------------------------------------


def parse_profiles(raw: Any) -> dict[str, DistributionProfile]:
    """The accounts file's `distribution-profiles` mapping. Raises ProfileError naming the profile and the key."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProfileError("'distribution-profiles' must map profile names to their settings")
    profiles = {}
    for name, values in raw.items():
        name = str(name)
        if not PROFILE_NAME_PATTERN.fullmatch(name):
            raise ProfileError(f"distribution profile {name!r}: a name is 1-64 letters, digits, '.', '_' or '-'")
        try:
            profiles[name] = _profile(name, values)
        except ProfileError as exc:
            raise ProfileError(f"distribution profile {name!r}: {exc}") from None
    return profiles


def _profile(name: str, values: Any) -> DistributionProfile:
    if not isinstance(values, dict):
        raise ProfileError(f"expected its settings ({', '.join(PROFILE_KEYS)})")
    unknown = sorted(set(map(str, values)) - set(PROFILE_KEYS))
    if unknown:
        raise ProfileError(f"unknown key(s) {', '.join(map(repr, unknown))}; known keys: {', '.join(PROFILE_KEYS)}")
    tags = _tags(values.get("tags"))
    instance_ids = _instance_ids(values.get("instance-ids"))
    if bool(tags) == bool(instance_ids):
        raise ProfileError("give either 'tags' (SSM tag targets) or 'instance-ids', not both or none")
    directory = _matching("directory", values.get("directory", DEFAULT_DIRECTORY), "an absolute directory path")
    paths: dict[str, Any] = {}  # str values; Any: they fill str fields of a dataclass that has bool ones too
    for key, file in FILES.items():
        given = values.get(key.replace("_", "-"))
        paths[key] = directory + "/" + file if given is None else _matching(key.replace("_", "-"), given, "a path")
    if len(set(paths.values())) != len(paths):
        raise ProfileError("the certificate, chain, full chain and key paths must all differ")
    pkcs12 = _pkcs12_settings(values, paths)
    access_group = values.get("access-group", name)
    if not isinstance(access_group, str) or not ACCESS_GROUP_PATTERN.fullmatch(access_group):
        raise ProfileError(f"'access-group' must be a tag value (1-256 characters), got {access_group!r}")
    try:
        accounts = check_node_accounts(values.get("accounts"))
        external_id = check_profile_external_id(values.get("external-id"), bool(accounts))
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    owner = values.get("owner", DEFAULT_OWNER)
    if not isinstance(owner, str) or not re.search(OWNER_PATTERN, owner):
        raise ProfileError(f"'owner' must be user or user:group, got {owner!r}")
    return DistributionProfile(
        name=name,
        access_group=access_group,
        tags=tags,
        instance_ids=instance_ids,
        owner=owner,
        check_command=_command("check-command", values.get("check-command", "")),
        reload_command=_command("reload-command", values.get("reload-command", "")),
        accounts=accounts,
        external_id=external_id,
        **paths,
        **pkcs12,
    )


def _pkcs12_settings(values: Mapping[str, Any], paths: Mapping[str, str]) -> dict[str, Any]:
    """pkcs12_path, pem and pkcs12_legacy of a profile; raises ProfileError when they do not fit together."""
    pem = values.get("pem", True)
    legacy = values.get("pkcs12-legacy", False)
    for key, value in (("pem", pem), ("pkcs12-legacy", legacy)):
        if not isinstance(value, bool):
            raise ProfileError(f"{key!r} must be true or false, got {value!r}")
    given = values.get("pkcs12-path")
    if given is None:
        if not pem:
            raise ProfileError("'pem: false' installs no PEM file: it needs 'pkcs12-path', or nothing is installed")
        if legacy:
            raise ProfileError("'pkcs12-legacy' chooses how a PKCS#12 file is encrypted: give 'pkcs12-path' too")
        return {}
    path = _matching("pkcs12-path", given, "a path")
    if not pem:
        placed = [key for key in (file.replace("_", "-") for file in FILES) if key in values]
        if placed:
            keys = ", ".join(map(repr, placed))
            raise ProfileError(f"'pem: false' installs no PEM file: remove {keys} (or set 'pem: true')")
    elif path in paths.values():
        raise ProfileError(f"'pkcs12-path' {path!r} must differ from the certificate, chain, full chain and key paths")
    return {"pkcs12_path": path, "pem": pem, "pkcs12_legacy": legacy}


def _matching(key: str, value: Any, what: str) -> str:
    """A path (it may hold {name}): checked as it will be with the longest certificate name in it."""
    if not isinstance(value, str) or not re.search(PATH_PATTERN, value.replace(NAME_PLACEHOLDER, "n" * 128)):
        raise ProfileError(
            f"{key!r} must be {what} of letters, digits, '.', '_', '-' (segments not starting with '.'), "
            f"optionally with {NAME_PLACEHOLDER}, got {value!r}"
        )
    return value.rstrip("/") if key == "directory" else value


def _command(key: str, value: Any) -> str:
    if not isinstance(value, str) or not re.search(COMMAND_PATTERN, value):
        raise ProfileError(f"{key!r} must be one line of at most 1024 characters without single quotes")
    return value


def _tags(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not value or len(value) > MAX_TAG_KEYS:
        raise ProfileError(f"'tags' must map 1-{MAX_TAG_KEYS} tag keys to lists of values")
    tags: dict[str, list[str]] = {}
    for key, values in value.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(key, str) or not TAG_KEY_PATTERN.fullmatch(key):
            raise ProfileError(f"{key!r} is not a valid tag key")
        if not isinstance(values, list) or not values or len(values) > MAX_TAG_VALUES:
            raise ProfileError(f"tag {key!r} needs 1-{MAX_TAG_VALUES} values")
        for item in values:
            if not isinstance(item, str) or not TAG_VALUE_PATTERN.fullmatch(item):
                raise ProfileError(f"{item!r} is not a valid value for tag {key!r}")
        tags[key] = list(dict.fromkeys(values))
    return tags


def _instance_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not value or len(value) > MAX_INSTANCE_IDS:
        raise ProfileError(f"'instance-ids' must be a list of 1-{MAX_INSTANCE_IDS} instance IDs")
    for item in value:
        if not isinstance(item, str) or not INSTANCE_ID_PATTERN.fullmatch(item):
            raise ProfileError(f"{item!r} is not an EC2 or managed instance ID (i-... or mi-...)")
    return list(dict.fromkeys(value))
