"""What the stack keeps: the key, the inventory table, the deployed configuration, the EAB secrets, and no secret."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from certlib.config import AccountConfig, Config
from certlib.resources import (
    INVENTORY_PARTITION_KEY,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_INDEX,
    ResourceNames,
    eab_hmac_secret_name,
)
from stacks.constructs.account_configuration import AccountConfiguration

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()


def key_arn(synthesized: Synthesized) -> dict[str, Any]:
    return {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}


def test_key_rotates_is_kept_and_has_the_alias(synthesized: Synthesized) -> None:
    # Given / When the key and its alias
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    (alias,) = synthesized.resources("AWS::KMS::Alias").values()

    # Then rotation is on, the key outlives the stack, and the alias is the one ResourceNames gives
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert alias["Properties"]["AliasName"] == NAMES.kms_alias


def test_inventory_table(synthesized: Synthesized) -> None:
    # Given / When the inventory table
    (table,) = synthesized.resources("AWS::DynamoDB::Table").values()
    properties = table["Properties"]

    # Then it is keyed by name, on demand, recoverable to a point in time, encrypted with the key, and kept
    assert properties["TableName"] == NAMES.inventory_table
    assert properties["KeySchema"] == [{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}]
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"}
        for name in sorted((INVENTORY_PARTITION_KEY, RENEWAL_BUCKET_ATTRIBUTE, RENEW_AFTER_ATTRIBUTE))
    ]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    encryption = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn(synthesized)}
    assert properties["SSESpecification"] == encryption
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_inventory_has_the_sparse_renewal_index(synthesized: Synthesized) -> None:
    # Given / When the inventory table's secondary indexes
    (table,) = synthesized.resources("AWS::DynamoDB::Table").values()
    indexes = table["Properties"]["GlobalSecondaryIndexes"]

    # Then the one index is the sweep's: bucket (hash) and renew_after (range), keys only, as the sandbox builds it
    assert indexes == [
        {
            "IndexName": RENEWAL_INDEX,
            "KeySchema": [
                {"AttributeName": RENEWAL_BUCKET_ATTRIBUTE, "KeyType": "HASH"},
                {"AttributeName": RENEW_AFTER_ATTRIBUTE, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]


def test_config_parameter_holds_the_secret_free_config(synthesized: Synthesized, example_accounts: Any) -> None:
    # Given / When the config parameter
    (parameter,) = synthesized.resources("AWS::SSM::Parameter").values()

    # Then it is the String parameter ResourceNames names, holding Config.to_json() of the accounts file
    assert parameter["Properties"]["Name"] == NAMES.config_parameter
    assert parameter["Properties"]["Type"] == "String"
    assert parameter["Properties"]["Tier"] == "Standard"
    assert parameter["Properties"]["Value"] == example_accounts.config.to_json()


def test_one_placeholder_secret_per_eab_account(synthesized: Synthesized, example_accounts: Any) -> None:
    # Given the accounts of the example that use EAB
    eab_aliases = sorted(alias for alias, account in example_accounts.config.accounts.items() if account.uses_eab)

    # When the stack's secrets are read
    secrets = synthesized.resources("AWS::SecretsManager::Secret").values()
    names = sorted(secret["Properties"]["Name"] for secret in secrets)

    # Then there is one per EAB alias, encrypted with the key, kept, and holding only a generated placeholder
    assert eab_aliases
    assert names == [eab_hmac_secret_name(NAMES.secret_prefix, alias) for alias in eab_aliases]
    for secret in secrets:
        properties = secret["Properties"]
        assert properties["KmsKeyId"] == key_arn(synthesized)
        assert "SecretString" not in properties
        assert properties["GenerateSecretString"]["GenerateStringKey"] != "eab_hmac_key"  # what `accounts push` writes
        assert json.loads(properties["GenerateSecretString"]["SecretStringTemplate"]) == {}
        assert secret["DeletionPolicy"] == "Retain"


def test_no_secret_reaches_the_cloud_assembly(synthesized: Synthesized, example_accounts: Any) -> None:
    # Given the EAB HMAC keys of the example accounts file
    hmac_keys = list(example_accounts.eab_hmac_keys.values())

    # When the template and the other top-level files of the cloud assembly are read
    assembly = synthesized.template_path.parent
    texts = {path.name: path.read_text() for path in assembly.iterdir() if path.is_file()}

    # Then none holds an HMAC key, and the template holds no private key
    assert hmac_keys
    assert synthesized.template_path.name in texts
    for name, text in texts.items():
        assert not [key for key in hmac_keys if key in text], name
    assert "PRIVATE KEY" not in texts[synthesized.template_path.name]


def test_outputs(synthesized: Synthesized) -> None:
    # Given / When the stack's outputs
    outputs = synthesized.template_json["Outputs"]

    # Then the state machine, table, config parameter and key can be found from them
    lifecycle_id, _ = synthesized.state_machine(NAMES.lifecycle_state_machine)
    sweep_id, _ = synthesized.state_machine(NAMES.renewal_sweep_state_machine)
    assert outputs["StateMachineArn"]["Value"] == {"Ref": lifecycle_id}
    assert outputs["RenewalSweepStateMachineArn"]["Value"] == {"Ref": sweep_id}
    assert outputs["InventoryTableName"]["Value"] == {"Ref": synthesized.only_id("AWS::DynamoDB::Table")}
    assert outputs["ConfigParameterName"]["Value"] == {"Ref": synthesized.only_id("AWS::SSM::Parameter")}
    assert outputs["KmsKeyArn"]["Value"] == key_arn(synthesized)


def test_a_config_over_4_kb_uses_the_advanced_tier() -> None:
    # Given a configuration whose JSON is larger than a Standard parameter holds
    long_path = "x" * 80
    accounts = {
        f"a{i}": AccountConfig(alias=f"a{i}", directory_url=f"https://acme.example/{long_path}/{i}") for i in range(40)
    }
    config = Config(accounts=accounts, default_account="a0")
    assert len(config.to_json().encode()) > 4096

    # When only the configuration construct is synthesized
    stack = Stack(App(), "Probe")
    AccountConfiguration(stack, "Configuration", names=NAMES, config=config, key=kms.Key(stack, "Key"))

    # Then the parameter is Advanced, and without EAB accounts there is no secret
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SSM::Parameter", {"Tier": "Advanced"})
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
