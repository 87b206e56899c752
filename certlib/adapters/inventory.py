"""The DynamoDB inventory: one item per certificate, and the per-certificate lock.

Item fields: name (key), domains, account, key_type, regions, status, certificate_arns {region: arn},
secret_arn, serial, not_before, not_after, issued_at, last_error {step, error, message, at, execution},
lock_owner, lock_expires_at (epoch seconds), order_url + order_execution (the order in flight), history
(the last HISTORY_LENGTH events), created_at, updated_at. Distributed certificates (certlib.distribution) add
distribution (the targets), distribution_status, last_distribution (each node's outcome), distribution_command; ACM
exports add source ("acm") and certificate_arn.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import CertificateLocked
from certlib.resources import (
    INVENTORY_PARTITION_KEY,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_INDEX,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

HISTORY_LENGTH = 20
# Items that are not certificates (an ACME account's rate-limit pause) have names starting with this.
INTERNAL_PREFIX = "#"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Inventory:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            item = self._table.get_item(Key={INVENTORY_PARTITION_KEY: name}, ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise_classified(exc, f"reading inventory item {name!r}")
        return dict(item) if item else None

    def all(self) -> list[dict[str, Any]]:
        """Every item; for `certctl status` (the sweep queries an index instead)."""
        items: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {}
        try:
            while True:
                page = self._table.scan(**arguments)
                items.extend(
                    dict(item)
                    for item in page.get("Items", [])
                    if not str(item.get("name", "")).startswith(INTERNAL_PREFIX)
                )
                if "LastEvaluatedKey" not in page:
                    return items
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise_classified(exc, "reading the inventory")

    # --- the lock -------------------------------------------------------------------------------------------
    def take_lock(self, name: str, owner: str, ttl_seconds: int, request: dict[str, Any]) -> dict[str, Any]:
        """Take the certificate's lock for `owner` (again, when it holds it already) and record the request.

        Returns the item as it was before. Raises CertificateLocked naming the execution that holds the lock.
        """
        now = int(time.time())
        try:
            response = self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression=(
                    "SET lock_owner = :owner, lock_expires_at = :expires, domains = :domains, account = :account, "
                    "key_type = :key_type, regions = :regions, #status = :status, updated_at = :now_iso, "
                    "created_at = if_not_exists(created_at, :now_iso), certificate_arns = "
                    "if_not_exists(certificate_arns, :empty_map)"
                ),
                ConditionExpression="attribute_not_exists(lock_owner) OR lock_owner = :owner OR lock_expires_at < :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":owner": owner,
                    ":expires": now + ttl_seconds,
                    ":now": now,
                    ":now_iso": utc_now(),
                    ":domains": request["domains"],
                    ":account": request["account"],
                    ":key_type": request["key_type"],
                    ":regions": request["regions"],
                    ":status": request["status"],
                    ":empty_map": {},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                holder = (self.get(name) or {}).get("lock_owner", "another execution")
                raise CertificateLocked(
                    f"certificate {name!r} is being worked on by {holder}; this execution leaves it to that one"
                ) from None
            raise_classified(exc, f"taking the lock of {name!r}")
        return dict(response.get("Attributes", {}))

    def release_lock(self, name: str, owner: str) -> bool:
        """Release the lock if `owner` holds it; False when it does not (released already, or someone else's)."""
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression="REMOVE lock_owner, lock_expires_at",
                ConditionExpression="lock_owner = :owner",
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise_classified(exc, f"releasing the lock of {name!r}")
        return True

    # --- recording ------------------------------------------------------------------------------------------
    def update(
        self,
        name: str,
        owner: str | None,
        values: dict[str, Any],
        event: dict[str, Any] | None = None,
        remove: tuple[str, ...] = (),
    ) -> None:
        """SET `values` (and REMOVE `remove`) on an existing item, appending `event` to its history.

        With an `owner`, the write happens only while that execution holds the lock (a lost lock is CertificateLocked).
        """
        names = {f"#f{i}": field for i, field in enumerate(values)}
        expression_values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(values.values())}
        sets = [f"#f{i} = :v{i}" for i in range(len(values))]
        sets.append("updated_at = :updated_at")
        expression_values[":updated_at"] = utc_now()
        if event is not None:
            sets.append("history = list_append(if_not_exists(history, :no_history), :event)")
            expression_values[":no_history"] = []
            expression_values[":event"] = [{"at": utc_now(), **event}]
        expression = "SET " + ", ".join(sets)
        if remove:
            for j, field in enumerate(remove):
                names[f"#r{j}"] = field
            expression += " REMOVE " + ", ".join(f"#r{j}" for j in range(len(remove)))
        names["#key"] = INVENTORY_PARTITION_KEY
        condition = "attribute_exists(#key)"
        if owner is not None:
            condition += " AND lock_owner = :owner"
            expression_values[":owner"] = owner
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=expression_values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CertificateLocked(f"execution {owner} no longer holds the lock of {name!r}") from None
            raise_classified(exc, f"updating inventory item {name!r}")
        if event is not None:
            self._trim_history(name)

    def name_for_arn(self, arn: str) -> str | None:
        """The certificate an ACM ARN belongs to, when it is one of ours."""
        item = self.get(f"{INTERNAL_PREFIX}arn/{arn}") or {}
        return str(item["certificate_name"]) if item.get("certificate_name") else None

    def set_certificate_arn(self, name: str, owner: str, region: str, arn: str) -> None:
        """Record the region's ARN on the item, and ARN -> name for ACM's events (safe to repeat)."""
        try:
            self._table.put_item(
                Item={INVENTORY_PARTITION_KEY: f"{INTERNAL_PREFIX}arn/{arn}", "certificate_name": name}
            )
        except ClientError as exc:
            raise_classified(exc, f"recording the owner of {arn}")
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression="SET certificate_arns.#region = :arn, updated_at = :now",
                ConditionExpression="lock_owner = :owner",
                ExpressionAttributeNames={"#region": region},
                ExpressionAttributeValues={":arn": arn, ":owner": owner, ":now": utc_now()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CertificateLocked(f"execution {owner} no longer holds the lock of {name!r}") from None
            raise_classified(exc, f"recording the ACM ARN of {name!r} in {region}")

    def register_export(self, name: str, arn: str, region: str, values: dict[str, Any]) -> None:
        """Create or update the item of an ACM certificate exported for distribution, and ARN -> name for ACM's events.

        Only an item that is new or registered for this ARN is written (certlib.distribution.export checks first and
        says why; this condition holds when two registrations race). Raises CertificateLocked when it does not.
        """
        try:
            self._table.put_item(
                Item={INVENTORY_PARTITION_KEY: f"{INTERNAL_PREFIX}arn/{arn}", "certificate_name": name}
            )
        except ClientError as exc:
            raise_classified(exc, f"recording the owner of {arn}")
        fields = {**values, "status": "exported", "regions": [region], "certificate_arns": {region: arn}}
        names = {f"#f{i}": field for i, field in enumerate(fields)}
        expression_values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(fields.values())}
        expression_values.update({":arn": arn, ":now": utc_now()})
        names.update({"#key": INVENTORY_PARTITION_KEY, "#arn": "certificate_arn"})
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression="SET "
                + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
                + ", updated_at = :now, created_at = if_not_exists(created_at, :now)",
                ConditionExpression="attribute_not_exists(#key) OR #arn = :arn",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=expression_values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CertificateLocked(f"{name!r} is registered for another certificate") from None
            raise_classified(exc, f"registering {name!r} for export")

    # --- renewals -------------------------------------------------------------------------------------------
    def due_for_renewal(self, now_iso: str, limit: int) -> tuple[list[str], bool]:
        """Names whose renew_after has passed (oldest first, at most `limit`), and whether more are due.

        One Query on the sparse renewal index: the read cost follows the number of due certificates, not the
        size of the inventory.
        """
        names: list[str] = []
        arguments: dict[str, Any] = {
            "IndexName": RENEWAL_INDEX,
            "KeyConditionExpression": "#bucket = :bucket AND #after <= :now",
            "ExpressionAttributeNames": {"#bucket": RENEWAL_BUCKET_ATTRIBUTE, "#after": RENEW_AFTER_ATTRIBUTE},
            "ExpressionAttributeValues": {":bucket": RENEWAL_BUCKET, ":now": now_iso},
        }
        try:
            while len(names) <= limit:
                arguments["Limit"] = limit + 1 - len(names)
                page = self._table.query(**arguments)
                names.extend(str(item[INVENTORY_PARTITION_KEY]) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise_classified(exc, "querying the certificates due for renewal")
        return names[:limit], len(names) > limit

    def queue_renewal(self, name: str, execution: str, stale_before: int) -> bool:
        """Mark a renewal as started unless one is queued (since `stale_before`) or running; False when it is."""
        now = int(time.time())
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression="SET queued_execution = :execution, queued_at = :now",
                ConditionExpression=(
                    "attribute_exists(#key) AND (attribute_not_exists(queued_at) OR queued_at < :stale) "
                    "AND (attribute_not_exists(lock_owner) OR lock_expires_at < :now)"
                ),
                ExpressionAttributeNames={"#key": INVENTORY_PARTITION_KEY},
                ExpressionAttributeValues={":execution": execution, ":now": now, ":stale": stale_before},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise_classified(exc, f"queueing the renewal of {name!r}")
        return True

    def take_order_slot(self, alias: str, budget: int, window_seconds: int = 3 * 3600) -> bool:
        """Count one new order against the account's budget for the current window; False when it is spent."""
        window = int(time.time()) // window_seconds
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: f"{INTERNAL_PREFIX}acme-orders/{alias}/{window}"},
                UpdateExpression="ADD orders :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(orders) OR orders < :budget",
                ExpressionAttributeValues={":one": 1, ":budget": budget, ":expires": (window + 2) * window_seconds},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise_classified(exc, f"counting a new order of account {alias!r}")
        return True

    # --- an ACME account's pause after `rateLimited` --------------------------------------------------------------
    def acme_pause_until(self, alias: str) -> int:
        """Epoch seconds before which no request may go to the CA for this account (0: none)."""
        item = self.get(f"{INTERNAL_PREFIX}acme-account/{alias}") or {}
        return int(item.get("paused_until", 0))

    def pause_acme(self, alias: str, until: int) -> None:
        """Remember the CA's Retry-After for every container; only ever moves the pause later."""
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: f"{INTERNAL_PREFIX}acme-account/{alias}"},
                UpdateExpression="SET paused_until = :until, updated_at = :now",
                ConditionExpression="attribute_not_exists(paused_until) OR paused_until < :until",
                ExpressionAttributeValues={":until": until, ":now": utc_now()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise_classified(exc, f"recording the CA's Retry-After for account {alias!r}")

    # --- an ACME account's registration (validate_request reads it; the account key stays in Secrets Manager) --------
    def acme_registered_at(self, alias: str) -> str | None:
        """The directory URL the account is registered at, as ensure_account recorded it (None: not yet)."""
        item = self.get(f"{INTERNAL_PREFIX}acme-account/{alias}") or {}
        return str(item["registered_directory"]) if item.get("registered_directory") else None

    def record_acme_registration(self, alias: str, directory_url: str) -> None:
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: f"{INTERNAL_PREFIX}acme-account/{alias}"},
                UpdateExpression="SET registered_directory = :directory, updated_at = :now",
                ExpressionAttributeValues={":directory": directory_url, ":now": utc_now()},
            )
        except ClientError as exc:
            raise_classified(exc, f"recording the registration of ACME account {alias!r}")

    def _trim_history(self, name: str) -> None:
        item = self.get(name) or {}
        excess = len(item.get("history", [])) - HISTORY_LENGTH
        if excess <= 0:
            return
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression="REMOVE " + ", ".join(f"history[{i}]" for i in range(excess)),
            )
        except ClientError as exc:
            raise_classified(exc, f"trimming the history of {name!r}")
