"""Every read of moto's in-process backends the request mapping needs (sandbox.iam.requests), so the rest is pure.

moto 5.2.5 (pinned) keeps one backend per account and region, `moto.<service>.models.<service>_backends[account]
[region]`, created on first use; its global services (IAM, Route 53) are filed under the partition, "aws". Nothing
here creates or changes a resource (only moto's empty backends get created, on first access). A resource that does
not exist reads as None where AWS would still check the permission on the ARN the request names (the mapping builds
that ARN itself and moto answers NotFound afterwards); where the ARN cannot be built without it (a KMS alias), the
read raises Unmapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.iam.wire import Unmapped

PARTITION = "aws"
AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"
# moto's ciphertext blob begins with the 36 characters of the key's ID (moto.kms.utils.KEY_ID_LEN).
_MOTO_CIPHERTEXT_KEY_ID_LENGTH = 36


@dataclass(frozen=True)
class KmsKey:
    arn: str
    aws_managed: bool  # an AWS managed key (alias/aws/<service>): the service's own grant, no policy of the caller
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableKeys:
    partition_key: str
    sort_key: str | None


@dataclass(frozen=True)
class Table:
    name: str
    arn: str
    keys: TableKeys
    indexes: Mapping[str, TableKeys]  # local and global secondary indexes, by name
    kms_key_id: str | None  # the SSE specification's KMSMasterKeyId, when SSE with KMS is on


@dataclass(frozen=True)
class Secret:
    arn: str
    name: str
    tags: Mapping[str, str]
    kms_key_id: str | None
    stages: Mapping[str, str]  # version stage -> version ID (AWSCURRENT, AWSPENDING, ...)


@dataclass(frozen=True)
class Topic:
    arn: str
    tags: Mapping[str, str]
    kms_key_id: str | None


@dataclass(frozen=True)
class Node:
    """A node Run Command would run on: an EC2 instance (i-...) or a managed instance (mi-...)."""

    node_id: str
    arn: str
    tags: Mapping[str, str]


def _tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value") or "") for tag in tags or []}


def arn_part(arn: str, index: int) -> str:
    """A field of an ARN (1 partition, 2 service, 3 region, 4 account, 5 resource). Raises Unmapped if not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise Unmapped(f"{arn!r} is not an ARN")
    return parts[index]


class ResourceState:
    """moto's resources of one account and region, as the request mapping reads them."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region

    # --- KMS ------------------------------------------------------------------------------------------------------
    @staticmethod
    def _kms_backend(account: str, region: str) -> Any:
        from moto.kms.models import kms_backends

        return kms_backends[account][region]

    def kms_key(self, key_id: str) -> KmsKey:
        """The key a KeyId names: key ID, key ARN, alias name or alias ARN. A key ID or key ARN moto does not know
        still gives its ARN (AWS checks the permission on it); an alias that names no key raises Unmapped."""
        account, region = self.account, self.region
        if key_id.startswith("arn:"):
            account, region = arn_part(key_id, 4), arn_part(key_id, 3)
            resource = arn_part(key_id, 5)
            key_id = resource.removeprefix("key/") if resource.startswith("key/") else resource
        backend = self._kms_backend(account, region)
        if key_id.startswith("alias/"):
            keys = [key for key in backend.keys.values() if key_id in key.aliases]
            if not keys:
                if key_id.startswith(AWS_MANAGED_ALIAS_PREFIX):
                    # moto creates AWS managed keys on first use; their ARN is AWS's business, not the caller's
                    return KmsKey(f"arn:{PARTITION}:kms:{region}:{account}:{key_id}", aws_managed=True)
                raise Unmapped(f"kms: no key has the alias {key_id} in {account}/{region}")
            return self._key(backend, keys[0])
        key = backend.keys.get(key_id)
        if key is None:
            return KmsKey(f"arn:{PARTITION}:kms:{region}:{account}:key/{key_id}", aws_managed=False)
        return self._key(backend, key)

    @staticmethod
    def _key(backend: Any, key: Any) -> KmsKey:
        aliases = tuple(sorted(str(alias) for alias in key.aliases))
        tags = {
            str(tag["TagKey"]): str(tag["TagValue"]) for tag in backend.tagger.list_tags_for_resource(key.id)["Tags"]
        }
        aws_managed = any(alias.startswith(AWS_MANAGED_ALIAS_PREFIX) for alias in aliases)
        return KmsKey(str(key.arn), aws_managed, tags, aliases)

    def kms_key_of_ciphertext(self, ciphertext: bytes) -> KmsKey:
        """The key a (moto) ciphertext blob was encrypted under: Decrypt without KeyId. Raises Unmapped if the blob
        is not one of moto's."""
        try:
            key_id = ciphertext[:_MOTO_CIPHERTEXT_KEY_ID_LENGTH].decode("ascii")
        except UnicodeDecodeError as exc:
            raise Unmapped("kms: the ciphertext names no key") from exc
        if len(key_id) != _MOTO_CIPHERTEXT_KEY_ID_LENGTH:
            raise Unmapped("kms: the ciphertext names no key")
        return self.kms_key(key_id)

    def customer_key(self, key_id: str | None) -> KmsKey | None:
        """The customer managed key behind a service's KMS key setting; None for none or an AWS managed key (those
        the service uses through its own grant, with no permission of the caller)."""
        if not key_id or key_id.startswith(AWS_MANAGED_ALIAS_PREFIX):
            return None
        key = self.kms_key(key_id)
        return None if key.aws_managed else key

    # --- DynamoDB -------------------------------------------------------------------------------------------------
    def table(self, name: str) -> Table | None:
        """The table of a TableName (name or table ARN), None if moto has no such table."""
        from moto.dynamodb.models import dynamodb_backends

        if name.startswith("arn:"):
            name = arn_part(name, 5).removeprefix("table/")
        table = dynamodb_backends[self.account][self.region].tables.get(name)
        if table is None:
            return None

        def schema_keys(schema: Sequence[Mapping[str, str]]) -> TableKeys:
            kinds = {key["KeyType"]: key["AttributeName"] for key in schema}
            return TableKeys(kinds["HASH"], kinds.get("RANGE"))

        indexes = {index.name: schema_keys(index.schema) for index in [*table.indexes, *table.global_indexes]}
        sse = table.sse_specification or {}
        kms_key_id = sse.get("KMSMasterKeyId") if sse.get("Enabled") else None
        keys = TableKeys(table.hash_key_attr, table.range_key_attr)
        return Table(table.name, table.table_arn, keys, indexes, kms_key_id)

    # --- Secrets Manager ------------------------------------------------------------------------------------------
    def secret(self, secret_id: str) -> Secret | None:
        """The secret a SecretId names (name, full or partial ARN), None if moto has no such secret. An ARN of another
        account names that account's secret (a node account reading a bundle); its KMS key ID is then given as a key
        ARN of that account, so the key is found there too."""
        from moto.secretsmanager.models import secretsmanager_backends

        account = arn_part(secret_id, 4) if secret_id.startswith("arn:") else self.account
        secret: Any = secretsmanager_backends[account][self.region].secrets.get(secret_id)
        if secret is None:
            return None
        kms_key_id = secret.kms_key_id
        if account != self.account and kms_key_id and not kms_key_id.startswith(("arn:", AWS_MANAGED_ALIAS_PREFIX)):
            kms_key_id = ResourceState(account, self.region).kms_key(kms_key_id).arn
        stages = {
            str(stage): str(version_id)
            for version_id, version in secret.versions.items()
            for stage in version.get("version_stages", [])
        }
        return Secret(str(secret.arn), str(secret.name), _tag_dict(secret.tags), kms_key_id, stages)

    # --- ACM ------------------------------------------------------------------------------------------------------
    def certificate_tags(self, arn: str) -> Mapping[str, str] | None:
        """The tags of the certificate with this ARN, None if moto has no such certificate (in its ARN's region)."""
        from moto.acm.models import acm_backends

        account, region = arn_part(arn, 4), arn_part(arn, 3)
        bundle = acm_backends[account][region]._certificates.get(arn)
        return None if bundle is None else {str(key): str(value or "") for key, value in bundle.tags.items()}

    # --- SNS ------------------------------------------------------------------------------------------------------
    def topic(self, arn: str) -> Topic | None:
        """The topic with this ARN, None if moto has no such topic (in its ARN's account and region)."""
        from moto.sns.models import sns_backends

        topic = sns_backends[arn_part(arn, 4)][arn_part(arn, 3)].topics.get(arn)
        if topic is None:
            return None
        return Topic(arn, {str(k): str(v) for k, v in topic._tags.items()}, topic.kms_master_key_id or None)

    # --- SSM and the nodes it runs commands on --------------------------------------------------------------------
    def _ssm(self) -> Any:
        from moto.ssm.models import ssm_backends

        return ssm_backends[self.account][self.region]

    def _ssm_tags(self, resource_type: str, resource_id: str) -> dict[str, str]:
        tags = self._ssm()._resource_tags.get(resource_type, {}).get(resource_id, {})
        return {str(k): str(v) for k, v in tags.items()}

    def parameter_tags(self, name: str) -> Mapping[str, str]:
        """The tags of the SSM parameter (name, name:version or ARN); none if moto has no such parameter."""
        parameter = self._ssm().get_parameter(name)
        return {} if parameter is None else self._ssm_tags("Parameter", parameter.name)

    def document_tags(self, name: str) -> Mapping[str, str]:
        """The tags of the account's SSM document; none for a document moto does not have (or AWS's own)."""
        return self._ssm_tags("Document", name)

    def _ec2(self) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account][self.region]

    def node(self, node_id: str) -> Node:
        """The node with this ID (i-... an EC2 instance, mi-... a managed instance), with its tags (none if moto
        does not know it: AWS checks the permission on its ARN all the same)."""
        if node_id.startswith("mi-"):
            arn = f"arn:{PARTITION}:ssm:{self.region}:{self.account}:managed-instance/{node_id}"
            return Node(node_id, arn, self._ssm_tags("ManagedInstance", node_id))
        arn = f"arn:{PARTITION}:ec2:{self.region}:{self.account}:instance/{node_id}"
        return Node(node_id, arn, {str(k): str(v) for k, v in self._ec2().tags.get(node_id, {}).items()})

    def nodes_matching(self, filters: Mapping[str, Sequence[str]]) -> list[Node]:
        """The EC2 instances that pass every EC2 filter ("tag:<key>" or "tag-key" -> values), as Run Command
        resolves tag targets in moto (moto.ssm.models.Command._get_instance_ids_from_targets)."""
        reservations = self._ec2().all_reservations(filters={name: list(values) for name, values in filters.items()})
        return [self.node(instance.id) for reservation in reservations for instance in reservation.instances]

    # --- IAM ------------------------------------------------------------------------------------------------------
    def role_tags(self, role_arn: str) -> Mapping[str, str]:
        """The tags of the role with this ARN (in its own account); none if moto has no such role."""
        from moto.iam.models import iam_backends

        for role in iam_backends[arn_part(role_arn, 4)][PARTITION].get_roles():
            if role.arn == role_arn:
                tags: Any = role.tags or {}  # moto: {lower-cased key: {"Key": key, "Value": value}}
                return {str(tag["Key"]): str(tag["Value"]) for tag in tags.values()}
        return {}
