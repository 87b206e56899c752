"""Node accounts in the sandbox: accounts other than the sandbox's own whose nodes receive certificates from it.

moto keeps separate state per account (sandbox.iam.cross_account routes a node's request for a bundle to the issuing
account). What a user deploys in a node account (stacks/node_account_stack.py) is made here from the same builders
(deploy.node_account_policies): the node policy, the distribution document, the send and check roles trusting
exactly the sandbox's send_distribution and check_distribution roles. What the certificate stack deploys for node
accounts on the issuing side, the KMS key policy statement, is put on the sandbox's key (the sandbox makes its key
itself, so the template's key policy is not on it); the synthesized template already gives send_distribution and
check_distribution sts:AssumeRole on the node accounts' roles (sandbox.iam.stack_roles synthesizes the app with a
profile naming NODE_ACCOUNT_ID).

The sandbox's operator acts in a node account with moto's `x-moto-account-id` header on the operator's own
credentials (unrestricted, as the operator is in the sandbox's own account).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from certlib.distribution.node_accounts import node_check_role_name, node_send_role_name
from certlib.resources import ACCESS_GROUP_TAG, DISTRIBUTION_OPT_IN_TAG, ResourceNames, certificate_secret_name
from deploy.node_account_policies import (
    KEY_POLICY_SID,
    node_accounts_key_statement,
    node_check_policy,
    node_read_policy,
    node_role_trust,
    node_send_policy,
)
from sandbox.nodes import Node, launch_nodes, node_role_name

# The node account the sandbox's synthesis names in a profile (so the template grants the assume-role), and one it
# does not name, for the tests that must be refused.
NODE_ACCOUNT_ID = "222222222222"
UNLISTED_ACCOUNT_ID = "333333333333"
MOTO_ACCOUNT_HEADER = "x-moto-account-id"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def operator_in(info: dict[str, Any], account: str) -> boto3.Session:
    """The sandbox's operator (its fake credentials) acting in `account`: every request names it to moto."""
    session = boto3.Session(
        aws_access_key_id=info["aws_access_key_id"],
        aws_secret_access_key=info["aws_secret_access_key"],
        region_name=info["region"],
    )

    def name_the_account(request: Any, **_: Any) -> None:
        request.headers[MOTO_ACCOUNT_HEADER] = account

    session.events.register("before-sign.*.*", name_the_account)
    return session


def _client(info: dict[str, Any], session: boto3.Session, service: str) -> Any:
    return session.client(service, endpoint_url=info["aws_endpoint_url"])  # type: ignore[call-overload]


def _function_role(info: dict[str, Any], step: str) -> str:
    lambda_ = _client(info, operator_in(info, str(info["account_id"])), "lambda")
    function = lambda_.get_function(FunctionName=ResourceNames(info["resource_prefix"]).function(step))
    return str(function["Configuration"]["Role"])


@dataclass(frozen=True)
class NodeAccount:
    account: str
    node_policy_arn: str
    session: boto3.Session  # the operator there


def allow_node_accounts_on_the_key(info: dict[str, Any], accounts: list[str]) -> None:
    """What deploying the certificate stack with profiles naming `accounts` does to its KMS key's policy (the
    statement of node_accounts_key_statement, replacing an earlier one)."""
    names = ResourceNames(info["resource_prefix"])
    kms = _client(info, operator_in(info, str(info["account_id"])), "kms")
    key_arn = kms.describe_key(KeyId=names.kms_alias)["KeyMetadata"]["Arn"]
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    secrets = f"arn:aws:secretsmanager:{info['region']}:{info['account_id']}:secret:"
    secrets += certificate_secret_name(names.secret_prefix, "*")
    statements = [s for s in policy["Statement"] if s.get("Sid") != KEY_POLICY_SID]
    policy["Statement"] = [*statements, node_accounts_key_statement(accounts, info["region"], secrets)]
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))


def deploy_node_account(info: dict[str, Any], account: str, external_id: str | None = None) -> NodeAccount:
    """What `cdk deploy` of the node-account stack does in `account` (once; safe to repeat): the node policy, the
    distribution document, and the send and check roles."""
    names = ResourceNames(info["resource_prefix"])
    region, issuing = str(info["region"]), str(info["account_id"])
    session = operator_in(info, account)
    iam, ssm = _client(info, session, "iam"), _client(info, session, "ssm")
    key_arn = _client(info, operator_in(info, issuing), "kms").describe_key(KeyId=names.kms_alias)["KeyMetadata"]["Arn"]
    secrets = f"arn:aws:secretsmanager:{region}:{issuing}:secret:{certificate_secret_name(names.secret_prefix, '*')}"
    policy_name = f"{names.certificate_nodes_policy}-{issuing}"
    policy_arn = f"arn:aws:iam::{account}:policy/{policy_name}"
    try:
        iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(node_read_policy(secrets, key_arn, region)))
    except iam.exceptions.EntityAlreadyExistsException:
        return NodeAccount(account, policy_arn, session)
    own_document = _client(info, operator_in(info, issuing), "ssm").get_document(Name=names.distribution_document)
    ssm.create_document(
        Name=names.distribution_document,
        Content=own_document["Content"],
        DocumentType="Command",
        DocumentFormat=own_document["DocumentFormat"],
    )
    here = f"{region}:{account}"
    send = node_send_policy(
        f"arn:aws:ssm:{here}:document/{names.distribution_document}",
        [f"arn:aws:ec2:{here}:instance/*", f"arn:aws:ssm:{here}:managed-instance/*"],
        (DISTRIBUTION_OPT_IN_TAG, names.prefix),
    )
    for name, trusted, policy in (
        (node_send_role_name(names.prefix), _function_role(info, "send_distribution"), send),
        (node_check_role_name(names.prefix), _function_role(info, "check_distribution"), node_check_policy()),
    ):
        trust = node_role_trust(trusted, external_id)
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    return NodeAccount(account, policy_arn, session)


def start_nodes_in(
    info: dict[str, Any], node_account: NodeAccount, count: int, tags: dict[str, str], access_group: str
) -> list[Node]:
    """`count` opted-in instances in the node account with these tags, each running as the node role of
    `access_group` there (its principal tag, the node-account stack's policy attached)."""
    names = ResourceNames(info["resource_prefix"])
    iam, ec2 = _client(info, node_account.session, "iam"), _client(info, node_account.session, "ec2")
    role = node_role_name(names.prefix, access_group)
    try:
        iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
            Tags=[{"Key": ACCESS_GROUP_TAG, "Value": access_group}],
        )
        iam.attach_role_policy(RoleName=role, PolicyArn=node_account.node_policy_arn)
        iam.create_instance_profile(InstanceProfileName=role)
        iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    opted_in = {**tags, DISTRIBUTION_OPT_IN_TAG: names.prefix}
    return launch_nodes(ec2, Path(info["ssm_nodes_dir"]), count, opted_in, role)


def node_session(info: dict[str, Any], node_account: NodeAccount, access_group: str) -> boto3.Session:
    """The credentials a node of `access_group` in the node account gets from its instance profile."""
    role = f"arn:aws:iam::{node_account.account}:role/{node_role_name(info['resource_prefix'], access_group)}"
    sts = _client(info, operator_in(info, str(info["account_id"])), "sts")
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="node")["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=info["region"],
    )
