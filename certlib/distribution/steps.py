"""The distribution steps both state machines share: send the document, then check each node's result.

send_distribution takes SendDistributionInput (the ASL builds it) and returns DistributionCommand, which is
check_distribution's input (certlib.distribution.state).
"""

from __future__ import annotations

from typing import Any

from certlib.adapters.ssm import CommandState, SsmCommands
from certlib.distribution.node_accounts import bundle_resource_policy
from certlib.distribution.remote_commands import account_of, combined_state, send_everywhere
from certlib.distribution.spec import DistributionProfile, profile_of
from certlib.distribution.state import DistributionCommand, SendDistributionInput
from certlib.exceptions import DistributionPending
from certlib.observability import logger
from certlib.resources import ACCESS_GROUP_TAG, DISTRIBUTION_OPT_IN_TAG, ResourceNames
from certlib.services import Services
from certlib.utc import utc_iso

# How long SSM may take to deliver the command to a node (the document itself has its own timeoutSeconds).
DELIVERY_TIMEOUT_SECONDS = 600
# On the inventory item: the command sent for (execution, serial), so a retried send does not send twice.
PENDING_COMMAND = "distribution_command"


def deployed_profile(services: Services, choice: Any, certificate: str) -> DistributionProfile:
    """The deployed profile `choice` names, for this certificate ({name} filled in). Whatever the state or the
    inventory says, only a reviewed profile of the deployed configuration is ever sent. Raises InvalidRequest."""
    config = services.config_with_profile(choice)
    return profile_of(choice, config.distribution_profiles, certificate).for_certificate(certificate)


def send_distribution(step: SendDistributionInput, services: Services) -> DistributionCommand:
    """Tag the bundle's secret for the profile's access group (and give the profile's node accounts, if any, its
    resource policy: certlib.distribution.node_accounts), and send the document to the profile's nodes that
    opted in (DISTRIBUTION_OPT_IN_TAG).

    Safe to repeat: a command already sent by this execution for this serial is returned, not sent again.
    Raises TransientError, AwsError (no document, no permission: a node that did not opt in), InvalidRequest (no
    such profile, or a recorded inline distribution).
    """
    name, serial, secret_arn = step.name, step.serial, step.secret_arn
    profile = deployed_profile(services, step.distribution, name)
    item = services.inventory.get(name) or {}
    pending = item.get(PENDING_COMMAND) or {}
    if pending.get("serial") == serial and pending.get("execution") == step.execution:
        return _sent(profile, str(pending["command_id"]), serial, pending.get("commands"), secret_arn)
    services.secrets.tag_certificate(name, {ACCESS_GROUP_TAG: profile.access_group})
    # Written with the tag: both come from the profile, reviewed like code (certlib.distribution.node_accounts).
    node_accounts = bundle_resource_policy(profile.accounts, profile.access_group) if profile.accounts else None
    services.secrets.set_certificate_policy(name, node_accounts)
    prefix = services.settings.resource_prefix

    def send(ssm: SsmCommands) -> str:
        return ssm.send(
            ResourceNames(prefix).distribution_document,
            profile.document_parameters(secret_arn, services.region, serial),
            profile.targets((DISTRIBUTION_OPT_IN_TAG, prefix)),
            profile.instance_ids,
            comment=f"{name} serial {serial}",
            timeout_seconds=DELIVERY_TIMEOUT_SECONDS,
            purpose=f" ({profile.describe_targets()}; only nodes tagged {DISTRIBUTION_OPT_IN_TAG}={prefix} may "
            f"receive it)",
        )

    commands: list[dict[str, str]] | None = None
    if profile.accounts:  # SSM reaches only its caller's account: send in each node account (remote_commands)
        own_account = account_of(secret_arn)
        commands = send_everywhere(services, profile.accounts, own_account, profile.external_id or None, send)
        command_id = commands[0]["command_id"]
    else:
        command_id = send(services.ssm_commands)
    services.inventory.update(
        name,
        step.lock_owner,
        {
            PENDING_COMMAND: {
                "command_id": command_id,
                "serial": serial,
                "execution": step.execution,
                "at": utc_iso(),
                **({"commands": commands} if commands else {}),
            }
        },
    )
    logger.info("distribution sent", extra={"command_id": command_id, "targets": profile.describe_targets()})
    return _sent(profile, command_id, serial, commands, secret_arn)


def _sent(
    profile: DistributionProfile, command_id: str, serial: str, commands: Any, secret_arn: str
) -> DistributionCommand:
    """The command sent; for commands in node accounts, what check_distribution needs: each (account, command ID),
    the external ID their roles require (an external ID is not a secret) and this account (whose commands it reads
    directly)."""
    targets = profile.describe_targets()
    if not commands:
        return DistributionCommand(command_id, serial, targets)
    return DistributionCommand(command_id, serial, targets, list(commands), profile.external_id, account_of(secret_arn))


def check_distribution(sent: DistributionCommand, services: Services) -> dict[str, Any]:
    """{"command_id", "serial", "targets"}: raises DistributionPending while a node is still at it, then the outcome.

    The outcome: {"status": succeeded | partial | failed, "command_id", "serial", "succeeded": [instance IDs],
    "failed": [instance IDs], "nodes": [{"instance_id", "status", "detail"}], "checked_at"}. No node at all (the
    targets matched nothing) is "failed": a certificate configured for distribution that reached no one.
    """
    if sent.commands:  # sent in node accounts (remote_commands); this account's own ID among them is read directly
        state = combined_state(services, sent.commands, sent.own_account or "", sent.external_id or None)
    else:
        state = services.ssm_commands.state(sent.command_id)
    if state.running:
        done = sum(1 for node in state.nodes if node.status not in ("Pending", "InProgress", "Delayed"))
        raise DistributionPending(f"command {sent.command_id}: {done} of {len(state.nodes)} nodes done")
    return outcome_of(state, sent.command_id, sent.serial, sent.targets)


def outcome_of(state: CommandState, command_id: str, serial: str, targets: str) -> dict[str, Any]:
    succeeded = sorted(node.instance_id for node in state.nodes if node.succeeded)
    failed = sorted(node.instance_id for node in state.nodes if not node.succeeded)
    if not state.nodes:
        status = "failed"
    elif not failed:
        status = "succeeded"
    else:
        status = "partial" if succeeded else "failed"
    outcome: dict[str, Any] = {
        "status": status,
        "command_id": command_id,
        "command_status": state.status,
        "serial": serial,
        "targets": targets,
        "succeeded": succeeded,
        "failed": failed,
        "nodes": [node.to_dict() for node in sorted(state.nodes, key=lambda node: node.instance_id)],
        "checked_at": utc_iso(),
    }
    if not state.nodes:
        outcome["detail"] = f"no node matched the targets ({targets})"
    return outcome


def failed_outcome(error: dict[str, Any] | None) -> dict[str, Any]:
    """The outcome when sending or checking itself failed (the certificate is in ACM all the same)."""
    error = error or {}
    return {
        "status": "failed",
        "error": str(error.get("Error", "Unknown")),
        "detail": str(error.get("Cause", ""))[:1000],
        "succeeded": [],
        "failed": [],
        "nodes": [],
        "checked_at": utc_iso(),
    }


def distribution_record(
    choice: dict[str, Any] | None, outcome: dict[str, Any] | None, execution_id: str
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """What record steps add: (fields of the execution's result, inventory values to SET, inventory fields to REMOVE).

    The certificate's own `status` is not touched: a certificate that is in ACM is issued, whatever its nodes did
    (revocation checks and renewals go on). The distribution has its own status: `distribution_status`
    ("distributed" or "distribution_failed") and `last_distribution` (each node's outcome) on the item.
    """
    if choice is None:
        return {}, {}, ["distribution", "distribution_status", "last_distribution", PENDING_COMMAND]
    if outcome is None:  # registered, but nothing was sent (cannot happen in the state machines; kept total)
        return {}, {"distribution": choice}, []
    summary: dict[str, Any] = {
        key: outcome[key] for key in ("status", "command_id", "succeeded", "failed") if key in outcome
    }
    if "detail" in outcome:
        summary["detail"] = outcome["detail"]
    if "error" in outcome:
        summary["error"] = outcome["error"]
    values = {
        "distribution": choice,
        "distribution_status": "distributed" if outcome["status"] == "succeeded" else "distribution_failed",
        "last_distribution": {**outcome, "execution": execution_id},
    }
    return {"distribution": summary}, values, [PENDING_COMMAND]
