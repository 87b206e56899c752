"""The sandbox's DynamoDB takes a certificate's lock the way DynamoDB does: of two conditional writes at once, one wins.

moto checks a write's condition and then writes, with nothing in between to stop another request thread; the
sandbox makes each write one step (sandbox/aws.py). Without that, two executions started together could both take
the lock, and the fault tests about concurrency would pass or fail by chance.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import boto3
import moto.dynamodb.models as dynamodb_models
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.aws import make_dynamodb_writes_atomic

TABLE = "locks"


def take_lock(owner: str) -> str:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    try:
        table.update_item(
            Key={"name": "web"},
            UpdateExpression="SET lock_owner = :owner",
            ConditionExpression="attribute_not_exists(lock_owner)",
            ExpressionAttributeValues={":owner": owner},
        )
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "taken"


def test_of_two_lock_takers_at_once_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        # Given a table, and moto's condition check held until both writers have read the item (the worst timing)
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        both_read = threading.Barrier(2, timeout=1)
        parse_condition: Callable[..., Any] = dynamodb_models.create_condition_expression_parser

        def after_both_read(*args: Any, **kwargs: Any) -> Any:
            # a broken barrier: the other writer is not inside a write at the same time
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
            return parse_condition(*args, **kwargs)

        monkeypatch.setattr(dynamodb_models, "create_condition_expression_parser", after_both_read)
        make_dynamodb_writes_atomic()

        # When two executions take the lock at once
        outcomes: dict[str, str] = {}
        writers = [
            threading.Thread(target=lambda owner=owner: outcomes.__setitem__(owner, take_lock(owner)))
            for owner in ("first", "second")
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()

    # Then one took it and the other was told it is taken
    assert sorted(outcomes.values()) == ["ConditionalCheckFailedException", "taken"]
