"""Secrets Manager: ACME account keys, EAB HMAC keys and certificate bundles, all under the stack's KMS key.

Only this module reads or writes key material. Callers get ARNs and names back; an error message never
carries a secret value.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import AccountSecretMissing
from certlib.resources import (
    MANAGED_BY_TAG,
    account_key_secret_name,
    certificate_secret_name,
    eab_hmac_secret_name,
    export_passphrase_secret_name,
)

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import TagTypeDef

TAGS: list[TagTypeDef] = [{"Key": MANAGED_BY_TAG[0], "Value": MANAGED_BY_TAG[1]}]


@dataclass(frozen=True)
class StoredSecret:
    arn: str
    value: dict[str, Any]


class SecretStore:
    def __init__(self, client: SecretsManagerClient, secret_prefix: str, kms_key_id: str) -> None:
        self._client = client
        self._prefix = secret_prefix
        self._kms_key_id = kms_key_id

    # --- EAB HMAC keys ---------------------------------------------------------------------------------------
    def put_eab_hmac_key(self, alias: str, hmac_key: str) -> str:
        """Create or update the EAB HMAC secret of an alias; returns its ARN."""
        return self._put(eab_hmac_secret_name(self._prefix, alias), {"eab_hmac_key": hmac_key})

    def eab_hmac_key(self, alias: str) -> str:
        """Raises AccountSecretMissing when the alias's HMAC key was never stored."""
        name = eab_hmac_secret_name(self._prefix, alias)
        stored = self._get(name)
        if stored is None or not stored.value.get("eab_hmac_key"):
            raise AccountSecretMissing(
                f"the EAB HMAC key of ACME account {alias!r} is not in Secrets Manager ({name}): "
                f"store it with `python -m certctl accounts push --file acme-accounts.yaml`"
            )
        return str(stored.value["eab_hmac_key"])

    # --- ACME account keys -------------------------------------------------------------------------------------
    def account(self, alias: str) -> StoredSecret | None:
        return self._get(account_key_secret_name(self._prefix, alias))

    def put_account(self, alias: str, value: dict[str, Any]) -> str:
        return self._put(account_key_secret_name(self._prefix, alias), value)

    def add_account(self, alias: str, value: dict[str, Any]) -> dict[str, Any]:
        """Store the alias's first account key, unless another execution stored one first: CreateSecret is atomic,
        so of two executions registering at once both go on with the same key. Returns what is stored."""
        name = account_key_secret_name(self._prefix, alias)
        try:
            self._create(name, json.dumps(value, sort_keys=True))
            return value
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceExistsException":
                raise_classified(exc, f"creating secret {name}")
        stored = self._get(name)
        return stored.value if stored is not None else value

    # --- certificate bundles ----------------------------------------------------------------------------------
    def certificate(self, name: str) -> StoredSecret | None:
        return self._get(certificate_secret_name(self._prefix, name))

    def put_certificate(self, name: str, value: dict[str, Any]) -> str:
        return self._put(certificate_secret_name(self._prefix, name), value)

    def tag_certificate(self, name: str, tags: dict[str, str]) -> None:
        """Set tags on a certificate's secret (the nodes' access group); safe to repeat."""
        secret = certificate_secret_name(self._prefix, name)
        try:
            self._client.tag_resource(SecretId=secret, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        except ClientError as exc:
            raise_classified(exc, f"tagging secret {secret}")

    def set_certificate_policy(self, name: str, policy: dict[str, Any] | None) -> None:
        """Put `policy` as the certificate secret's resource policy (node accounts may read it), or delete the one it
        has when None (no node account any more). Public policies are refused (BlockPublicPolicy). Safe to repeat."""
        secret = certificate_secret_name(self._prefix, name)
        try:
            if policy is None:
                self._client.delete_resource_policy(SecretId=secret)
            else:
                self._client.put_resource_policy(
                    SecretId=secret, ResourcePolicy=json.dumps(policy, sort_keys=True), BlockPublicPolicy=True
                )
        except ClientError as exc:
            raise_classified(exc, f"{'removing' if policy is None else 'setting'} the resource policy of {secret}")

    # --- passphrases of ACM exports -------------------------------------------------------------------------
    def export_passphrase(self, name: str) -> str:
        """The passphrase ACM encrypts this certificate's exported key with: made once, kept here, never logged."""
        secret = export_passphrase_secret_name(self._prefix, name)
        stored = self._get(secret)
        if stored is not None and stored.value.get("passphrase"):
            return str(stored.value["passphrase"])
        passphrase = secrets.token_hex(32)  # ACM: 4-128 characters, none of #, $, %
        self._put(secret, {"passphrase": passphrase})
        return passphrase

    # --- plumbing ---------------------------------------------------------------------------------------------
    def _get(self, name: str) -> StoredSecret | None:
        try:
            response = self._client.get_secret_value(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise_classified(exc, f"reading secret {name}")
        return StoredSecret(arn=response["ARN"], value=json.loads(response["SecretString"]))

    def _put(self, name: str, value: dict[str, Any]) -> str:
        """Create the secret, or add a new current version when it exists (safe to repeat)."""
        text = json.dumps(value, sort_keys=True)
        try:
            return self._client.put_secret_value(SecretId=name, SecretString=text)["ARN"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise_classified(exc, f"writing secret {name}")
        try:
            return self._create(name, text)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceExistsException":  # created meanwhile by a twin
                return self._client.put_secret_value(SecretId=name, SecretString=text)["ARN"]
            raise_classified(exc, f"creating secret {name}")

    def _create(self, name: str, text: str) -> str:
        """A new secret under the stack key, with our tags; raises ClientError (ResourceExistsException when it
        exists)."""
        return self._client.create_secret(Name=name, SecretString=text, KmsKeyId=self._kms_key_id, Tags=TAGS)["ARN"]
