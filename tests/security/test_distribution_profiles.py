"""Issue 13, item 1: whoever may start an execution (or write an inventory item) cannot make a server run anything,
write anywhere, or reach a node that did not opt in. Commands, paths, owners and targets exist only in the deployed
distribution profiles; an execution names one; ssm:SendCommand reaches only nodes tagged
DISTRIBUTION_OPT_IN_TAG = the deployment, and only with the distribution document."""

from __future__ import annotations

from typing import Any

import pytest

from certctl import executions
from certlib.resources import DISTRIBUTION_OPT_IN_TAG, ResourceNames
from sandbox.nodes import Node, deploy_distribution_profiles, local_owner
from tests.distribution.helpers import distribution_profile, installed, serial_of, start_nodes, unique
from tests.lifecycle.helpers import EXECUTION_TIMEOUT_SECONDS, inventory_item, issue, target_of
from tests.security.test_iam_enforcement import as_role, client, error_code, role_of

PLANTED = "planted-by-the-attacker"
ATTACKER_DIRECTORY = "/etc/ssl/x"
# Run on a node, this leaves a mark next to the certificate: the proof that a command chosen by the attacker ran.
MARK = f'touch "$(dirname "$CERTIFICATE_PATH")/{PLANTED}"'


def planted(node: Node) -> bool:
    return node.path(f"{ATTACKER_DIRECTORY}/{PLANTED}").exists()


def inline_distribution(tag: str) -> dict[str, Any]:
    """What an attacker would put in an execution (or an inventory item): the pre-profile inline form, with a
    command that leaves a mark on the node, and the key written where it should never go."""
    return {
        "tags": {"role": [tag]},
        "certificate_path": f"{ATTACKER_DIRECTORY}/cert.pem",
        "chain_path": f"{ATTACKER_DIRECTORY}/chain.pem",
        "fullchain_path": f"{ATTACKER_DIRECTORY}/fullchain.pem",
        "key_path": "/root/.ssh/authorized_keys",
        "owner": local_owner(),
        "check_command": MARK,
        "reload_command": MARK,
        "access_group": tag,
    }


def test_the_mark_shows_when_such_a_command_runs_from_a_deployed_profile(sandbox: dict[str, Any]) -> None:
    """The control for the tests below: the same command, reviewed and deployed in a profile, does run and leaves
    the mark they look for."""
    tag, name = unique("control"), unique("control")
    [node] = start_nodes(sandbox, 1, role=tag)
    profile = distribution_profile(sandbox, ATTACKER_DIRECTORY, "role", tag, reload_command=MARK)
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution=profile)
    assert result["distribution"]["status"] == "succeeded", result
    assert planted(node)


@pytest.mark.parametrize("extra", ["inline", "profile and a command"])
def test_an_execution_cannot_carry_commands_paths_or_targets(sandbox: dict[str, Any], extra: str) -> None:
    # Given a node that opted in, and a deployed profile for it
    tag, name = unique("attack"), unique("attack")
    [node] = start_nodes(sandbox, 1, role=tag)
    profile = distribution_profile(sandbox, f"/etc/ssl/{name}", "role", tag)
    distribution = inline_distribution(tag)
    if extra != "inline":
        distribution = {**profile, "reload_command": distribution["reload_command"]}

    # When someone allowed to start executions asks for a distribution with its own commands and paths
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution=distribution)

    # Then the request is refused before anything is written or sent, saying where such settings belong
    assert (result["status"], result["error"], result["step"]) == ("failed", "InvalidRequest", "validate_request")
    assert "deploy-time configuration" in result["message"]
    assert target_of(sandbox).inventory.get(name) is None
    assert not planted(node)
    assert not node.path(f"/etc/ssl/{name}").exists()
    assert not node.path(ATTACKER_DIRECTORY).exists()


def test_a_distribution_written_into_the_inventory_is_never_run(sandbox: dict[str, Any]) -> None:
    # Given a certificate distributed with a profile to a node that opted in
    tag, name = unique("tampered"), unique("tampered")
    [node] = start_nodes(sandbox, 1, role=tag)
    directory = f"/etc/ssl/{name}"
    first = issue(
        sandbox,
        name=name,
        domains=[f"{name}.example.test"],
        distribution=distribution_profile(sandbox, directory, "role", tag),
    )
    assert first["distribution"]["status"] == "succeeded", first

    # When someone who can write the inventory replaces its distribution with targets and commands of their own
    target_of(sandbox).inventory.update(name, None, {"distribution": inline_distribution(tag)})
    renewed = issue(sandbox, name=name, domains=[f"{name}.example.test"])

    # Then the renewal issues (ACM gets it), but nothing is sent: the distribution fails naming the way out
    assert renewed["status"] == "renewed", renewed
    assert renewed["distribution"]["status"] == "failed", renewed
    assert renewed["distribution"]["error"] == "InvalidRequest"
    assert "never run" in renewed["distribution"]["detail"]
    assert "migrate-distribution" in renewed["distribution"]["detail"]
    assert not planted(node)
    assert not node.path("/root/.ssh/authorized_keys").exists()
    assert not node.path(ATTACKER_DIRECTORY).exists()
    assert serial_of(installed(node, directory)["cert.pem"]["text"]) == first["serial"]
    assert inventory_item(sandbox, name)["distribution_status"] == "distribution_failed"


def test_a_profile_reaches_only_the_nodes_that_opted_in(sandbox: dict[str, Any]) -> None:
    # Given two nodes with the profile's tag, one of which did not opt in to this deployment's commands
    tag, name = unique("optin"), unique("optin")
    [opted_in] = start_nodes(sandbox, 1, role=tag)
    [stranger] = start_nodes(sandbox, 1, role=tag, opt_in=False)
    directory = f"/etc/ssl/{name}"

    # When a certificate is issued with a profile targeting that tag
    result = issue(
        sandbox,
        name=name,
        domains=[f"{name}.example.test"],
        distribution=distribution_profile(sandbox, directory, "role", tag),
    )

    # Then only the node that opted in got it; the other one got no command at all
    assert result["distribution"]["status"] == "succeeded", result
    assert result["distribution"]["succeeded"] == [opted_in.instance_id]
    assert serial_of(installed(opted_in, directory)["cert.pem"]["text"]) == result["serial"]
    assert not stranger.path(directory).exists()


def test_a_profile_naming_an_instance_that_did_not_opt_in_is_refused_by_iam(sandbox: dict[str, Any]) -> None:
    # Given a deployed profile that names an instance by ID, an instance that did not opt in
    tag, name = unique("byid"), unique("byid")
    [stranger] = start_nodes(sandbox, 1, role=tag, opt_in=False)
    deploy_distribution_profiles(
        target_of(sandbox).client("ssm"),
        {tag: {"instance-ids": [stranger.instance_id], "directory": f"/etc/ssl/{name}", "owner": local_owner()}},
        sandbox["resource_prefix"],
    )

    # When a certificate is issued with it
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution={"profile": tag})

    # Then the certificate is issued, the send is denied by IAM, and the message says what opting in is
    assert result["status"] == "issued", result
    assert result["distribution"]["status"] == "failed", result
    assert "AccessDenied" in result["distribution"]["error"] + result["distribution"]["detail"]
    assert f"{DISTRIBUTION_OPT_IN_TAG}={sandbox['resource_prefix']}" in result["distribution"]["detail"]
    assert not stranger.path(f"/etc/ssl/{name}").exists()


def test_the_send_role_sends_only_the_distribution_document_and_only_to_nodes_that_opted_in(
    sandbox: dict[str, Any],
) -> None:
    # Given the send_distribution function's role, a node that opted in and one that did not
    tag = unique("direct")
    [opted_in] = start_nodes(sandbox, 1, role=tag)
    [stranger] = start_nodes(sandbox, 1, role=tag, opt_in=False)
    ssm = client(sandbox, as_role(sandbox, role_of(sandbox, "send_distribution")), "ssm")
    document = ResourceNames(sandbox["resource_prefix"]).distribution_document
    parameters = {
        "secretId": ["acme-certs/certificate/none"],
        "region": [sandbox["region"]],
        "expectedSerial": [""],
        "certificatePath": [f"/etc/ssl/{tag}/cert.pem"],
        "chainPath": [f"/etc/ssl/{tag}/chain.pem"],
        "fullchainPath": [f"/etc/ssl/{tag}/fullchain.pem"],
        "keyPath": [f"/etc/ssl/{tag}/privkey.pem"],
        "owner": [local_owner()],
        "checkCommand": [""],
        "reloadCommand": [""],
    }

    # When it sends any other document (a shell), Then AccessDenied, even to the node that opted in
    run_shell = {"commands": [f"mkdir -p {ATTACKER_DIRECTORY} && touch {ATTACKER_DIRECTORY}/{PLANTED}"]}
    for instance in (opted_in, stranger):
        denied = error_code(
            lambda i=instance: ssm.send_command(
                DocumentName="AWS-RunShellScript", InstanceIds=[i.instance_id], Parameters=run_shell
            )
        )
        assert denied == "AccessDeniedException"
    # When it sends the distribution document to a node that did not opt in (by ID or by its tags), Then AccessDenied
    assert (
        error_code(
            lambda: ssm.send_command(DocumentName=document, InstanceIds=[stranger.instance_id], Parameters=parameters)
        )
        == "AccessDeniedException"
    )
    assert (
        error_code(
            lambda: ssm.send_command(
                DocumentName=document, Targets=[{"Key": "tag:role", "Values": [tag]}], Parameters=parameters
            )
        )
        == "AccessDeniedException"
    )
    # and to the node that opted in, it may (the policy is not simply empty)
    sent = ssm.send_command(DocumentName=document, InstanceIds=[opted_in.instance_id], Parameters=parameters)
    assert sent["Command"]["CommandId"]
    assert not planted(opted_in)
    assert not planted(stranger)


def test_the_export_machine_takes_no_inline_distribution_either(sandbox: dict[str, Any]) -> None:
    # Given someone allowed to start the distribution machine
    target = target_of(sandbox)
    tag, name = unique("export"), unique("export")
    [node] = start_nodes(sandbox, 1, role=tag)
    arn = f"arn:aws:acm:{sandbox['region']}:123456789012:certificate/{tag}"
    machine = target.state_machine_arn(target.names.distribution_state_machine)

    # When they start it with targets and commands of their own
    execution = executions.start(
        target, {"name": name, "certificate_arn": arn, "distribution": inline_distribution(tag)}, machine
    )
    result = executions.result_of(executions.wait(target, execution, EXECUTION_TIMEOUT_SECONDS, None))

    # Then it is refused before anything is exported, registered or sent
    assert (result["status"], result["error"]) == ("failed", "InvalidRequest"), result
    assert target.inventory.get(name) is None
    assert not planted(node)
