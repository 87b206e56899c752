"""Nodes in other accounts, end to end in the sandbox: a profile names a node account; send_distribution gives the
bundle's secret a resource policy for exactly that account and sends the document there through the node account's
send role; the node reads the bundle across accounts (its identity policy there, the secret's resource policy and
the key policy here) and installs it. Another access group of that account, and an account the profile does not
name, are refused the bundle by IAM (sandbox.iam.cross_account)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from certlib.distribution.node_accounts import bundle_resource_policy
from sandbox import nodes as sandbox_nodes
from sandbox.node_accounts import (
    NODE_ACCOUNT_ID,
    UNLISTED_ACCOUNT_ID,
    NodeAccount,
    allow_node_accounts_on_the_key,
    deploy_node_account,
    node_session,
    start_nodes_in,
)
from tests.distribution.helpers import bundle, installed, key_matches, serial_of, start_nodes, unique
from tests.lifecycle.helpers import inventory_item, issue, target_of


@pytest.fixture(scope="module")
def node_accounts(sandbox: dict[str, Any]) -> dict[str, NodeAccount]:
    """The listed node account and an unlisted one, each with the node-account stack deployed; the key policy names
    the listed one (as the certificate stack does for the profiles' accounts)."""
    allow_node_accounts_on_the_key(sandbox, [NODE_ACCOUNT_ID])
    return {account: deploy_node_account(sandbox, account) for account in (NODE_ACCOUNT_ID, UNLISTED_ACCOUNT_ID)}


def cross_account_profile(info: dict[str, Any], directory: str, tag: str, group: str) -> dict[str, str]:
    """Deploy a profile for the nodes tagged role=tag in NODE_ACCOUNT_ID, access group `group`."""
    entry = sandbox_nodes.profile_entry(directory, "role", tag, access_group=group)
    entry["accounts"] = [NODE_ACCOUNT_ID]
    sandbox_nodes.deploy_distribution_profiles(target_of(info).client("ssm"), {tag: entry}, info["resource_prefix"])
    return {"profile": tag}


def read_bundle(info: dict[str, Any], session: Any, secret_arn: str) -> dict[str, Any]:
    client = session.client("secretsmanager", endpoint_url=info["aws_endpoint_url"])
    return dict(json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"]))


def denied(info: dict[str, Any], session: Any, secret_arn: str) -> str:
    with pytest.raises(ClientError) as raised:
        read_bundle(info, session, secret_arn)
    return str(raised.value.response["Error"]["Code"])


def test_a_node_in_a_listed_account_receives_the_certificate_and_only_that_account_may_read_it(
    sandbox: dict[str, Any], node_accounts: dict[str, NodeAccount]
) -> None:
    # Given a node in the node account, tagged and in the access group of a profile naming that account
    tag = unique("remote")
    group, name = f"{tag}-group", unique("remote")
    directory = f"/etc/ssl/{name}"
    (node,) = start_nodes_in(sandbox, node_accounts[NODE_ACCOUNT_ID], 1, {"role": tag}, group)

    # When a certificate is issued with that profile
    result = issue(
        sandbox,
        name=name,
        domains=[f"{name}.example.test"],
        distribution=cross_account_profile(sandbox, directory, tag, group),
    )

    # Then the node, in the other account, installed exactly the stored bundle, read with its own role
    assert result["status"] == "issued", result
    assert result["distribution"]["status"] == "succeeded", result
    assert result["distribution"]["succeeded"] == [f"{NODE_ACCOUNT_ID}/{node.instance_id}"]
    files = installed(node, directory)
    stored = bundle(sandbox, name)
    assert files["privkey.pem"]["text"].strip() == stored["private_key"].strip()
    assert serial_of(files["cert.pem"]["text"]) == result["serial"]
    assert key_matches(files["cert.pem"]["text"], files["privkey.pem"]["text"])
    assert inventory_item(sandbox, name)["distribution_status"] == "distributed"

    # and the secret's resource policy names exactly the profile's account and access group
    secret_arn = inventory_item(sandbox, name)["secret_arn"]
    secrets = target_of(sandbox).client("secretsmanager")
    policy = json.loads(secrets.get_resource_policy(SecretId=secret_arn)["ResourcePolicy"])
    assert policy == bundle_resource_policy([NODE_ACCOUNT_ID], group)

    # When a node of another access group in the same account, or a node of an account the profile does not name
    # (whose own policy allows it), asks for the bundle
    other_group = f"{tag}-other"
    start_nodes_in(sandbox, node_accounts[NODE_ACCOUNT_ID], 1, {"role": f"{tag}-x"}, other_group)
    start_nodes_in(sandbox, node_accounts[UNLISTED_ACCOUNT_ID], 1, {"role": tag}, group)
    # Then IAM refuses both; the right node may read it
    assert denied(sandbox, node_session(sandbox, node_accounts[NODE_ACCOUNT_ID], other_group), secret_arn) == (
        "AccessDeniedException"
    )
    assert denied(sandbox, node_session(sandbox, node_accounts[UNLISTED_ACCOUNT_ID], group), secret_arn) == (
        "AccessDeniedException"
    )
    right = read_bundle(sandbox, node_session(sandbox, node_accounts[NODE_ACCOUNT_ID], group), secret_arn)
    assert right["serial"] == stored["serial"]


def test_a_profile_without_node_accounts_removes_the_resource_policy(
    sandbox: dict[str, Any], node_accounts: dict[str, NodeAccount]
) -> None:
    # Given a certificate distributed to a node account
    tag = unique("remote")
    group, name = f"{tag}-group", unique("remote")
    start_nodes_in(sandbox, node_accounts[NODE_ACCOUNT_ID], 1, {"role": tag}, group)
    first = issue(
        sandbox,
        name=name,
        domains=[f"{name}.example.test"],
        distribution=cross_account_profile(sandbox, f"/etc/ssl/{name}", tag, group),
    )
    assert first["status"] == "issued", first
    assert first["distribution"]["status"] == "succeeded", first
    secret_arn = inventory_item(sandbox, name)["secret_arn"]

    # When it is renewed with a profile that names no node account (a new one: the functions read a changed profile
    # within a minute, a new one at once)
    local = f"{tag}-local"
    entry = sandbox_nodes.profile_entry(f"/etc/ssl/{name}", "role", local, access_group=group)
    sandbox_nodes.deploy_distribution_profiles(
        target_of(sandbox).client("ssm"), {local: entry}, sandbox["resource_prefix"]
    )
    renewed = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution={"profile": local})
    assert renewed["status"] == "renewed", renewed

    # Then the secret has no resource policy any more, and the node account's node is refused
    secrets = target_of(sandbox).client("secretsmanager")
    assert "ResourcePolicy" not in secrets.get_resource_policy(SecretId=secret_arn)
    session = node_session(sandbox, node_accounts[NODE_ACCOUNT_ID], group)
    assert denied(sandbox, session, secret_arn) == "AccessDeniedException"


def test_a_profile_naming_this_account_and_a_node_account_reaches_both(
    sandbox: dict[str, Any], node_accounts: dict[str, NodeAccount]
) -> None:
    # Given a node here and a node in the node account, both tagged for a profile naming both accounts
    tag = unique("both")
    group, name = f"{tag}-group", unique("both")
    directory = f"/etc/ssl/{name}"
    (local,) = start_nodes(sandbox, 1, access_group=group, role=tag)
    (remote,) = start_nodes_in(sandbox, node_accounts[NODE_ACCOUNT_ID], 1, {"role": tag}, group)
    entry = sandbox_nodes.profile_entry(directory, "role", tag, access_group=group)
    entry["accounts"] = [str(sandbox["account_id"]), NODE_ACCOUNT_ID]
    sandbox_nodes.deploy_distribution_profiles(
        target_of(sandbox).client("ssm"), {tag: entry}, sandbox["resource_prefix"]
    )

    # When a certificate is issued with it
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution={"profile": tag})

    # Then one command went to each account, and both nodes hold the certificate
    assert result["distribution"]["status"] == "succeeded", result
    assert result["distribution"]["succeeded"] == sorted([local.instance_id, f"{NODE_ACCOUNT_ID}/{remote.instance_id}"])
    for node in (local, remote):
        assert serial_of(installed(node, directory)["cert.pem"]["text"]) == result["serial"]
