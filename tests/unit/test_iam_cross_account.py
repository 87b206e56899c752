"""sandbox.iam.cross_account: a request on another account's secret or KMS key needs the caller's identity policy AND
the resource's policy (the secret's resource policy, the key policy), with the policies the project really writes
(certlib.distribution.node_accounts, deploy.node_account_policies); same-account requests are decided as before;
allowed cross-account requests are routed to the owner's moto backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from certlib.distribution.node_accounts import bundle_resource_policy
from certlib.resources import ACCESS_GROUP_TAG
from deploy.node_account_policies import KEY_POLICY_SID, node_accounts_key_statement, node_read_policy
from sandbox.iam.cross_account import MOTO_ACCOUNT_HEADER, cross_account_decision, owning_account, route_to_owner
from sandbox.iam.evaluator import Decision, Request, evaluate
from sandbox.iam.requests import Caller, authorizations
from sandbox.iam.resource_state import ResourceState
from tests.unit.iam_request_capture import ACCOUNT, REGION, captured_request

NODE_ACCOUNT = "222222222222"
UNLISTED_ACCOUNT = "333333333333"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:acme/certificate/*"


def caller(account: str, group: str) -> Caller:
    role = f"arn:aws:iam::{account}:role/web-node"
    return Caller(role, f"arn:aws:sts::{account}:assumed-role/web-node/i-0123", account, {ACCESS_GROUP_TAG: group})


@pytest.fixture
def bundle() -> Iterator[dict[str, str]]:
    """A bundle secret of access group web in ACCOUNT, under a key whose policy names NODE_ACCOUNT, readable by
    NODE_ACCOUNT through its resource policy."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        kms = session.client("kms")
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
        policy["Statement"].append(node_accounts_key_statement([NODE_ACCOUNT], REGION, SECRETS))
        kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
        secrets = session.client("secretsmanager")
        secret_arn = secrets.create_secret(
            Name="acme/certificate/www",
            SecretString="{}",
            KmsKeyId=key_arn,
            Tags=[{"Key": ACCESS_GROUP_TAG, "Value": "web"}],
        )["ARN"]
        secrets.put_resource_policy(
            SecretId=secret_arn, ResourcePolicy=json.dumps(bundle_resource_policy([NODE_ACCOUNT], "web"))
        )
        yield {"key_arn": key_arn, "secret_arn": secret_arn}


def decisions(who: Caller, identity: dict[str, Any], secret_arn: str) -> dict[str, Decision]:
    """{action: decision} of GetSecretValue(secret_arn) by `who`, as the enforcement layer decides each."""
    request = captured_request("secretsmanager", "get_secret_value", SecretId=secret_arn)
    needed = authorizations(request, who, REGION, ResourceState(who.account, REGION))
    return {each.action: cross_account_decision(evaluate([identity], each), each, who) for each in needed}


def test_a_node_of_a_listed_account_and_its_access_group_reads_the_bundle(bundle: dict[str, str]) -> None:
    # Given a node role in the node account with the node-account stack's policy and the bundle's access group
    identity = node_read_policy(SECRETS, bundle["key_arn"], REGION)
    # When it asks for the bundle by ARN
    result = decisions(caller(NODE_ACCOUNT, "web"), identity, bundle["secret_arn"])
    # Then the secret (its resource policy) and the key (its key policy) both allow it
    assert result == {"secretsmanager:GetSecretValue": Decision.ALLOWED, "kms:Decrypt": Decision.ALLOWED}


def test_another_access_group_of_the_listed_account_is_denied(bundle: dict[str, str]) -> None:
    identity = node_read_policy(SECRETS, bundle["key_arn"], REGION)
    result = decisions(caller(NODE_ACCOUNT, "db"), identity, bundle["secret_arn"])
    assert result["secretsmanager:GetSecretValue"] is Decision.IMPLICIT_DENY


def test_an_unlisted_account_is_denied_although_its_own_policy_allows(bundle: dict[str, str]) -> None:
    # Given an account the profile does not list, whose node role allows itself everything in the issuing account
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    # When it asks for the bundle
    result = decisions(caller(UNLISTED_ACCOUNT, "web"), everything, bundle["secret_arn"])
    # Then the secret's resource policy and the key policy deny it (only the identity side allows)
    assert result == {"secretsmanager:GetSecretValue": Decision.IMPLICIT_DENY, "kms:Decrypt": Decision.IMPLICIT_DENY}


def test_the_resource_policy_alone_is_not_enough(bundle: dict[str, str]) -> None:
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]}
    result = decisions(caller(NODE_ACCOUNT, "web"), nothing, bundle["secret_arn"])
    assert result["secretsmanager:GetSecretValue"] is Decision.IMPLICIT_DENY


def test_a_secret_without_resource_policy_is_denied_to_other_accounts(bundle: dict[str, str]) -> None:
    boto3.client("secretsmanager", region_name=REGION).delete_resource_policy(SecretId=bundle["secret_arn"])
    identity = node_read_policy(SECRETS, bundle["key_arn"], REGION)
    result = decisions(caller(NODE_ACCOUNT, "web"), identity, bundle["secret_arn"])
    assert result["secretsmanager:GetSecretValue"] is Decision.IMPLICIT_DENY


def test_a_key_policy_without_the_node_account_denies_the_decryption(bundle: dict[str, str]) -> None:
    # Given a key policy back to its default (the account's own principals only)
    kms = boto3.client("kms", region_name=REGION)
    policy = json.loads(kms.get_key_policy(KeyId=bundle["key_arn"], PolicyName="default")["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != KEY_POLICY_SID]
    kms.put_key_policy(KeyId=bundle["key_arn"], PolicyName="default", Policy=json.dumps(policy))
    identity = node_read_policy(SECRETS, bundle["key_arn"], REGION)
    # When the node reads the bundle
    result = decisions(caller(NODE_ACCOUNT, "web"), identity, bundle["secret_arn"])
    # Then the secret allows it but the key does not
    assert result == {"secretsmanager:GetSecretValue": Decision.ALLOWED, "kms:Decrypt": Decision.IMPLICIT_DENY}


def test_an_explicit_deny_in_the_resource_policy_wins(bundle: dict[str, str]) -> None:
    policy = bundle_resource_policy([NODE_ACCOUNT], "web")
    policy["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": f"arn:aws:iam::{NODE_ACCOUNT}:root"},
            "Action": "secretsmanager:*",
            "Resource": "*",
        }
    )
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.put_resource_policy(SecretId=bundle["secret_arn"], ResourcePolicy=json.dumps(policy))
    identity = node_read_policy(SECRETS, bundle["key_arn"], REGION)
    result = decisions(caller(NODE_ACCOUNT, "web"), identity, bundle["secret_arn"])
    assert result["secretsmanager:GetSecretValue"] is Decision.EXPLICIT_DENY


def test_same_account_requests_are_decided_by_identity_policies_as_before(bundle: dict[str, str]) -> None:
    # Given the issuing account's own node role, and a secret with no resource policy
    boto3.client("secretsmanager", region_name=REGION).delete_resource_policy(SecretId=bundle["secret_arn"])
    identity = node_read_policy(SECRETS, bundle["key_arn"], REGION)
    # When it reads the bundle, Then its identity policy alone decides (no resource policy is consulted)
    result = decisions(caller(ACCOUNT, "web"), identity, bundle["secret_arn"])
    assert result == {"secretsmanager:GetSecretValue": Decision.ALLOWED, "kms:Decrypt": Decision.ALLOWED}
    other = decisions(caller(ACCOUNT, "db"), identity, bundle["secret_arn"])
    assert other["secretsmanager:GetSecretValue"] is Decision.IMPLICIT_DENY


def test_services_without_modelled_resource_policies_keep_the_identity_decision() -> None:
    who = caller(NODE_ACCOUNT, "web")
    needed = Request("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t", {})
    assert cross_account_decision(Decision.ALLOWED, needed, who) is Decision.ALLOWED


def test_allowed_cross_account_requests_are_served_from_the_owners_backend(bundle: dict[str, str]) -> None:
    request = captured_request("secretsmanager", "get_secret_value", SecretId=bundle["secret_arn"])
    by_name = captured_request("secretsmanager", "get_secret_value", SecretId="acme/certificate/www")
    assert owning_account(request, "secretsmanager", NODE_ACCOUNT) == ACCOUNT
    assert owning_account(request, "secretsmanager", ACCOUNT) is None
    assert owning_account(by_name, "secretsmanager", NODE_ACCOUNT) is None
    environ: dict[str, Any] = {}
    route_to_owner(environ, None)
    assert environ == {}
    route_to_owner(environ, ACCOUNT)
    assert environ == {MOTO_ACCOUNT_HEADER: ACCOUNT}
