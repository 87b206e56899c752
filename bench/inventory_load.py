"""A large inventory in the sandbox's table: items shaped like the sweep test's, written with batch_write_item.

Their names are in no hosted zone, so a renewal the sweep starts ends in its first state, writing nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable
from typing import Any

from bench.sandbox import BenchSandbox
from certlib.resources import RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET, RENEWAL_BUCKET_ATTRIBUTE
from certlib.utc import utc_iso

FIRST_RENEW_AFTER = dt.datetime(2090, 1, 1, tzinfo=dt.UTC)  # after any real certificate's renewal window
BATCH_SIZE = 25  # DynamoDB's limit per batch_write_item
MAX_ATTEMPTS = 10


def item_name(index: int) -> str:
    return f"fleet-{index:06d}"


def renew_after(index: int) -> dt.datetime:
    """Item i is due one minute after item i-1."""
    return FIRST_RENEW_AFTER + dt.timedelta(minutes=index)


def make_item(index: int, region: str) -> dict[str, Any]:
    name = item_name(index)
    return {
        "name": {"S": name},
        "domains": {"L": [{"S": f"{name}.fleet.invalid"}]},
        "account": {"S": "sandbox"},
        "key_type": {"S": "ec256"},
        "regions": {"L": [{"S": region}]},
        "status": {"S": "issued"},
        RENEWAL_BUCKET_ATTRIBUTE: {"S": RENEWAL_BUCKET},
        RENEW_AFTER_ATTRIBUTE: {"S": utc_iso(renew_after(index))},
    }


def load(sandbox: BenchSandbox, indices: Iterable[int]) -> float:
    """Write these items; returns the seconds it took. Raises RuntimeError when moto keeps items unprocessed."""
    table = f"{sandbox.prefix}-inventory"
    region = str(sandbox.info["region"])
    items = [make_item(index, region) for index in indices]
    started = time.monotonic()
    for start in range(0, len(items), BATCH_SIZE):
        requests: list[Any] = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]]
        for _ in range(MAX_ATTEMPTS):
            unprocessed = sandbox.dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems")
            requests = list((unprocessed or {}).get(table, []))
            if not requests:
                break
        else:
            raise RuntimeError(f"batch_write_item left {len(requests)} items unprocessed {MAX_ATTEMPTS} times")
    return time.monotonic() - started


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in bytes: attribute names plus values (strings as UTF-8, lists and maps with
    3 bytes plus 1 per element), as its read capacity is computed from."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return math.ceil(len(str(content).lstrip("-").replace(".", "")) / 2) + 1
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(key.encode()) + _value_size(element) for key, element in content.items())
    return 1  # BOOL, NULL


def read_units(total_bytes: int, strongly_consistent: bool = False) -> float:
    """Read capacity of one request that reads this many bytes: 4 KB units, half for eventual consistency."""
    units = max(1, math.ceil(total_bytes / 4096))
    return float(units if strongly_consistent else units / 2)
