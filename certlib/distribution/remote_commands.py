"""Run Command in the node accounts of a profile (`accounts:`, certlib.distribution.node_accounts).

SSM sends commands only to instances of the caller's account, so send_distribution assumes each node account's send
role (its node-account stack) and sends the same document, with the same parameters (the bundle's ARN in this
account), there; check_distribution assumes the check role to read the invocations. This account's own ID among
`accounts` sends with the step's own role, as without node accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from certlib.adapters.ssm import RUNNING_STATUSES, CommandState, NodeResult, SsmCommands
from certlib.distribution.node_accounts import (
    CHECK_SESSION,
    SEND_SESSION,
    node_check_role_name,
    node_role_arn,
    node_send_role_name,
)
from certlib.services import Services


def account_of(arn: str) -> str:
    """The account field of an ARN ("" when there is none)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def commands_in(
    services: Services, account: str, own_account: str, *, sending: bool, external_id: str | None
) -> SsmCommands:
    """SSM of `account`: the step's own client in its own account, else through the node account's send or check
    role. Raises what Services.ssm_commands_as raises."""
    if account == own_account:
        return services.ssm_commands
    prefix = services.settings.resource_prefix
    if sending:
        return services.ssm_commands_as(node_role_arn(account, node_send_role_name(prefix)), SEND_SESSION, external_id)
    return services.ssm_commands_as(node_role_arn(account, node_check_role_name(prefix)), CHECK_SESSION, external_id)


def send_everywhere(
    services: Services,
    accounts: Sequence[str],
    own_account: str,
    external_id: str | None,
    send: Callable[[SsmCommands], str],
) -> list[dict[str, str]]:
    """[{"account", "command_id"}] of `send` run in each account, in order. Raises what `send` and commands_in
    raise; the commands sent before a failure stay sent (a retry of the step sends again: the nodes' install is
    idempotent)."""
    sent = []
    for account in accounts:
        ssm = commands_in(services, account, own_account, sending=True, external_id=external_id)
        sent.append({"account": account, "command_id": send(ssm)})
    return sent


def combined_state(
    services: Services, commands: Sequence[Mapping[str, object]], own_account: str, external_id: str | None
) -> CommandState:
    """One state for the commands of several accounts: running while any runs, Success when all succeeded, every
    node's result (its instance ID prefixed with its account, `222222222222/i-...`, where the account is not ours)."""
    states = []
    for command in commands:
        account = str(command["account"])
        ssm = commands_in(services, account, own_account, sending=False, external_id=external_id)
        state = ssm.state(str(command["command_id"]))
        if account != own_account:
            nodes = [_in_account(node, account) for node in state.nodes]
            state = CommandState(state.status, state.target_count, nodes)
        states.append(state)
    if any(state.status in RUNNING_STATUSES for state in states):
        status = "InProgress"
    else:
        status = "Success" if all(state.status == "Success" for state in states) else "Failed"
    nodes = [node for state in states for node in state.nodes]
    return CommandState(status, sum(state.target_count for state in states), nodes)


def _in_account(node: NodeResult, account: str) -> NodeResult:
    return replace(node, instance_id=f"{account}/{node.instance_id}")
