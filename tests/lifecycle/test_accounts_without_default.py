"""A deployment whose accounts file has several aliases and no `default-account` (Sectigo's own sample), on a sandbox
of its own: a request that names no account is refused with the aliases, by certctl and by the state machine, and
everything that renews a certificate (certctl renew, the sweep, ACM's expiry event) keeps using its recorded account."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from certctl.executions import result_of, wait
from certlib.config import AccountConfig, Config
from certlib.utc import parse_utc_iso, utc_iso
from tests.lifecycle.helpers import EXECUTION_TIMEOUT_SECONDS, certctl, inventory_item, issue, target_of

SECOND_ALIAS = "scm_demo2"  # never used to order: its endpoint is not asked anything


def refusal(info: dict[str, Any]) -> str:
    """The refusal's opening: every alias deployed (the sandbox's own and SECOND_ALIAS), in order."""
    aliases = ", ".join(info["aliases_without_default"])
    return f"no ACME account named, and there is no default among the configured aliases {aliases}"


@pytest.fixture(scope="module")
def no_default(start_sandbox: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A fresh sandbox whose deployed configuration has a second alias and no default account, deployed before any
    function has read the configuration."""
    info = start_sandbox()
    ssm = target_of(info).client("ssm")
    parameter = target_of(info).names.config_parameter
    config = Config.from_json(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    second = AccountConfig(alias=SECOND_ALIAS, directory_url="https://acme.sectigo.com/v2/DV", key_type="ec521")
    deployed = dataclasses.replace(config, accounts={**config.accounts, SECOND_ALIAS: second}, default_account=None)
    ssm.put_parameter(Name=parameter, Value=deployed.to_json(), Type="String", Overwrite=True)
    return {**info, "aliases_without_default": sorted(deployed.accounts)}


def executions_of(info: dict[str, Any]) -> set[str]:
    target = target_of(info)
    pages = target.stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=target.lifecycle_arn)
    return {execution["executionArn"] for page in pages for execution in page["executions"]}


def finish(info: dict[str, Any], execution_arn: str) -> dict[str, Any]:
    return result_of(wait(target_of(info), execution_arn, EXECUTION_TIMEOUT_SECONDS, None))


def test_a_request_that_names_no_account_is_refused_with_the_aliases(no_default: dict[str, Any]) -> None:
    # Given a deployment with two aliases and no default
    before = executions_of(no_default)
    # When certctl is asked for a certificate without --account
    completed = certctl(no_default, "issue", "--name", "unnamed", "--domains", "unnamed.example.test", "--wait")
    # Then it refuses on one line, listing the aliases and both ways out, and starts nothing
    assert completed.returncode == 1
    [line] = completed.stderr.strip().splitlines()
    assert SECOND_ALIAS in no_default["aliases_without_default"]
    assert line.startswith(
        f"certctl: {refusal(no_default)}: name one with 'account' in the request (certctl issue --account"
    )
    assert "add 'default-account: ALIAS' to the accounts file" in line
    assert executions_of(no_default) == before
    # When an execution is started (console, API) with no account
    result = issue(no_default, name="unnamed", domains=["unnamed.example.test"])
    # Then it fails in its first state with the same message, and nothing was written
    assert (result["status"], result["error"]) == ("failed", "InvalidRequest"), result
    assert refusal(no_default) in result["message"]
    assert target_of(no_default).inventory.get("unnamed") is None


def test_renewals_keep_the_recorded_account_without_a_default(no_default: dict[str, Any]) -> None:
    # Given a certificate issued with its account named
    arguments = ("--name", "kept", "--domains", "kept.example.test", "--account", "sandbox", "--wait", "--json")
    issued = certctl(no_default, "issue", *arguments)
    first = json.loads(issued.stdout)
    assert first["status"] == "issued", issued.stderr
    arn = first["certificate_arn"]

    # When certctl renews it
    completed = certctl(no_default, "renew", "--name", "kept", "--force", "--wait", "--json")
    # Then it renews into the same ARN
    assert completed.returncode == 0, completed.stderr
    by_certctl = json.loads(completed.stdout)
    assert (by_certctl["status"], by_certctl["certificate_arn"]) == ("renewed", arn)

    # When the sweep runs as of just after its renewal time
    renew_after = parse_utc_iso(str(inventory_item(no_default, "kept")["renew_after"]))
    completed = certctl(no_default, "sweep", "--now", utc_iso(renew_after + dt.timedelta(seconds=1)), "--json")
    assert completed.returncode == 0, completed.stderr
    [started] = [entry for entry in json.loads(completed.stdout)["results"] if entry["outcome"] == "started"]
    # Then it started that renewal, which renews into the same ARN
    by_sweep = finish(no_default, started["execution_arn"])
    assert (started["name"], by_sweep["status"], by_sweep["certificate_arn"]) == ("kept", "renewed", arn)

    # When ACM sends its expiry event for it (sent after the last issuance, counting the days to its expiry)
    item = inventory_item(no_default, "kept")
    sent_at = parse_utc_iso(str(item["issued_at"])) + dt.timedelta(seconds=1)
    days = (parse_utc_iso(str(item["not_after"])) - sent_at).days
    answer = invoke_expiry_event(no_default, arn, sent_at, days)
    # Then it started a renewal too, which renews into the same ARN
    assert answer["outcome"] == "started", answer
    by_event = finish(no_default, answer["execution_arn"])
    assert (by_event["status"], by_event["certificate_arn"]) == ("renewed", arn)

    # And every one of them went to the recorded account; status shows it
    target = target_of(no_default)
    for result in (by_certctl, by_sweep, by_event):
        execution = target.stepfunctions.describe_execution(executionArn=result["execution_arn"])
        assert json.loads(execution["input"])["account"] == "sandbox"
    status = certctl(no_default, "status", "--name", "kept", "--json")
    assert status.returncode == 0, status.stderr
    [shown] = json.loads(status.stdout)["certificates"]
    assert (shown["account"], shown["serial"]) == ("sandbox", by_event["serial"])
    assert [event["event"] for event in inventory_item(no_default, "kept")["history"]] == [
        "issued",
        "renewed",
        "renewed",
        "renewed",
    ]


def invoke_expiry_event(info: dict[str, Any], arn: str, sent_at: dt.datetime, days: int) -> dict[str, Any]:
    """ACM's "Approaching Expiration" event, delivered to our handler as EventBridge does."""
    event = {
        "version": "0",
        "id": "0b6a4c1e-5b1a-4c38-9d4e-2f0d3c7e9a11",
        "detail-type": "ACM Certificate Approaching Expiration",
        "source": "aws.acm",
        "account": info["account_id"],
        "time": utc_iso(sent_at),
        "region": info["region"],
        "resources": [arn],
        "detail": {"DaysToExpiry": days, "CommonName": "kept.example.test"},
    }
    target = target_of(info)
    response = target.client("lambda").invoke(
        FunctionName=target.names.function("handle_expiry_event"), Payload=json.dumps(event)
    )
    body = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), body
    return dict(body)
