"""A certificate's distribution: which nodes get it (SSM targets) and how (the document's parameters).

It is given as `distribution` in a lifecycle execution's input (or `certctl export`), checked here before anything is
written, and kept on the certificate's inventory item, so renewals, ACM's renewals of exported certificates and
`certctl renew` send it to the same nodes without being told again:

    "distribution": {
      "tags": {"role": ["web"], "env": ["prod"]},       # or "instance_ids": ["i-0123456789abcdef0"]
      "certificate_path": "/etc/ssl/acme/web/cert.pem",  # these four default to /etc/ssl/acme/<name>/...
      "chain_path": "/etc/ssl/acme/web/chain.pem",
      "fullchain_path": "/etc/ssl/acme/web/fullchain.pem",
      "key_path": "/etc/ssl/acme/web/privkey.pem",
      "owner": "root:root",
      "check_command": "nginx -t",
      "reload_command": "systemctl reload nginx",
      "access_group": "web"                               # default: the certificate's name
    }

`"distribution": {}` stops distributing a certificate; leaving the key out keeps what the inventory has.
The patterns are the document's allowedPattern values (ssm/distribute-certificate.yaml; a test keeps them equal):
SSM pastes parameter values into the script, so these patterns are what keep them data.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from certlib.exceptions import InvalidRequest

PATH_PATTERN = r"^(/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,254}){1,32}$"
OWNER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}(:[A-Za-z_][A-Za-z0-9_.-]{0,31})?$"
COMMAND_PATTERN = r"^[^'\r\n]{0,1024}$"
SECRET_ID_PATTERN = r"^[A-Za-z0-9/_+=.@:-]{1,2048}$"  # noqa: S105 - a name pattern
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]{1,2}$"
SERIAL_PATTERN = r"^[0-9a-fA-F]{0,64}$"
# The document's parameter -> its pattern (and the spec field it comes from, where there is one).
DOCUMENT_PATTERNS = {
    "secretId": SECRET_ID_PATTERN,
    "region": REGION_PATTERN,
    "expectedSerial": SERIAL_PATTERN,
    "certificatePath": PATH_PATTERN,
    "chainPath": PATH_PATTERN,
    "fullchainPath": PATH_PATTERN,
    "keyPath": PATH_PATTERN,
    "owner": OWNER_PATTERN,
    "checkCommand": COMMAND_PATTERN,
    "reloadCommand": COMMAND_PATTERN,
}
TAG_KEY_PATTERN = re.compile(r"[A-Za-z0-9 _.:/=+@-]{1,128}")
TAG_VALUE_PATTERN = re.compile(r"[A-Za-z0-9 _.:/=+@-]{1,256}")
INSTANCE_ID_PATTERN = re.compile(r"(i|mi)-[0-9a-f]{8,17}")
ACCESS_GROUP_PATTERN = re.compile(r"[A-Za-z0-9_.:/=+@-]{1,256}")
MAX_TAG_KEYS = 5  # SSM Targets: at most 5 keys (ANDed)
MAX_TAG_VALUES = 50
MAX_INSTANCE_IDS = 50  # SendCommand InstanceIds
DEFAULT_DIRECTORY = "/etc/ssl/acme"
DEFAULT_OWNER = "root:root"
FIELDS = (
    "tags",
    "instance_ids",
    "certificate_path",
    "chain_path",
    "fullchain_path",
    "key_path",
    "owner",
    "check_command",
    "reload_command",
    "access_group",
)


@dataclass(frozen=True)
class DistributionSpec:
    """Where a certificate goes and how it is installed there; plain JSON (kept in the inventory as is)."""

    certificate_path: str
    chain_path: str
    fullchain_path: str
    key_path: str
    access_group: str
    tags: dict[str, list[str]] = field(default_factory=dict)
    instance_ids: list[str] = field(default_factory=list)
    owner: str = DEFAULT_OWNER
    check_command: str = ""
    reload_command: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DistributionSpec:
        """From what to_dict wrote (the inventory turns lists into lists of str already)."""
        values = {key: data[key] for key in FIELDS if key in data}
        values["tags"] = {str(k): [str(v) for v in vs] for k, vs in (data.get("tags") or {}).items()}
        values["instance_ids"] = [str(i) for i in data.get("instance_ids") or []]
        return cls(**values)

    def targets(self) -> list[dict[str, Any]]:
        """SendCommand Targets: one entry per tag key (SSM ANDs them); empty when instance IDs are used."""
        return [{"Key": f"tag:{key}", "Values": list(values)} for key, values in sorted(self.tags.items())]

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
            return "instances " + ", ".join(self.instance_ids)
        return " and ".join(f"tag {key} in {values}" for key, values in sorted(self.tags.items()))


def parse_distribution(raw: Any, name: str) -> DistributionSpec | None:
    """The checked spec, None for `{}` (no distribution). Raises InvalidRequest with one clear message."""
    if not isinstance(raw, dict):
        raise InvalidRequest('\'distribution\' must be an object, e.g. {"tags": {"role": ["web"]}}')
    if not raw:
        return None
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise InvalidRequest(f"distribution: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    tags = _tags(raw.get("tags"))
    instance_ids = _instance_ids(raw.get("instance_ids"))
    if bool(tags) == bool(instance_ids):
        raise InvalidRequest("distribution: give either 'tags' (SSM tag targets) or 'instance_ids', not both or none")
    directory = f"{DEFAULT_DIRECTORY}/{name}"
    paths = {
        "certificate_path": f"{directory}/cert.pem",
        "chain_path": f"{directory}/chain.pem",
        "fullchain_path": f"{directory}/fullchain.pem",
        "key_path": f"{directory}/privkey.pem",
    }
    for key in paths:
        value = raw.get(key)
        if value is not None:
            paths[key] = _matching(key, value, PATH_PATTERN, "an absolute path of letters, digits, '.', '_', '-'")
    if len(set(paths.values())) != len(paths):
        raise InvalidRequest("distribution: the certificate, chain, full chain and key paths must all differ")
    owner = raw.get("owner", DEFAULT_OWNER)
    access_group = raw.get("access_group", name)
    if not isinstance(access_group, str) or not ACCESS_GROUP_PATTERN.fullmatch(access_group):
        raise InvalidRequest(
            f"distribution: 'access_group' must be a tag value (1-256 characters), got {access_group!r}"
        )
    return DistributionSpec(
        **paths,
        access_group=access_group,
        tags=tags,
        instance_ids=instance_ids,
        owner=_matching("owner", owner, OWNER_PATTERN, "user or user:group"),
        check_command=_matching("check_command", raw.get("check_command", ""), COMMAND_PATTERN, _COMMAND_RULE),
        reload_command=_matching("reload_command", raw.get("reload_command", ""), COMMAND_PATTERN, _COMMAND_RULE),
    )


_COMMAND_RULE = "one line of at most 1024 characters without single quotes"


def _matching(key: str, value: Any, pattern: str, rule: str) -> str:
    if not isinstance(value, str) or not re.search(pattern, value):
        raise InvalidRequest(f"distribution: {key!r} must be {rule}, got {value!r}")
    return value


def _tags(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_TAG_KEYS:
        raise InvalidRequest(f"distribution: 'tags' must map up to {MAX_TAG_KEYS} tag keys to lists of values")
    tags: dict[str, list[str]] = {}
    for key, values in value.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(key, str) or not TAG_KEY_PATTERN.fullmatch(key):
            raise InvalidRequest(f"distribution: {key!r} is not a valid tag key")
        if not isinstance(values, list) or not values or len(values) > MAX_TAG_VALUES:
            raise InvalidRequest(f"distribution: tag {key!r} needs 1-{MAX_TAG_VALUES} values")
        for item in values:
            if not isinstance(item, str) or not TAG_VALUE_PATTERN.fullmatch(item):
                raise InvalidRequest(f"distribution: {item!r} is not a valid value for tag {key!r}")
        tags[key] = list(dict.fromkeys(values))
    return tags


def _instance_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_INSTANCE_IDS:
        raise InvalidRequest(f"distribution: 'instance_ids' must be a list of at most {MAX_INSTANCE_IDS} instance IDs")
    for item in value:
        if not isinstance(item, str) or not INSTANCE_ID_PATTERN.fullmatch(item):
            raise InvalidRequest(f"distribution: {item!r} is not an EC2 or managed instance ID (i-... or mi-...)")
    return list(dict.fromkeys(value))
