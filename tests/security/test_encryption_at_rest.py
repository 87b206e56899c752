"""Key material at rest is only in Secrets Manager, under the stack's KMS key: in the template, and in every sandbox
after the whole suite ran (each secret the functions, `certctl accounts push` and the sandbox created)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from certlib.resources import Env, ResourceNames
from sandbox.process import is_running
from tests.lifecycle.helpers import target_of

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()


def stack_key(synthesized: Synthesized) -> dict[str, Any]:
    return {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}


def test_every_secret_of_the_template_is_under_the_stack_key(synthesized: Synthesized) -> None:
    # Given the secrets the template creates (EAB placeholders)
    secrets = synthesized.resources("AWS::SecretsManager::Secret")
    # Then each is encrypted with the stack's key and holds no value written into the template
    assert secrets
    for logical_id, secret in secrets.items():
        assert secret["Properties"]["KmsKeyId"] == stack_key(synthesized), logical_id
        assert "SecretString" not in secret["Properties"], logical_id


def test_the_secrets_functions_create_are_under_the_stack_key(synthesized: Synthesized) -> None:
    # Given every function (they create the account-key, certificate and passphrase secrets at run time)
    functions = synthesized.resources("AWS::Lambda::Function")
    # Then each is told the stack's key as the one to create secrets with
    assert functions
    for logical_id, function in functions.items():
        assert function["Properties"]["Environment"]["Variables"][Env.KMS_KEY_ID] == stack_key(synthesized), logical_id


def test_what_could_hold_key_material_by_mistake_is_encrypted_with_the_stack_key(synthesized: Synthesized) -> None:
    # Given the inventory table and every log group (a mistake would put key material there)
    (table,) = synthesized.resources("AWS::DynamoDB::Table").values()
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    # Then they are encrypted with the stack's key too
    assert table["Properties"]["SSESpecification"]["KMSMasterKeyId"] == stack_key(synthesized)
    assert log_groups
    for logical_id, log_group in log_groups.items():
        assert log_group["Properties"]["KmsKeyId"] == stack_key(synthesized), logical_id


@pytest.mark.after_everything
@pytest.mark.usefixtures("something_to_scan")
def test_every_secret_in_every_running_sandbox_is_under_its_stack_key(
    sandbox: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given every sandbox of the session that still runs (the session's, and the ones started for other settings)
    infos = []
    for info_path in tmp_path_factory.getbasetemp().rglob("sandbox.json"):
        info = json.loads(Path(info_path).read_text())
        if is_running(int(info["pid"])):
            infos.append(info)
    assert sandbox["state_dir"] in {info["state_dir"] for info in infos}
    checked = 0
    for info in infos:
        target = target_of(info)
        kms, secretsmanager = target.client("kms"), target.client("secretsmanager")
        key_arn = kms.describe_key(KeyId=target.names.kms_alias)["KeyMetadata"]["Arn"]
        for page in secretsmanager.get_paginator("list_secrets").paginate():
            for listed in page["SecretList"]:
                # When a secret's key is resolved (an alias, an ID or an ARN)
                described = secretsmanager.describe_secret(SecretId=listed["ARN"])
                assert described.get("KmsKeyId"), f"{listed['Name']} uses the account's default key"
                resolved = kms.describe_key(KeyId=described["KmsKeyId"])["KeyMetadata"]["Arn"]
                # Then it is the stack's key, and the secret is named under the stack's prefix (what IAM allows)
                assert resolved == key_arn, listed["Name"]
                assert listed["Name"].startswith(target.names.secret_prefix), listed["Name"]
                checked += 1
    # And there were secrets of every kind to check in the session's sandbox
    names = [
        listed["Name"]
        for page in target_of(sandbox).client("secretsmanager").get_paginator("list_secrets").paginate()
        for listed in page["SecretList"]
    ]
    for kind in ("acme-eab/", "acme-account/", "certificate/"):
        assert any(kind in name for name in names), kind
    assert checked >= len(names)
