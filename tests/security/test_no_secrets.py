"""No private key, ACME account key or EAB HMAC key in any execution history or log line of the whole suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.lifecycle.helpers import target_of

pytestmark = pytest.mark.after_everything


def secrets_of(info: dict[str, Any]) -> dict[str, str]:
    """The sandbox's secret values that must never show up anywhere else."""
    target = target_of(info)
    client = target.client("secretsmanager")
    found: dict[str, str] = {"PEM private key marker": "PRIVATE KEY"}
    for page in client.get_paginator("list_secrets").paginate():
        for listed in page["SecretList"]:
            value = json.loads(client.get_secret_value(SecretId=listed["ARN"])["SecretString"])
            if "eab_hmac_key" in value:
                found[f"EAB HMAC key of {listed['Name']}"] = value["eab_hmac_key"]
            if "key" in value:  # the ACME account key (a JWK): its private parameter
                found[f"account key of {listed['Name']}"] = value["key"]["d"]
            for field in ("private_key", "pending_private_key"):
                if field in value:
                    body = "".join(value[field].splitlines()[1:-1])
                    found[f"{field} of {listed['Name']}"] = body[20:60]
    return found


def execution_histories(info: dict[str, Any]) -> dict[str, str]:
    target = target_of(info)
    sfn = target.stepfunctions
    histories = {}
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            for execution in page["executions"]:
                events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                histories[execution["executionArn"]] = json.dumps([events, described], default=str)
    return histories


def test_no_secret_in_any_execution_history_or_log_line(sandbox: dict[str, Any]) -> None:
    # Given everything the suite ran on the session's sandbox
    secrets = secrets_of(sandbox)
    histories = execution_histories(sandbox)
    log_text = Path(sandbox["log_file"]).read_text(errors="replace")
    # Then the suite did run executions, wrote logs, and stored the secrets we look for
    assert len(histories) >= 5
    assert "ValidateRequest" in "".join(histories.values())
    assert log_text.strip()
    assert any(label.startswith("EAB HMAC key") for label in secrets)
    assert any(label.startswith("account key") for label in secrets)
    assert any(label.startswith("private_key") for label in secrets)
    # And none of them is in a history or a log line
    for label, value in secrets.items():
        leaking = [arn for arn, text in histories.items() if value in text]
        assert not leaking, f"{label} appears in the history of {leaking[:3]}"
        assert value not in log_text, f"{label} appears in the sandbox log {sandbox['log_file']}"
