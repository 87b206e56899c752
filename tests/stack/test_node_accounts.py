"""Nodes in other accounts, in the templates: the stack's KMS key policy names exactly the profiles' node accounts
(decrypt through Secrets Manager only, certificate secrets only, with an access-group principal tag), and the
node-account stack's managed policy is deploy.node_account_policies' document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from certlib.distribution.node_accounts import node_check_role_name, node_send_role_name
from certlib.resources import ACCESS_GROUP_TAG, DISTRIBUTION_OPT_IN_TAG, ResourceNames
from deploy.node_account_policies import KEY_POLICY_SID, node_check_policy, node_read_policy, node_send_policy
from sandbox.iam.template import load_templates, synthesize
from sandbox.provision import sandbox_synthesis_input
from stacks.constructs.encryption import EncryptionKey
from stacks.nag import flatten_cfn_reference as flat
from stacks.node_account_stack import NodeAccountStack, parse_node_accounts
from stacks.settings import SettingsError

NAMES = ResourceNames()
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"


def key_policy(node_accounts: list[str]) -> list[dict[str, Any]]:
    stack = Stack(App(), "Key")
    EncryptionKey(stack, "Encryption", names=NAMES, node_accounts=node_accounts)
    (key,) = Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
    return list(key["Properties"]["KeyPolicy"]["Statement"])


def test_the_key_policy_lets_exactly_the_node_accounts_decrypt_bundles_through_secrets_manager() -> None:
    # Given two node accounts named by the profiles (one twice)
    statements = key_policy(["333333333333", "222222222222", "333333333333"])
    # When / Then one statement names exactly those accounts, for kms:Decrypt only, through Secrets Manager only, on
    # certificate secrets only, for principals carrying an access-group tag
    (statement,) = [s for s in statements if s.get("Sid") == KEY_POLICY_SID]
    assert [flat(p) for p in statement["Principal"]["AWS"]] == [
        "arn:<AWS::Partition>:iam::222222222222:root",
        "arn:<AWS::Partition>:iam::333333333333:root",
    ]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "kms:Decrypt", "*")
    conditions = statement["Condition"]
    assert set(conditions) == {"StringEquals", "StringLike", "Null"}
    assert flat(conditions["StringEquals"]["kms:ViaService"]) == "secretsmanager.<AWS::Region>.amazonaws.com"
    assert flat(conditions["StringLike"]["kms:EncryptionContext:SecretARN"]) == (
        "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:acme-certs/certificate/*"
    )
    assert conditions["Null"] == {f"aws:PrincipalTag/{ACCESS_GROUP_TAG}": "false"}
    # and no other statement names another account
    others = [s for s in statements if s is not statement]
    assert all("222222222222" not in str(s) and "333333333333" not in str(s) for s in others)


def test_without_node_accounts_the_key_policy_names_no_other_account() -> None:
    statements = key_policy([])
    assert KEY_POLICY_SID not in {s.get("Sid") for s in statements}
    assert all(":root" not in flat(s.get("Principal", {}).get("AWS", "")) or "AccountId" in str(s) for s in statements)


def flattened(value: Any) -> Any:
    """A resolved document with each CloudFormation reference written as flatten_cfn_reference writes it."""
    if isinstance(value, dict) and set(value) & {"Ref", "Fn::Join"}:
        return flat(value)
    if isinstance(value, dict):
        return {key: flattened(item) for key, item in value.items()}
    if isinstance(value, list):
        return [flattened(item) for item in value]
    return value


SEND_ROLE = "arn:aws:iam::111111111111:role/AcmeCertificates-SendDistributionRole-ABC"
CHECK_ROLE = "arn:aws:iam::111111111111:role/AcmeCertificates-CheckDistributionRole-DEF"


def node_stack(app: App | None = None, **overrides: Any) -> NodeAccountStack:
    arguments = {
        "issuing_account": "111111111111",
        "issuing_region": "eu-west-1",
        "key_arn": KEY_ARN,
        "send_role_arn": SEND_ROLE,
        "check_role_arn": CHECK_ROLE,
        **overrides,
    }
    return NodeAccountStack(app or App(), "Nodes", prefix=NAMES.prefix, **arguments)


def test_the_node_account_stack_holds_the_node_policy_of_the_builder() -> None:
    # Given the node-account stack for a workload in 111111111111 / eu-west-1
    stack = node_stack()
    template = Template.from_stack(stack)
    # When / Then its node policy reads the issuing account's bundles of the role's own access group and decrypts
    # them with its key through Secrets Manager
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    document = stack.resolve(policy["Properties"]["PolicyDocument"])
    secrets = "arn:<AWS::Partition>:secretsmanager:eu-west-1:111111111111:secret:acme-certs/certificate/*"
    assert flattened(document) == node_read_policy(secrets, KEY_ARN, "eu-west-1")
    assert policy["Properties"]["ManagedPolicyName"] == f"{NAMES.certificate_nodes_policy}-111111111111"
    template.has_output("NodePolicyArn", {"Value": Match.any_value()})
    # and nothing but the policy, the document and the two roles
    types = sorted(resource["Type"] for resource in template.to_json()["Resources"].values())
    assert types == ["AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::Role", "AWS::SSM::Document"]


def roles(stack: NodeAccountStack) -> dict[str, dict[str, Any]]:
    found = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    return {role["Properties"]["RoleName"]: stack.resolve(role["Properties"]) for role in found.values()}


def test_the_send_role_trusts_exactly_the_send_step_and_sends_only_the_document_to_opted_in_nodes() -> None:
    stack = node_stack(external_id="acme-nodes")
    send = roles(stack)[node_send_role_name(NAMES.prefix)]
    # the trust: the issuing account, exactly the send step's role, with the external ID
    (trust,) = send["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": [SEND_ROLE]},
        "StringEquals": {"sts:ExternalId": "acme-nodes"},
    }
    # the permissions: SendCommand of the document, and to this account's nodes that opted in
    (policy,) = send["Policies"]
    assert flattened(policy["PolicyDocument"]) == node_send_policy(
        f"arn:<AWS::Partition>:ssm:eu-west-1:<AWS::AccountId>:document/{NAMES.distribution_document}",
        [
            "arn:<AWS::Partition>:ec2:eu-west-1:<AWS::AccountId>:instance/*",
            "arn:<AWS::Partition>:ssm:eu-west-1:<AWS::AccountId>:managed-instance/*",
        ],
        (DISTRIBUTION_OPT_IN_TAG, NAMES.prefix),
    )


def test_the_check_role_trusts_exactly_the_check_step_and_only_reads_commands() -> None:
    check = roles(node_stack())[node_check_role_name(NAMES.prefix)]
    (trust,) = check["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [CHECK_ROLE]}}
    (policy,) = check["Policies"]
    assert flattened(policy["PolicyDocument"]) == node_check_policy()


def test_the_node_account_stack_passes_cdk_nag_with_reasons() -> None:
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    node_stack(app)
    app.synth()  # raises on an unacknowledged finding


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"issuing_account": "1111"}, "12 digits"),
        ({"key_arn": "alias/acme-certs"}, "not a KMS key ARN"),
        ({"issuing_region": "us-east-1"}, "is not in 111111111111/us-east-1"),
        ({"send_role_arn": "arn:aws:iam::999999999999:role/x"}, "not a role ARN of 111111111111"),
        ({"external_id": "a"}, "not one STS accepts"),
    ],
)
def test_the_node_account_stack_refuses_what_cannot_be_the_issuing_side(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        node_stack(None, **overrides)


@pytest.mark.synth
def test_the_certificate_stack_with_a_node_account_profile_names_exactly_that_account() -> None:
    # Given the app synthesized as the sandbox does, with a profile naming the node account 222222222222 (the
    # sandbox's own input: its cached assembly, which a synthesis of any other input would replace)
    templates = load_templates(synthesize(sandbox_synthesis_input(NAMES)))
    (workload,) = [
        template
        for template in templates.values()
        if any(r["Type"] == "AWS::Lambda::Function" for r in template["Resources"].values())
    ]
    resources = workload["Resources"].values()

    # Then the key policy names exactly that account, for decryption through Secrets Manager
    (key,) = [r for r in resources if r["Type"] == "AWS::KMS::Key"]
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == KEY_POLICY_SID]
    assert flat(statement["Principal"]["AWS"]) == "arn:<AWS::Partition>:iam::222222222222:root"  # one: not a list
    # and send_distribution and check_distribution may assume exactly that account's send and check roles
    statements = [
        s for r in resources if r["Type"] == "AWS::IAM::Policy" for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assumed = {s["Sid"]: flat(s["Resource"]) for s in statements if s["Action"] == "sts:AssumeRole"}
    role = "arn:<AWS::Partition>:iam::222222222222:role/"
    assert {sid: arn for sid, arn in assumed.items() if "NodeAccounts" in sid} == {
        "SendInNodeAccounts": f"{role}{node_send_role_name(NAMES.prefix)}",
        "ReadCommandsInNodeAccounts": f"{role}{node_check_role_name(NAMES.prefix)}",
    }
    # and the node account's stack gets the roles to trust from the outputs
    assert {"KmsKeyArn", "SendDistributionRoleArn", "CheckDistributionRoleArn"} <= set(workload["Outputs"])


NODE_CONTEXT = {
    "account": "222222222222",
    "keyArn": KEY_ARN,
    "sendRoleArn": SEND_ROLE,
    "checkRoleArn": CHECK_ROLE,
    "externalId": "acme-nodes",
}


def test_the_app_deploys_one_node_account_stack_per_context_entry(tmp_path: Any, layer_directory: Any) -> None:
    from stacks.application import build_deployment

    # Given the context nodeAccounts, as `-c nodeAccounts='[...]'` passes it
    deployed = build_deployment(
        {"layerDirectory": str(layer_directory), "nodeAccounts": json.dumps([NODE_CONTEXT])}, outdir=str(tmp_path)
    )
    # When the app is synthesized (cdk-nag included)
    deployed.app.synth()
    # Then there is one node-account stack, in the node account and the issuing region, trusting the given roles
    (stack,) = deployed.node_stacks
    assert (stack.stack_name, stack.account, stack.region) == (
        "AcmeCertificateNodes-222222222222",
        "222222222222",
        "eu-west-1",
    )
    send = roles(stack)[node_send_role_name(NAMES.prefix)]
    (trust,) = send["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["ArnEquals"] == {"aws:PrincipalArn": [SEND_ROLE]}
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": "acme-nodes"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[", "context nodeAccounts is not valid JSON"),
        ({"account": "222222222222"}, "must be a list"),
        (
            [{**NODE_CONTEXT, "region": "eu-west-1"}],
            r"nodeAccounts\[0\]: unknown field\(s\) 'region'",
        ),
        ([{"account": "222222222222", "keyArn": KEY_ARN}], r"nodeAccounts\[0\] needs sendRoleArn, checkRoleArn"),
        ([{**NODE_CONTEXT, "account": "2222"}], "account '2222' is not a 12-digit AWS account ID"),
        ([{**NODE_CONTEXT, "keyArn": "alias/acme-certs"}], "keyArn is not a KMS key ARN"),
        ([NODE_CONTEXT, NODE_CONTEXT], "lists an account twice"),
    ],
)
def test_bad_node_accounts_context_is_named(value: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_node_accounts(value)
