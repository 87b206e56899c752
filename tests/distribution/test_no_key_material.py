"""No key material in SSM's command history (parameters, comments) or in any execution's history. Runs after the
other distribution tests of the session's sandbox (pytest runs files in name order: this one is last), and looks
at everything they left."""

from __future__ import annotations

import json
from typing import Any

from tests.distribution.helpers import execution_history_text, key_body_lines
from tests.lifecycle.helpers import target_of


def secrets_of_the_sandbox(info: dict[str, Any]) -> list[str]:
    """Every private key line, export passphrase and PKCS#12 password the sandbox holds, and pieces of each PKCS#12
    file."""
    target = target_of(info)
    client = target.client("secretsmanager")
    found: list[str] = []
    for page in client.get_paginator("list_secrets").paginate():
        for entry in page["SecretList"]:
            value = json.loads(client.get_secret_value(SecretId=entry["ARN"])["SecretString"])
            # An EC key's last PEM line is the end of its public point, which the certificate (public: in the
            # inventory and the state for revocation checks) also carries: such a line can appear, by base64
            # alignment, in the certificate's PEM, and says nothing secret.
            public = f"{value.get('certificate') or ''}{value.get('chain') or ''}"
            for field in ("private_key", "pending_private_key"):
                if value.get(field):
                    found.extend(line for line in key_body_lines(str(value[field])) if line not in public)
            if value.get("passphrase"):
                found.append(str(value["passphrase"]))
            if value.get("pkcs12_password"):  # and the PKCS#12 file's password and file (certlib.distribution.pkcs12)
                found.append(str(value["pkcs12_password"]))
            data = str(value.get("pkcs12") or "")
            found.extend(data[start : start + 40] for start in range(0, len(data) - 40, 40))
    return found


def test_command_and_execution_histories_hold_no_key_material(sandbox: dict[str, Any]) -> None:
    # Given every key and passphrase in the sandbox, after the distribution tests
    target = target_of(sandbox)
    secrets = secrets_of_the_sandbox(sandbox)
    assert any(len(line) > 40 for line in secrets), "the distribution tests stored keys"

    # When every command SSM recorded and every execution's history are read
    commands = target.client("ssm").list_commands()["Commands"]
    command_text = json.dumps(commands, default=str)
    histories: dict[str, str] = {"SSM commands": command_text}
    for machine in (target.names.lifecycle_state_machine, target.names.distribution_state_machine):
        arn = target.state_machine_arn(machine)
        for page in target.stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=arn):
            histories.update(
                {e["executionArn"]: execution_history_text(sandbox, e["executionArn"]) for e in page["executions"]}
            )

    # Then the commands carry names and paths only, and no history holds a key line, a PEM key or a passphrase
    # (other tests send documents of their own to the same sandbox: those are scanned too)
    ours = [command for command in commands if command["DocumentName"] == target.names.distribution_document]
    assert ours
    assert all(set(command["Parameters"]) >= {"secretId", "keyPath"} for command in ours)
    assert "PRIVATE KEY" not in command_text
    assert len(histories) > 1
    for where, text in histories.items():
        assert "PRIVATE KEY" not in text, where
        found = [secret for secret in secrets if secret in text]
        # where it was seen, with what surrounds it, so that the step that leaked it can be found
        assert not found, f"{where}: ...{text[max(0, text.index(found[0]) - 300) : text.index(found[0]) + 100]}..."
