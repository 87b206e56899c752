"""Each step's role writes only the inventory attributes its step owns (stacks/inventory_writes.py), on the sandbox
that enforces the synthesized policies: a write of another step's attribute is AccessDenied, as on AWS, and the same
role's own write (made by certlib's adapter, as the step makes it) still goes through.

Later steps trust what they read: the distribution (send_distribution sends to it), the ACM ARNs (re-imports go
there), the revocation sources (a revocation answer is checked against `revocation.issuer_pem`), the renewal date.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from certlib.adapters.aws_errors import AwsError
from certlib.adapters.dynamodb_table import DynamoDbTable
from certlib.adapters.inventory import (
    CERTIFICATE_ARNS,
    CERTIFICATE_NAME,
    DISTRIBUTION,
    DISTRIBUTION_COMMAND,
    LOCK_OWNER,
    ORDER_SLOT_PREFIX,
    ORDERS,
    QUEUED_EXECUTION,
    REVOCATION,
    REVOKED,
    SERIAL,
    STATUS,
    Inventory,
)
from certlib.distribution.steps import distribution_record
from certlib.resources import INVENTORY_PARTITION_KEY, RENEW_AFTER_ATTRIBUTE
from tests.lifecycle.helpers import target_of
from tests.security.test_iam_enforcement import NO_RETRIES, as_role, error_code, role_of

ACCESS_DENIED = "AccessDeniedException"
REQUEST = {"domains": ["owned.example.test"], "account": "sandbox", "key_type": "ec256", "regions": ["us-east-1"]}


def table_as(info: dict[str, Any], step: str) -> DynamoDbTable:
    """The inventory table through the step's role (no retries: a denial comes back at once)."""
    client = as_role(info, role_of(info, step), session_name=step).client(
        "dynamodb", endpoint_url=info["aws_endpoint_url"], config=NO_RETRIES
    )
    return DynamoDbTable(client, target_of(info).names.inventory_table)


def operator_table(info: dict[str, Any]) -> Any:
    target = target_of(info)
    return target.session.resource("dynamodb", endpoint_url=target.endpoint_url).Table(target.names.inventory_table)


def issued_item(info: dict[str, Any], **extra: Any) -> str:
    """An issued certificate's item, written by the operator (whose own writes are not limited): its name."""
    name = f"owned-{uuid.uuid4().hex[:10]}"
    operator_table(info).put_item(
        Item={
            INVENTORY_PARTITION_KEY: name,
            **REQUEST,
            STATUS: "issued",
            "serial": "0a1b",
            CERTIFICATE_ARNS: {"us-east-1": "arn:aws:acm:us-east-1:123456789012:certificate/owned"},
            RENEW_AFTER_ATTRIBUTE: "2099-01-01T00:00:00Z",
            REVOCATION: {"issuer_pem": "the issuer", "ocsp_url": "http://ocsp.example.test"},
            DISTRIBUTION: {"profile": "web"},
            **extra,
        }
    )
    return name


def write(table: Any, name: str, path: str, value: Any = "forged") -> Any:
    """A callable that SETs one attribute (or a path in one) of the item: what a compromised role would send."""
    top, _, rest = path.partition(".")
    return lambda: table.update_item(
        Key={INVENTORY_PARTITION_KEY: name},
        UpdateExpression=f"SET #top{'.' + rest if rest else ''} = :value",
        ExpressionAttributeNames={"#top": top},
        ExpressionAttributeValues={":value": value},
    )


@pytest.mark.parametrize(
    ("step", "forbidden"),
    [
        # the sweep and the revocation check: never the distribution, the ARNs or the renewal date
        ("check_revocations", DISTRIBUTION),
        ("check_revocations", CERTIFICATE_ARNS),
        ("start_renewal", RENEW_AFTER_ATTRIBUTE),
        ("start_renewal", DISTRIBUTION),
        ("handle_expiry_event", CERTIFICATE_ARNS),
        # distribution: never the renewal date or what a revocation answer is checked against
        ("send_distribution", RENEW_AFTER_ATTRIBUTE),
        ("send_distribution", f"{REVOCATION}.issuer_pem"),
        ("send_distribution", f"{REVOCATION}.ocsp_url"),
        ("record_distribution", STATUS),
        # the request's step: never the ARNs that re-imports go to, nor the distribution
        ("validate_request", CERTIFICATE_ARNS),
        ("validate_request", DISTRIBUTION),
        # the steps that only talk to the CA write no certificate item (create_order: its order alone)
        ("check_order", STATUS),
        ("store_certificate", SERIAL),
        ("create_order", STATUS),
    ],
)
def test_a_role_cannot_write_an_attribute_another_step_owns(sandbox: dict[str, Any], step: str, forbidden: str) -> None:
    # Given an issued certificate's item, and the step's role
    name = issued_item(sandbox)
    table = table_as(sandbox, step)
    # When the role SETs an attribute its step does not own, Then DynamoDB answers AccessDenied
    assert error_code(write(table, name, forbidden)) == ACCESS_DENIED
    # And the item is as it was
    item = operator_table(sandbox).get_item(Key={INVENTORY_PARTITION_KEY: name})["Item"]
    assert item[DISTRIBUTION] == {"profile": "web"}
    assert item[RENEW_AFTER_ATTRIBUTE] == "2099-01-01T00:00:00Z"
    assert item[REVOCATION]["issuer_pem"] == "the issuer"


def test_the_revocation_check_records_a_revocation_and_queues_the_replacement_but_nothing_else(
    sandbox: dict[str, Any],
) -> None:
    # Given an issued certificate, and check_revocations' role
    name = issued_item(sandbox)
    table = table_as(sandbox, "check_revocations")
    inventory = Inventory(table)
    # When it records the revocation and queues the renewal as the step does
    inventory.update(name, None, {STATUS: "revoked", REVOKED: {"serial": "0a1b"}}, event={"event": "revoked"})
    assert inventory.queue_renewal(name, "revoked-execution", stale_before=0) is True
    # Then both are on the item
    item = operator_table(sandbox).get_item(Key={INVENTORY_PARTITION_KEY: name})["Item"]
    assert (item[STATUS], item[QUEUED_EXECUTION]) == ("revoked", "revoked-execution")
    # But the same kind of write naming the distribution besides is refused whole
    with pytest.raises(AwsError, match=ACCESS_DENIED):
        inventory.update(name, None, {STATUS: "revoked", DISTRIBUTION: None})


def test_the_sweep_counts_orders_only_on_order_items_and_queues_only_on_certificate_items(
    sandbox: dict[str, Any],
) -> None:
    # Given an issued certificate, and start_renewal's role
    name = issued_item(sandbox)
    table = table_as(sandbox, "start_renewal")
    inventory = Inventory(table)
    # When it queues the renewal and counts the order as the step does, Then both go through
    assert inventory.queue_renewal(name, "renew-execution", stale_before=0) is True
    assert inventory.take_order_slot(f"sandbox-{uuid.uuid4().hex[:6]}", budget=5) is True
    # But an order count on a certificate's item, or a queue mark on an internal item, is refused (dynamodb:LeadingKeys)
    assert error_code(write(table, name, ORDERS, 1)) == ACCESS_DENIED
    assert error_code(write(table, f"{ORDER_SLOT_PREFIX}sandbox/0", QUEUED_EXECUTION)) == ACCESS_DENIED


def test_send_distribution_records_only_its_command(sandbox: dict[str, Any]) -> None:
    # Given an issued certificate, and send_distribution's role
    name = issued_item(sandbox)
    inventory = Inventory(table_as(sandbox, "send_distribution"))
    # When it records the command it sent (the export machine's: no lock), Then it goes through
    inventory.update(name, None, {DISTRIBUTION_COMMAND: {"command_id": "c-1", "serial": "0a1b"}})
    item = operator_table(sandbox).get_item(Key={INVENTORY_PARTITION_KEY: name})["Item"]
    assert item[DISTRIBUTION_COMMAND]["command_id"] == "c-1"
    # But the same write that also moves the renewal date is refused
    with pytest.raises(AwsError, match=ACCESS_DENIED):
        inventory.update(name, None, {DISTRIBUTION_COMMAND: {}, RENEW_AFTER_ATTRIBUTE: "2000-01-01T00:00:00Z"})


def test_record_distribution_records_the_outcome(sandbox: dict[str, Any]) -> None:
    # Given an exported certificate, and record_distribution's role
    name = issued_item(sandbox, **{DISTRIBUTION_COMMAND: {"command_id": "c-1"}})
    inventory = Inventory(table_as(sandbox, "record_distribution"))
    # When it records the nodes' outcome as the step does (and then a profile taken away), Then both go through
    outcome = {"status": "succeeded", "command_id": "c-1", "succeeded": ["i-1"], "failed": []}
    _, values, remove = distribution_record({"profile": "web"}, outcome, "execution")
    inventory.update(name, None, values, event={"event": "exported"}, remove=tuple(remove))
    _, values, remove = distribution_record(None, None, "execution")
    inventory.update(name, None, values, event={"event": "exported"}, remove=tuple(remove))
    item = operator_table(sandbox).get_item(Key={INVENTORY_PARTITION_KEY: name})["Item"]
    assert DISTRIBUTION not in item
    assert item[STATUS] == "issued"


def test_the_request_takes_the_lock_and_the_import_records_the_arns(sandbox: dict[str, Any]) -> None:
    # Given a new certificate name
    name = f"owned-{uuid.uuid4().hex[:10]}"
    arn = f"arn:aws:acm:us-east-1:123456789012:certificate/{uuid.uuid4()}"
    # When validate_request's role takes the lock and import_certificate's records an ARN, as the steps do
    Inventory(table_as(sandbox, "validate_request")).take_lock(name, "execution", 600, {**REQUEST, STATUS: "issuing"})
    import_table = table_as(sandbox, "import_certificate")
    importing = Inventory(import_table)
    importing.set_certificate_arn(name, "execution", "us-east-1", arn, has_arns=False)
    # Then the item has the lock, the request and the ARN, and the ARN names the certificate
    item = operator_table(sandbox).get_item(Key={INVENTORY_PARTITION_KEY: name})["Item"]
    assert (item[LOCK_OWNER], item[CERTIFICATE_ARNS]) == ("execution", {"us-east-1": arn})
    assert importing.name_for_arn(arn) == name
    # But import_certificate cannot put a whole item anywhere but at an ARN's key (it would replace a certificate)
    forged_owner = {INVENTORY_PARTITION_KEY: name, CERTIFICATE_NAME: "forged"}
    assert error_code(lambda: import_table.put_item(Item=forged_owner)) == ACCESS_DENIED
