"""The sandbox plays the SSM agent: a Run Command sent to the sandbox's "instances" really runs, on simulated nodes.

moto 5.2.5 (pinned) records a SendCommand and answers Success at once for every instance, runs nothing, sends an
InstanceIds-only command to every instance, and has no ListCommandInvocations. Here, for this process's moto server:

- A node is an EC2 instance in moto (`run_instances` with the tags the targets name) plus a directory, its root file
  system: `<state dir>/ssm-nodes/<instance id>/` (`ssm_nodes_dir` in sandbox.json). moto resolves tag targets.
- On SendCommand each targeted node runs the document, in a thread, as the agent would: the `aws:runShellScript`
  step's `runCommand` lines, with `{{ parameter }}` filled in (after the document's allowedPattern check), written to
  `<root>/var/lib/amazon/ssm/<instance>/document/orchestration/<command>/.../_script.sh` and run with `bash`. The
  node's AWS CLI (the venv's `aws`, from requirements-dev.txt) talks to the sandbox through AWS_ENDPOINT_URL, as the
  role of the instance's instance profile (credentials from the sandbox's STS, as the instance metadata would give
  them): a node without one has no credentials. Without IAM enforcement (`--no-iam`) it uses the operator's.
- Paths: the value of every parameter whose name ends in `Path` is moved under the node's root (`/etc/ssl/x.pem`
  becomes `<root>/etc/ssl/x.pem`); nothing else is rewritten, so a check or reload command should name files
  through the CERTIFICATE_PATH, CHAIN_PATH, FULLCHAIN_PATH and KEY_PATH variables the document exports to it.
- The seam: each node's result goes into moto's own command records, so the real read APIs answer truthfully:
  ListCommands (the command's Status: InProgress, then Success or Failed), GetCommandInvocation, and
  ListCommandInvocations, which this module adds to moto (with Details: each plugin's Output, as on AWS).
  certlib.adapters.ssm uses only those APIs and knows nothing of this module.

These are moto internals (`Command`, `SimpleSystemManagerBackend`, `SimpleSystemManagerResponse`): moto is pinned.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import yaml
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ssm.models import Command, SimpleSystemManagerBackend
from moto.ssm.responses import SimpleSystemManagerResponse

from sandbox.aws import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, REGION
from sandbox.iam.sessions import RoleSessions

LOG = logging.getLogger(__name__)
NODES_DIR_NAME = "ssm-nodes"
RUN_SHELL_SCRIPT = "aws:runShellScript"
DEFAULT_TIMEOUT_SECONDS = 3600
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_lock = threading.Lock()


class SimulatedNodes:
    """Runs the commands moto records on the nodes' directories; see the module's docstring."""

    def __init__(
        self,
        nodes_dir: Path,
        endpoint_url: str,
        roles: RoleSessions | None = None,
        documents: frozenset[str] = frozenset(),
    ) -> None:
        self.nodes_dir = nodes_dir
        self.endpoint_url = endpoint_url
        self.roles = roles
        # The only documents this agent runs (the project's distribution document): the simulated nodes run on the
        # developer's machine, so no other command reaches its shell, whoever may call SendCommand.
        self.documents = documents
        self._ssm = boto3.Session(
            aws_access_key_id=FAKE_ACCESS_KEY_ID, aws_secret_access_key=FAKE_SECRET_ACCESS_KEY, region_name=REGION
        ).client("ssm", endpoint_url=endpoint_url)

    def root_of(self, instance_id: str) -> Path:
        root = self.nodes_dir / instance_id
        root.mkdir(parents=True, exist_ok=True)
        return root

    def dispatch(self, command: Command) -> None:
        """Mark the command and its invocations in progress and run it on each node, each in its own thread."""
        if not command.invocations:
            return
        with _lock:
            command.status = "InProgress"
            command.status_details = "InProgress"
            command.completed_count = 0
            for invocation in command.invocations:
                invocation.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1)
        for invocation in command.invocations:
            threading.Thread(
                target=self._run_guarded,
                args=(command, invocation),
                name=f"ssm-{invocation['InstanceId']}",
                daemon=True,
            ).start()

    def _run_guarded(self, command: Command, invocation: dict[str, Any]) -> None:
        try:
            code, output, error = self.run(command, str(invocation["InstanceId"]))
        except Exception as exc:  # the agent reports what went wrong; it never takes the sandbox down
            LOG.warning(
                "ssm agent: %s on %s failed to run", command.command_id, invocation["InstanceId"], exc_info=True
            )
            code, output, error = 1, "", f"the sandbox's agent could not run the document: {exc}"
        status = "Success" if code == 0 else "Failed"
        LOG.info(
            "ssm agent: command %s on %s: %s (exit %s)%s",
            command.command_id,
            invocation["InstanceId"],
            status,
            code,
            f": {error[-500:]}" if code != 0 else "",
        )
        with _lock:
            invocation.update(
                Status=status,
                StatusDetails=status,
                ResponseCode=code,
                StandardOutputContent=output[-24000:],
                StandardErrorContent=error[-8000:],
            )
            command.completed_count += 1
            if code != 0:
                command.error_count += 1
            if all(entry["Status"] not in ("InProgress", "Pending") for entry in command.invocations):
                command.status = "Success" if command.error_count == 0 else "Failed"
                command.status_details = command.status

    def run(self, command: Command, instance_id: str) -> tuple[int, str, str]:
        """Run the command's document on one node: (exit code, stdout, stderr)."""
        if str(command.document_name) not in self.documents:
            allowed = ", ".join(sorted(self.documents)) or "none"
            return (
                1,
                "",
                f"the sandbox's agent runs only this project's document ({allowed}), not {command.document_name}",
            )
        document = self._document(str(command.document_name))
        root = self.root_of(instance_id)
        parameters = _parameters(document, command.parameters or {})
        for name, value in parameters.items():
            if name.endswith("Path") and value.startswith("/"):
                parameters[name] = str(root) + value
        code, output, error = 0, "", ""
        for index, step in enumerate(document.get("mainSteps") or []):
            if step.get("action") != RUN_SHELL_SCRIPT:
                return 1, output, error + f"the sandbox's agent runs only {RUN_SHELL_SCRIPT}, not {step.get('action')}"
            inputs = step.get("inputs") or {}
            lines = inputs.get("runCommand") or []
            script = "\n".join(lines) if isinstance(lines, list) else str(lines)
            script = _PLACEHOLDER.sub(lambda match: parameters.get(match.group(1), ""), script)
            work = (
                root
                / "var/lib/amazon/ssm"
                / instance_id
                / "document/orchestration"
                / command.command_id
                / f"{index}.{step.get('name', 'awsrunShellScript')}"
            )
            work.mkdir(parents=True, exist_ok=True)
            (work / "_script.sh").write_text(script)
            timeout = int(inputs.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
            try:
                completed = subprocess.run(
                    ["bash", str(work / "_script.sh")],  # noqa: S607 - the node's shell, as the agent runs it
                    cwd=work,
                    env=self._environment(root, instance_id),
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return 124, output, error + f"timed out after {timeout} s"
            output += completed.stdout
            error += completed.stderr
            code = completed.returncode
            if code != 0:
                break
        return code, output, error

    def _document(self, name: str) -> dict[str, Any]:
        content = self._ssm.get_document(Name=name)["Content"]
        parsed = yaml.safe_load(content)  # YAML is a superset of JSON: either format
        if not isinstance(parsed, dict):
            raise ValueError(f"document {name} is not a mapping")
        return parsed

    def _environment(self, root: Path, instance_id: str) -> dict[str, str]:
        """What the node's shell sees: the venv's `aws` and `python3` first, the sandbox as AWS, the node's role."""
        venv_bin = str(Path(sys.executable).parent)
        return {
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            **self._credentials(instance_id),
        }

    def _credentials(self, instance_id: str) -> dict[str, str]:
        """The instance role's credentials; none for an instance without a profile (the operator's without IAM)."""
        if self.roles is None:
            return {"AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY}
        role_arn = instance_role_arn(instance_id)
        if role_arn is None:
            return {}
        credentials = self.roles.session(role_arn, instance_id).get_credentials()
        if credentials is None:
            return {}
        frozen = credentials.get_frozen_credentials()
        return {
            "AWS_ACCESS_KEY_ID": str(frozen.access_key),
            "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
            "AWS_SESSION_TOKEN": str(frozen.token or ""),
        }


def instance_role_arn(instance_id: str) -> str | None:
    """The role of the instance profile moto's EC2 holds for the instance (moto internals; pinned), in the sandbox's
    account or in a node account (sandbox.node_accounts)."""
    accounts = [DEFAULT_ACCOUNT_ID, *(account for account in list(ec2_backends) if account != DEFAULT_ACCOUNT_ID)]
    association = None
    for account in accounts:
        association = ec2_backends[account][REGION].iam_instance_profile_associations.get(instance_id)
        if association is not None:
            break
    profile = association.iam_instance_profile if association is not None else None
    if profile is None or not profile.roles:
        return None
    return str(profile.roles[0].arn)


class InvalidParameters(ValueError):
    """A parameter value that SSM would refuse (its allowedPattern) or a required one that is missing."""


def _parameters(document: dict[str, Any], given: dict[str, list[str]]) -> dict[str, str]:
    """The document's parameters: given values (SSM sends lists) or defaults, each checked against its pattern."""
    values: dict[str, str] = {}
    for name, declaration in (document.get("parameters") or {}).items():
        if name in given:
            value = given[name]
            text = " ".join(value) if isinstance(value, list) else str(value)
        elif "default" in declaration:
            text = str(declaration["default"])
        else:
            raise InvalidParameters(f"parameter {name} is required")
        pattern = declaration.get("allowedPattern")
        if pattern and not re.search(pattern, text):
            raise InvalidParameters(f"parameter {name} does not match its allowedPattern")
        values[name] = text
    return values


def _list_command_invocations(self: SimpleSystemManagerResponse) -> ActionResult:
    """ListCommandInvocations, which moto lacks: from the same records GetCommandInvocation reads."""
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    details = bool(self._get_param("Details", False))
    commands = self.ssm_backend.list_commands(command_id, instance_id)
    entries = []
    with _lock:
        for command in commands:
            for invocation in command.invocations:
                if instance_id and invocation["InstanceId"] != instance_id:
                    continue
                entries.append(_invocation_entry(command, invocation, details))
    return ActionResult({"CommandInvocations": entries})


def _invocation_entry(command: Command, invocation: dict[str, Any], details: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "CommandId": command.command_id,
        "InstanceId": invocation["InstanceId"],
        "Comment": command.comment,
        "DocumentName": command.document_name,
        "RequestedDateTime": command.requested_date_time,
        "Status": invocation["Status"],
        "StatusDetails": invocation["StatusDetails"],
    }
    if details:
        output = str(invocation.get("StandardOutputContent", ""))
        error = str(invocation.get("StandardErrorContent", ""))
        combined = output + (f"\n----------ERROR-------\n{error}" if error else "")
        entry["CommandPlugins"] = [
            {
                "Name": invocation["PluginName"],
                "Status": invocation["Status"],
                "StatusDetails": invocation["StatusDetails"],
                "ResponseCode": invocation["ResponseCode"],
                "Output": combined[-2500:],  # what AWS returns here: the first 2,500 characters (here the last)
            }
        ]
    return entry


_original_send_command = SimpleSystemManagerBackend.send_command
_original_targets = Command._get_instance_ids_from_targets


def _targets_or_nothing(command: Command) -> list[str]:
    """moto sends an InstanceIds-only command (no Targets) to every instance; AWS sends it to those instances only."""
    return _original_targets(command) if command.targets else []


def install(
    state_dir: Path, endpoint_url: str, documents: frozenset[str], roles: RoleSessions | None = None
) -> SimulatedNodes:
    """Patch this process's moto so Run Command runs `documents` (and nothing else) on simulated nodes; returns them
    (idempotent per process). With `roles`, each node acts as its instance profile's role."""
    nodes = SimulatedNodes(state_dir / NODES_DIR_NAME, endpoint_url, roles, documents)
    nodes.nodes_dir.mkdir(parents=True, exist_ok=True)

    def send_command(backend: SimpleSystemManagerBackend, *args: Any, **kwargs: Any) -> Command:
        command: Command = _original_send_command(backend, *args, **kwargs)
        nodes.dispatch(command)
        return command

    Command._get_instance_ids_from_targets = _targets_or_nothing  # type: ignore[method-assign,assignment]
    SimpleSystemManagerBackend.send_command = send_command  # type: ignore[method-assign,assignment]
    patched: Callable[[SimpleSystemManagerResponse], ActionResult] = _list_command_invocations
    SimpleSystemManagerResponse.list_command_invocations = patched  # type: ignore[attr-defined]
    return nodes
