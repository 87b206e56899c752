"""SSM Run Command: send the distribution document to a certificate's nodes, and read how each node did.

Only real APIs: SendCommand, ListCommands (the command's status) and ListCommandInvocations (each node's). The
sandbox plays the SSM agent behind these same calls (sandbox/ssm_agent.py); nothing here knows about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

# A command (or an invocation) in one of these has not finished.
RUNNING_STATUSES = frozenset({"Pending", "InProgress", "Delayed", "Cancelling"})
OUTPUT_TAIL_CHARACTERS = 400
# Every node is tried and reported: a node that fails does not stop the others (SSM's default stops at 1 error).
MAX_ERRORS = "100%"
MAX_CONCURRENCY = "10"


@dataclass(frozen=True)
class NodeResult:
    instance_id: str
    status: str  # SSM's: Success, Failed, TimedOut, Cancelled, Undeliverable, ... (or InProgress while running)
    detail: str  # the end of the node's output (stdout and stderr), for people

    @property
    def succeeded(self) -> bool:
        return self.status == "Success"

    def to_dict(self) -> dict[str, str]:
        return {"instance_id": self.instance_id, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class CommandState:
    status: str
    target_count: int
    nodes: list[NodeResult]

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATUSES or any(node.status in RUNNING_STATUSES for node in self.nodes)


class SsmCommands:
    def __init__(self, client: SSMClient) -> None:
        self._client = client

    def send(
        self,
        document_name: str,
        parameters: dict[str, list[str]],
        targets: list[dict[str, Any]],
        instance_ids: list[str],
        comment: str,
        timeout_seconds: int,
        purpose: str = "",
    ) -> str:
        """Send the document to the tag targets (or the instance IDs); returns the command ID. `purpose` ends the
        message of an error (what the call was for, and what the caller should check).

        Raises TransientError or AwsError (an unknown document, no permission).
        """
        arguments: dict[str, Any] = {
            "DocumentName": document_name,
            "Parameters": parameters,
            "Comment": comment[:100],
            "TimeoutSeconds": timeout_seconds,
            "MaxErrors": MAX_ERRORS,
            "MaxConcurrency": MAX_CONCURRENCY,
        }
        if instance_ids:
            arguments["InstanceIds"] = instance_ids
        else:
            arguments["Targets"] = targets
        try:
            return str(self._client.send_command(**arguments)["Command"]["CommandId"])
        except ClientError as exc:
            raise_classified(exc, f"sending {document_name}{purpose}")

    def state(self, command_id: str) -> CommandState:
        """The command's status and each node's result so far. Raises TransientError or AwsError."""
        try:
            commands = self._client.list_commands(CommandId=command_id)["Commands"]
        except ClientError as exc:
            raise_classified(exc, f"reading command {command_id}")
        if not commands:
            return CommandState("Pending", 0, [])
        command = commands[0]
        nodes: list[NodeResult] = []
        arguments: dict[str, Any] = {"CommandId": command_id, "Details": True}
        try:
            while True:
                page = self._client.list_command_invocations(**arguments)
                nodes.extend(_node_result(invocation) for invocation in page.get("CommandInvocations", []))
                if not page.get("NextToken"):
                    break
                arguments["NextToken"] = page["NextToken"]
        except ClientError as exc:
            raise_classified(exc, f"reading the invocations of command {command_id}")
        return CommandState(str(command["Status"]), int(command.get("TargetCount", 0)), nodes)


def _node_result(invocation: Any) -> NodeResult:
    output = "\n".join(str(plugin.get("Output", "")) for plugin in invocation.get("CommandPlugins", []))
    detail = output.strip()[-OUTPUT_TAIL_CHARACTERS:] or str(invocation.get("StatusDetails", ""))
    return NodeResult(str(invocation["InstanceId"]), str(invocation["Status"]), detail)
