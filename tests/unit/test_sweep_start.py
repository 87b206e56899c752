"""The sweep's StartRenewal on a batch of names, against moto: each account's order budget holds when its names
start at once, what is over budget stays due without a queue mark, a running renewal is in progress (not deferred)
whatever the budget, one name's error does not stop the others, and a batch's output stays bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from certlib.adapters.inventory import QUEUED_AT
from certlib.config import parse_accounts
from certlib.renewal.state import FindDueInput, RenewalBatch, RenewalResult, SweepInput
from certlib.renewal.sweep import (
    RESULTS_PER_BATCH,
    START_BATCH_SIZE,
    find_due_certificates,
    outcome_totals,
    start_batch,
    start_renewals,
)
from certlib.resources import (
    INVENTORY_PARTITION_KEY,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_INDEX,
)
from certlib.services import Services, aws_session
from certlib.settings import Settings
from sandbox.aws import make_dynamodb_writes_atomic

NOW = "2090-01-02T00:00:00Z"
BUDGET = 3


@pytest.fixture
def services() -> Iterator[Services]:
    # the batch starts its names from several threads: moto's conditional writes made one step each, as DynamoDB's
    make_dynamodb_writes_atomic()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.resource("dynamodb").create_table(
            TableName="inventory",
            KeySchema=[{"AttributeName": INVENTORY_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in (INVENTORY_PARTITION_KEY, RENEWAL_BUCKET_ATTRIBUTE, RENEW_AFTER_ATTRIBUTE)
            ],
            GlobalSecondaryIndexes=[  # as the stack's (stacks/constructs/inventory.py)
                {
                    "IndexName": RENEWAL_INDEX,
                    "KeySchema": [
                        {"AttributeName": RENEWAL_BUCKET_ATTRIBUTE, "KeyType": "HASH"},
                        {"AttributeName": RENEW_AFTER_ATTRIBUTE, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        lifecycle = session.client("stepfunctions").create_state_machine(
            name="lifecycle",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/lifecycle",
        )["stateMachineArn"]
        document = {
            "accounts": {
                "limited": [{"acme-endpoint": "https://ca.example/dir", "new-orders-per-3-hours": BUDGET}],
                "roomy": [{"acme-endpoint": "https://ca.example/dir"}],
            },
            "default-account": "limited",
        }
        config = parse_accounts(document).config
        session.client("ssm").put_parameter(Name="/p/config", Value=config.to_json(), Type="String")
        settings = Settings("inventory", "/p/config", "p/", "key", 600, lifecycle_state_machine_arn=lifecycle)
        yield Services(settings, aws_session("us-east-1"))


def add_due(services: Services, name: str, account: str) -> None:
    item = {"name": name, "domains": [f"{name}.example.test"], "account": account, "key_type": "ec256"}
    due = {RENEWAL_BUCKET_ATTRIBUTE: RENEWAL_BUCKET, RENEW_AFTER_ATTRIBUTE: "2090-01-01T00:00:00Z"}
    services.inventory._table.put_item(Item={**item, "status": "issued", **due})


def outcomes(results: list[RenewalResult]) -> dict[str, list[str]]:
    by_outcome: dict[str, list[str]] = {}
    for result in results:
        by_outcome.setdefault(result.outcome, []).append(result.name)
    return by_outcome


def test_a_batch_starts_within_each_accounts_budget_and_defers_the_rest(services: Services) -> None:
    # Given 10 due certificates of an account allowed 3 new orders per 3 hours, and 5 of an account allowed 300
    limited = [f"limited-{i}" for i in range(10)]
    roomy = [f"roomy-{i}" for i in range(5)]
    for name in limited:
        add_due(services, name, "limited")
    for name in roomy:
        add_due(services, name, "roomy")
    # When one batch starts them all at once
    results = start_batch([*limited, *roomy], NOW, services)
    # Then exactly 3 of the limited account start, the other 7 are deferred, and every roomy one starts
    by_outcome = outcomes(results)
    assert len(by_outcome["deferred"]) == 10 - BUDGET
    assert sorted(by_outcome["started"]) == sorted([*set(limited) - set(by_outcome["deferred"]), *roomy])
    assert all(result.execution_arn for result in results if result.outcome == "started")
    # And the deferred ones carry no queue mark: the next sweep finds them startable
    for name in by_outcome["deferred"]:
        assert QUEUED_AT not in (services.inventory.get(name) or {})
    # And a second batch starts nothing twice and nothing over budget: what runs is in progress, even where its
    # account's budget is spent, and only the deferred ones are deferred again
    again = outcomes(start_batch([*limited, *roomy], NOW, services))
    assert "started" not in again
    assert sorted(again["deferred"]) == sorted(by_outcome["deferred"])
    assert sorted(again["in_progress"]) == sorted(by_outcome["started"])


def test_one_certificates_error_does_not_stop_its_batch(services: Services) -> None:
    # Given a due certificate whose account is not configured any more, beside a good one
    add_due(services, "orphan", "removed-account")
    add_due(services, "good", "roomy")
    # When they start in one batch
    results = {result.name: result for result in start_batch(["orphan", "good"], NOW, services)}
    # Then the error is the orphan's result and the good one starts
    assert (results["orphan"].outcome, results["orphan"].error) == ("error", "ConfigError")
    assert results["good"].outcome == "started"


def test_the_due_names_go_to_the_map_in_batches(services: Services) -> None:
    # Given more due certificates than one batch holds
    for i in range(START_BATCH_SIZE + 2):
        add_due(services, f"c-{i:03d}", "roomy")
    # When the sweep finds them, and a dry run lists them
    due = find_due_certificates(FindDueInput(SweepInput(now=NOW), None, 2000), services).to_dict()
    listed = find_due_certificates(FindDueInput(SweepInput(True, NOW), None, 2000), services).to_dict()
    # Then every name is in exactly one batch, none larger than START_BATCH_SIZE, in the order the dry run lists them
    assert due["count"] == listed["count"] == START_BATCH_SIZE + 2
    assert [len(batch) for batch in due["batches"]] == [START_BATCH_SIZE, 2]
    assert [name for batch in due["batches"] for name in batch] == [entry["name"] for entry in listed["certificates"]]
    # And each carries only what its next state reads (the names once)
    assert "certificates" not in due
    assert "batches" not in listed


def test_a_batch_reports_counts_and_a_bounded_sample_errors_first(services: Services) -> None:
    # Given a full batch of due certificates, one of an account that is not configured any more
    names = [f"c-{i:03d}" for i in range(START_BATCH_SIZE)]
    for name in names[:-1]:
        add_due(services, name, "roomy")
    add_due(services, names[-1], "removed-account")
    # When one StartRenewal starts them
    output = start_renewals(RenewalBatch(tuple(names), NOW), services).to_dict()
    # Then the counts cover every name, the results name only a few, the error first, then started ones
    assert output["counts"] == {"started": START_BATCH_SIZE - 1, "error": 1}
    assert len(output["results"]) == RESULTS_PER_BATCH
    assert (output["results"][0]["name"], output["results"][0]["outcome"]) == (names[-1], "error")
    assert {result["outcome"] for result in output["results"][1:]} == {"started"}
    # And the sweep's totals add the batches' counts up
    summary = {"dry_run": False, "counts": [output["counts"], {"error": 1}], "results": output["results"]}
    assert outcome_totals(summary) == {"started": START_BATCH_SIZE - 1, "error": 2}


def test_order_slots_are_taken_as_many_as_the_budget_has_left(services: Services) -> None:
    # Given an account's budget of 5 with 3 counted already
    inventory = services.inventory
    assert inventory.take_order_slots("acct", 5, 3) == 3
    # When a batch asks for 4 more, then another for 1
    # Then it gets the 2 left (read from the refused write), and the next none
    assert inventory.take_order_slots("acct", 5, 4) == 2
    assert inventory.take_order_slots("acct", 5, 1) == 0
    # And orders given back can be taken again
    inventory.return_order_slots("acct", 2)
    assert inventory.take_order_slots("acct", 5, 9) == 2
    assert inventory.take_order_slot("acct", 5) is False
